/* cuda_conv.h - the convolutions of the CUDA backend (runtime/cuda_conv.c, cuDNN), and the
 * little the CUDA runtime's files (backend_cuda.c, cuda_conv.c, nccl_grads.c) share. */
#ifndef FT_CUDA_CONV_H
#define FT_CUDA_CONV_H

#include <cuda_runtime_api.h>

#include "cuda/ft_cuda.h"
#include "cuda_gemm.h"
#include "ir.h"

/* a CUDA runtime call's failure as an error naming what failed */
static inline ft_status ft_cuda_check(cudaError_t e, const char *what)
{
	if (e == cudaSuccess)
		return FT_OK;
	return ft_error(FT_ERUNTIME, "CUDA: %s: %s", what, cudaGetErrorString(e));
}

/* the kernels' storage type (ft_cu_dtype) of t, -1 for a type they do not store */
static inline int ft_cuda_dtype(ft_dtype t)
{
	return t == FT_F32 ? FT_CU_F32 : t == FT_F16 ? FT_CU_F16 : t == FT_BF16 ? FT_CU_BF16 : -1;
}

/*
 * x, an operand of n, as (batch, channels, the product of the other dims); a channels-last
 * node's (N, H, W, C) as (N H W, C, 1): the same memory order, one channel per position
 */
static inline void ft_cuda_ncs(const ft_node *n, const ft_tensor *x, int64_t *nb, int64_t *ch, int64_t *sp)
{
	if (x->rank == 4 && ft_channels_last(n)) {
		*nb = x->dims[0] * x->dims[1] * x->dims[2];
		*ch = x->dims[3];
		*sp = 1;
		return;
	}
	*nb = x->dims[0];
	*ch = x->dims[1];
	*sp = 1;
	for (int i = 2; i < x->rank; i++)
		*sp *= x->dims[i];
}

/* Conv, ft.ConvGradInput, ft.ConvGradWeight: 2-D, float32/float16/bfloat16, symmetric padding */
bool ft_cuda_conv_supported(const ft_graph *g, const ft_node *n);
/* descriptors and algorithm into n->extra; *scratch: the algorithm's workspace (handle: a cudnnHandle_t) */
ft_status ft_cuda_conv_prepare(void *handle, const ft_graph *g, ft_node *n, size_t *scratch);
/* blas: the products of the 1 x 1 convolutions that run as such (cuda_gemm.c) */
ft_status ft_cuda_conv_run(void *handle, ft_cuda_blas *blas, const ft_graph *g, ft_node *n, void *workspace,
			  size_t workspace_bytes);
void ft_cuda_conv_release(ft_node *n);

#endif
