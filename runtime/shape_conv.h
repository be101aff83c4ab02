/*
 * shape_conv.h - the window geometry of Conv, MaxPool and AveragePool.
 *
 * Shape inference, the CPU kernels (and later the CUDA kernels and the
 * gradient rules) all need the same numbers: kernel extent, strides,
 * dilations and the explicit begin/end padding of every spatial axis after
 * auto_pad has been resolved against the input's shape. ft_conv_geometry()
 * is the one place that derives them from a node's attributes, so the
 * attributes themselves are never rewritten (an exported model keeps its
 * auto_pad).
 *
 * Invariants after ft_conv_geometry() returns FT_OK:
 *   - 1 <= nsp <= FT_CONV_MAX_SPATIAL, every kernel/stride/dilation >= 1,
 *     every pad >= 0, every out[i] >= 1;
 *   - for Conv: c_in == w_cin * group, c_out % group == 0, and the bias (if
 *     any) has c_out elements.
 */
#ifndef FT_SHAPE_CONV_H
#define FT_SHAPE_CONV_H

#include "ir.h"

#define FT_CONV_MAX_SPATIAL 3

typedef struct ft_conv_geom {
	int nsp;                               /* spatial rank (input rank - 2) */
	int64_t n, c_in, c_out, group;         /* c_out == c_in for pools, group 1 */
	int64_t w_cin;                         /* Conv: input channels per group (W.dims[1]) */
	int64_t in[FT_CONV_MAX_SPATIAL];       /* input spatial dims */
	int64_t out[FT_CONV_MAX_SPATIAL];      /* output spatial dims */
	int64_t kernel[FT_CONV_MAX_SPATIAL];
	int64_t stride[FT_CONV_MAX_SPATIAL];
	int64_t dil[FT_CONV_MAX_SPATIAL];
	int64_t pad_begin[FT_CONV_MAX_SPATIAL];
	int64_t pad_end[FT_CONV_MAX_SPATIAL];
} ft_conv_geom;

/*
 * Fills geom for a Conv, MaxPool or AveragePool node from its attributes and
 * its inputs' shapes (X, and W for Conv). Fails with a node error naming the
 * shapes involved when they do not fit together.
 */
ft_status ft_conv_geometry(const ft_graph *g, const ft_node *n, ft_conv_geom *geom);

#endif
