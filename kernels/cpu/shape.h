/*
 * kernels/cpu/shape.h - what shape inference and the kernels of the "shapes and
 * data movement" family share: the per-axis parameters of Slice, Pad and
 * Transpose, read from the node's attributes and constant inputs.
 *
 * The functions are defined in runtime/shape_shape.c. Inference calls them to
 * validate and size the outputs; a kernel (CPU now, CUDA later) calls them again
 * to get the same numbers, so both always agree. They only read constant
 * inputs, which have data at inference and at run time alike.
 */
#ifndef FT_CPU_SHAPE_H
#define FT_CPU_SHAPE_H

#include "ir.h"

/* Slice: out[i0,i1,..] = x[start0 + i0*step0, start1 + i1*step1, ..] on every axis
 * (axes the node does not slice have start 0, step 1 and their full size). */
typedef struct ft_slice_params {
	int rank;
	int64_t start[FT_MAX_RANK];
	int64_t step[FT_MAX_RANK];
	int64_t dims[FT_MAX_RANK]; /* the output's dims */
} ft_slice_params;

ft_status ft_slice_params_get(const ft_graph *g, const ft_node *n, ft_slice_params *p);

typedef enum ft_pad_mode {
	FT_PAD_CONSTANT,
	FT_PAD_REFLECT,
	FT_PAD_EDGE,
} ft_pad_mode;

/* Pad: on every axis, begin elements before and end after (negative: cropped). */
typedef struct ft_pad_params {
	ft_pad_mode mode;
	int rank;
	int64_t begin[FT_MAX_RANK];
	int64_t end[FT_MAX_RANK];
	int64_t dims[FT_MAX_RANK]; /* the output's dims */
} ft_pad_params;

ft_status ft_pad_params_get(const ft_graph *g, const ft_node *n, ft_pad_params *p);

/* Transpose: output axis i is input axis perm[i] (default: reversed). */
ft_status ft_transpose_perm(const ft_graph *g, const ft_node *n, int rank, int *perm);
/* Transpose's kernel on plain memory (kernels/cpu/shape.c): y = x (rank, xdims) with output axis i
   input axis perm[i], es-byte elements */
void ft_cpu_permute(void *y, const void *x, int rank, const int64_t *xdims, const int *perm, size_t es);

/* Shape (opset 15 start/end): the output holds dims [*start, *end) of a rank-r input. */
static inline void ft_shape_range(const ft_node *n, int rank, int64_t *start, int64_t *end)
{
	int64_t s = ft_attr_int(n, "start", 0), e = ft_attr_int(n, "end", rank);
	if (s < 0)
		s += rank;
	if (e < 0)
		e += rank;
	s = s < 0 ? 0 : s > rank ? rank : s;
	e = e < 0 ? 0 : e > rank ? rank : e;
	*start = s;
	*end = e > s ? e : s;
}

#endif
