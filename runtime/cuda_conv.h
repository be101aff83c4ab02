/* cuda_conv.h - the convolutions of the CUDA backend (runtime/cuda_conv.c, cuDNN). */
#ifndef FT_CUDA_CONV_H
#define FT_CUDA_CONV_H

#include "ir.h"

/* Conv, ft.ConvGradInput, ft.ConvGradWeight: 2-D, float32, symmetric padding */
bool ft_cuda_conv_supported(const ft_graph *g, const ft_node *n);
/* descriptors and algorithm into n->extra; *scratch: the algorithm's workspace (handle: a cudnnHandle_t) */
ft_status ft_cuda_conv_prepare(void *handle, const ft_graph *g, ft_node *n, size_t *scratch);
ft_status ft_cuda_conv_run(void *handle, const ft_graph *g, ft_node *n, void *workspace, size_t workspace_bytes);
void ft_cuda_conv_release(ft_node *n);

#endif
