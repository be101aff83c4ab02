/*
 * kernels/cpu/matmul.h - matrix products on the CPU: the reference kernels
 * (the spec, and the oracle the fast path is tested against) and the shim
 * over OpenBLAS's sgemm that the fast path uses when the build found it.
 *
 * Threads: the fast path splits each product over the OpenMP threads
 * (omp_get_max_threads(), i.e. what omp_set_num_threads() set) and runs
 * OpenBLAS single-threaded inside them; it sets OpenBLAS's own pool to one
 * thread before each use, so its pthreads never compete with OpenMP's.
 */
#ifndef FT_CPU_MATMUL_H
#define FT_CPU_MATMUL_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"

/* MatMul and Gemm computed by the plain C loops only (no BLAS), for tests. */
ft_status ft_cpu_matmul_ref(const ft_graph *g, ft_node *n);
ft_status ft_cpu_gemm_ref(const ft_graph *g, ft_node *n);
/* MATMUL_T (MatMul with transA/transB and alpha) by the plain C loops only */
ft_status ft_cpu_matmul_t_ref(const ft_graph *g, ft_node *n);
/* true when ft_cpu_matmul/ft_cpu_gemm have a faster path than the reference */
bool ft_cpu_matmul_has_fast(void);

/* A batched product y = alpha op(A) op(B) with numpy batch broadcasting (MatMul, ft.MatMulT). */
typedef struct ft_mm_shape {
	int64_t batch, m, k, n;
	int brank;
	int64_t bdims[FT_MAX_RANK];
	int64_t astep[FT_MAX_RANK], bstep[FT_MAX_RANK]; /* elements per batch index; 0 when broadcast */
	bool b_shared;                                  /* B has no batch dims */
	bool ta, tb;                                    /* A stored (...,K,M), B stored (...,N,K) */
	double alpha;                                   /* y = alpha * op(A) op(B) */
} ft_mm_shape;

/* op(A) is (...,M,K) or (K), op(B) is (...,K,N) or (K); y is the broadcast batch of (M,N) */
void ft_mm_shape_of(const ft_tensor *a, const ft_tensor *b, bool ta, bool tb, double alpha, ft_mm_shape *s);
/* the element offsets of batch index bi's A and B matrices */
void ft_mm_offsets(const ft_mm_shape *s, int64_t bi, int64_t *aoff, int64_t *boff);

#ifdef FT_MATMUL_INTERNAL /* for kernels/cpu/matmul.c only */

#ifdef _OPENMP
#include <omp.h>
static inline int ft_mm_threads(void) { return omp_get_max_threads(); }
#else
static inline int ft_mm_threads(void) { return 1; }
#endif

#if defined(FT_HAVE_BLAS) && FT_HAVE_BLAS
#include <cblas.h>
static const bool ft_have_blas = true;
static inline void ft_blas_set_threads(int n)
{
	if (openblas_get_num_threads() != n)
		openblas_set_num_threads(n);
}
/* row-major C(m,n) = alpha * op(A) op(B) + beta * C */
static inline void ft_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
			    int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)m,
		    (blasint)n, (blasint)k, alpha, a, (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}
#else
static const bool ft_have_blas = false;
static inline void ft_blas_set_threads(int n) { (void)n; }
static inline void ft_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
			    int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc)
{
	FT_ASSERT(!"ft_sgemm without BLAS");
}
#endif

#endif /* FT_MATMUL_INTERNAL */

#endif
