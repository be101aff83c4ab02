/* layout.h - the channels-last pass (runtime/layout.c). */
#ifndef FT_LAYOUT_H
#define FT_LAYOUT_H

#include "ir.h"

/*
 * On a forward graph (after the autocast pass, before autodiff): the 2-D convolutions
 * without groups, the BatchNorms after them and the elementwise ops between them take
 * their rank-4 operands channels last (ft_channels_last, ir.h), with Transposes where the
 * graph enters and leaves that region. A graph with a grouped convolution is left as it is.
 * *taken: the convolutions made channels last.
 */
ft_status ft_layout_pass(ft_graph *g, int *taken);

#endif
