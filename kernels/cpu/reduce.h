/*
 * kernels/cpu/reduce.h - what shape inference and the kernels of the
 * reductions share: which axes a Reduce* node reduces, and the view of a
 * Softmax input as (outer, axis, inner).
 */
#ifndef FT_CPU_REDUCE_H
#define FT_CPU_REDUCE_H

#include <stdbool.h>

#include "ir.h"

/*
 * The axes a Reduce* node reduces over its input x, from the "axes" attribute
 * (ReduceSum before opset 13, the others before 18) or the constant second
 * input: mask[d] is set for each reduced axis d of x. No axes means all axes,
 * or, with noop_with_empty_axes=1, none (*noop is set and y = x).
 * Fails with a node error on an axis out of range or given twice.
 */
ft_status ft_reduce_axes(const ft_graph *g, const ft_node *n, const ft_tensor *x, bool mask[FT_MAX_RANK],
			 bool *noop);

/*
 * Softmax/LogSoftmax over x as (outer, len, inner): from opset 13 one axis
 * (default -1); before, x is coerced to 2-D at axis (default 1) and the
 * softmax runs over the whole second half (inner = 1).
 */
ft_status ft_softmax_view(const ft_graph *g, const ft_node *n, const ft_tensor *x, int64_t *outer,
			  int64_t *len, int64_t *inner);

#endif
