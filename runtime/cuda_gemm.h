/* cuda_gemm.h - the matrix products of the CUDA backend (runtime/cuda_gemm.c): cuBLASLt, with
 * the bias added in its epilogue, and cuBLAS where cuBLASLt offers no algorithm. */
#ifndef FT_CUDA_GEMM_H
#define FT_CUDA_GEMM_H

#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>

#include "ir.h"

typedef struct ft_cuda_blas ft_cuda_blas;

/*
 * y = alpha op(A) op(B) + bias + beta y, row-major, batch products with matrix i at
 * a + i sa, b + i sb, y + i m n (element strides; sb = 0: B shared). op(A) is (m, k), op(B)
 * (k, n), y (m, n). A and B are of type dt, y of type yt (dt, or float32 for a
 * low-precision product kept in float32). bias: NULL, or n values of type yt added to every
 * row (then batch is 1 and beta 0). Sums in float32, without TF32 for float32.
 */
typedef struct ft_gemm {
	ft_dtype dt, yt;
	bool ta, tb;
	int64_t m, n, k, batch;
	float alpha, beta;
	const void *a, *b, *bias;
	int64_t sa, sb;
	void *y;
} ft_gemm;

/* on stream s; cuBLASLt's workspace is ws (ws_bytes, 256-byte aligned), the caller's */
ft_status ft_cuda_blas_new(cudaStream_t s, void *ws, size_t ws_bytes, ft_cuda_blas **out);
void ft_cuda_blas_free(ft_cuda_blas *b);
ft_status ft_cuda_gemm(ft_cuda_blas *b, const ft_gemm *p);
/* the products cuBLASLt ran and those that went to cuBLAS, so far (FT_PROFILE's report) */
void ft_cuda_blas_counts(const ft_cuda_blas *b, int64_t *lt, int64_t *legacy);

#endif
