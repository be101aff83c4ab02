/*
 * kernels/cpu/matmul.c - MatMul and Gemm.
 *
 * The reference is a plain row-times-matrix loop accumulating in double (in
 * 64-bit wrap-around integers for integer types): the spec, and the oracle of
 * tests/test_matmul.c. The fast path hands f32 products to OpenBLAS's sgemm:
 * when B has no batch dims, all of A's rows are one (batch*M,K) matrix and the
 * whole MatMul is a single sgemm (a Linear layer applied to (B,S,D)); otherwise
 * one sgemm per batch matrix (attention's (B,H,S,D)x(B,H,D,S)).
 *
 * MATMUL_T, the internal op of the gradients, is the same product with the
 * last two axes of A and/or B read transposed and the result scaled by alpha:
 * both paths take the transposes as strides (the reference) or as sgemm's
 * trans flags, so there is one kernel for the three.
 */
#define FT_MATMUL_INTERNAL
#include "cpu/matmul.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/util.h"

/*
 * A MatMul as a batch of 2-D products: output batch index b (row-major over
 * bdims) multiplies the A matrix at a_off(b) with the B matrix at b_off(b).
 */

// t is (...,R,C) (or (C) for A / (R) for B when 1-D); its batch dims right-aligned to s->brank
static void batch_steps(const ft_tensor *t, int64_t mat, const ft_mm_shape *s, int64_t *step)
{
	int tbr = t->rank > 2 ? t->rank - 2 : 0, off = s->brank - tbr;
	int64_t st = mat;
	for (int d = s->brank - 1; d >= 0; d--) {
		if (d < off || t->dims[d - off] == 1) {
			step[d] = 0;
		} else {
			step[d] = st;
			st *= t->dims[d - off];
		}
	}
}

// op(A) is (...,M,K), op(B) is (...,K,N); a transposed operand has rank >= 2 (checked by infer)
void ft_mm_shape_of(const ft_tensor *a, const ft_tensor *b, bool ta, bool tb, double alpha, ft_mm_shape *s)
{
	s->ta = ta;
	s->tb = tb;
	s->alpha = alpha;
	s->m = a->rank >= 2 ? a->dims[a->rank - (ta ? 1 : 2)] : 1;
	s->k = a->dims[a->rank - (ta ? 2 : 1)];
	s->n = b->rank >= 2 ? b->dims[b->rank - (tb ? 2 : 1)] : 1;
	int abr = a->rank > 2 ? a->rank - 2 : 0, bbr = b->rank > 2 ? b->rank - 2 : 0;
	s->brank = abr > bbr ? abr : bbr;
	s->batch = 1;
	for (int d = 0; d < s->brank; d++) {
		int64_t x = d - (s->brank - abr) >= 0 ? a->dims[d - (s->brank - abr)] : 1;
		int64_t y = d - (s->brank - bbr) >= 0 ? b->dims[d - (s->brank - bbr)] : 1;
		s->bdims[d] = x == 1 ? y : x;
		s->batch *= s->bdims[d];
	}
	batch_steps(a, s->m * s->k, s, s->astep);
	batch_steps(b, s->k * s->n, s, s->bstep);
	s->b_shared = bbr == 0;
}

void ft_mm_offsets(const ft_mm_shape *s, int64_t bi, int64_t *aoff, int64_t *boff)
{
	int64_t ao = 0, bo = 0;
	for (int d = s->brank - 1; d >= 0; d--) {
		int64_t idx = bi % s->bdims[d];
		bi /= s->bdims[d];
		ao += idx * s->astep[d];
		bo += idx * s->bstep[d];
	}
	*aoff = ao;
	*boff = bo;
}

/*
 * One output row block of the reference:
 *   y[i,j] = alpha * sum_k A[i*sai + k*sak] * B[k*sbk + j*sbj] (+ beta * c[i*csi + j*csj])
 * for i in [0,m), j in [0,n); y rows are n apart. acc holds n accumulators.
 * ACC is the accumulator type, SACC the signed type its value is read as.
 */
#define FT_MM_REF(NAME, T, ACC, SACC)                                                                       \
	static void NAME(T *y, const T *a, const T *b, const T *c, int64_t m, int64_t k, int64_t n,        \
			 int64_t sai, int64_t sak, int64_t sbk, int64_t sbj, int64_t csi, int64_t csj,      \
			 double alpha, double beta, ACC *acc)                                               \
	{                                                                                                   \
		for (int64_t i = 0; i < m; i++) {                                                           \
			for (int64_t j = 0; j < n; j++)                                                     \
				acc[j] = 0;                                                                 \
			for (int64_t kk = 0; kk < k; kk++) {                                                \
				ACC av = (ACC)a[i * sai + kk * sak];                                        \
				const T *br = b + kk * sbk;                                                 \
				for (int64_t j = 0; j < n; j++)                                             \
					acc[j] += av * (ACC)br[j * sbj];                                    \
			}                                                                                   \
			T *yr = y + i * n;                                                                  \
			for (int64_t j = 0; j < n; j++) {                                                   \
				if (c)                                                                      \
					yr[j] = (T)(alpha * (double)(SACC)acc[j] + beta * (double)c[i * csi + j * csj]); \
				else if (alpha != 1.0)                                                      \
					yr[j] = (T)(alpha * (double)(SACC)acc[j]);                                  \
				else                                                                        \
					yr[j] = (T)(SACC)acc[j];                                                    \
			}                                                                                   \
		}                                                                                           \
	}

FT_MM_REF(mm_ref_f32, float, double, double)
FT_MM_REF(mm_ref_f64, double, double, double)
FT_MM_REF(mm_ref_i32, int32_t, uint64_t, int64_t)
FT_MM_REF(mm_ref_i64, int64_t, uint64_t, int64_t)

/* Strided 2-D product of one matrix pair by the reference, dispatched on dtype. */
typedef struct mm_call {
	ft_dtype dtype;
	void *y;
	const void *a, *b, *c;
	int64_t m, k, n, sai, sak, sbk, sbj, csi, csj;
	double alpha, beta;
} mm_call;

// does rows [i0,i1) of the call, y/a/c advanced to row i0; acc has room for n 8-byte accumulators
static void mm_ref_rows(const mm_call *p, int64_t i0, int64_t i1, void *acc)
{
	size_t es = ft_dtype_size(p->dtype);
	char *y = (char *)p->y + (size_t)(i0 * p->n) * es;
	const char *a = (const char *)p->a + (size_t)(i0 * p->sai) * es;
	const char *c = p->c ? (const char *)p->c + (size_t)(i0 * p->csi) * es : NULL;
	int64_t m = i1 - i0;

#define MM_ARGS(T) (T *)y, (const T *)a, (const T *)p->b, (const T *)c, m, p->k, p->n, p->sai, p->sak, p->sbk, \
		   p->sbj, p->csi, p->csj, p->alpha, p->beta
	switch (p->dtype) {
	case FT_F32: mm_ref_f32(MM_ARGS(float), acc); break;
	case FT_F64: mm_ref_f64(MM_ARGS(double), acc); break;
	case FT_I32: mm_ref_i32(MM_ARGS(int32_t), acc); break;
	case FT_I64: mm_ref_i64(MM_ARGS(int64_t), acc); break;
	default: FT_ASSERT(!"matmul dtype checked by infer");
	}
#undef MM_ARGS
}

/* the reference kernels' scratch: one row of n double accumulators per thread */
static size_t ref_scratch(int64_t n)
{
	return (size_t)ft_mm_threads() * (size_t)(n + 1) * 8;
}

size_t ft_cpu_matmul_scratch(const ft_graph *g, const ft_node *n)
{
	const ft_tensor *y = ft_out(g, n, 0);
	return y->rank ? ref_scratch(y->dims[y->rank - 1]) : ref_scratch(1);
}

/* reference MatMul: every (batch, row) pair is an independent task */
static void matmul_ref(const ft_tensor *ta, const ft_tensor *tb, ft_tensor *ty, const ft_mm_shape *s)
{
	size_t es = ft_dtype_size(ty->dtype);
	int64_t tasks = s->batch * s->m;
	char *scratch = ft_cpu_scratch(ref_scratch(s->n));

	#pragma omp parallel
	{
		void *acc = scratch + (size_t)ft_cpu_thread() * (size_t)(s->n + 1) * 8;
		#pragma omp for schedule(static)
		for (int64_t t = 0; t < tasks; t++) {
			int64_t bi = t / s->m, i = t % s->m, ao, bo;
			ft_mm_offsets(s, bi, &ao, &bo);
			mm_call p = {
				.dtype = ty->dtype,
				.y = (char *)ty->data + (size_t)(bi * s->m * s->n) * es,
				.a = (const char *)ta->data + (size_t)ao * es,
				.b = (const char *)tb->data + (size_t)bo * es,
				.m = s->m, .k = s->k, .n = s->n,
				.sai = s->ta ? 1 : s->k, .sak = s->ta ? s->m : 1,
				.sbk = s->tb ? 1 : s->n, .sbj = s->tb ? s->k : 1,
				.alpha = s->alpha,
			};
			mm_ref_rows(&p, i, i + 1, acc);
		}
	}
}

static bool fits_int(int64_t x)
{
	return x <= INT_MAX;
}

/*
 * The fast path's threading: OpenBLAS runs single-threaded and the products
 * are split over ftrun's OpenMP threads, each calling sgemm on its part. On
 * two cores this beats OpenBLAS's own pool (ViT's (1576,768)x(768,3072): 29 ms
 * against 35 ms) and, above all, leaves no OpenBLAS worker spinning on a core
 * that the next OpenMP kernel needs.
 *
 * A job is `batch` products of the same shape, C(m,n) = alpha op(A) op(B) +
 * beta C; each is cut into `parts` slabs of rows (or of columns when n > m).
 */
typedef struct sgemm_job {
	bool ta, tb;
	int64_t m, n, k, lda, ldb, ldc;
	float alpha, beta;
	const float *a, *b;
	float *c;
	const ft_mm_shape *s; /* batch offsets of A and B; NULL for one product */
} sgemm_job;

/* Below this many multiply-adds a job runs on the calling thread alone. */
enum { MM_PARALLEL_MIN = 1 << 15 };

// rows [i0,i1) and columns [j0,j1) of product bi
static void sgemm_part(const sgemm_job *j, int64_t bi, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
	int64_t ao = 0, bo = 0;
	if (j->s)
		ft_mm_offsets(j->s, bi, &ao, &bo);
	const float *a = j->a + ao + (j->ta ? i0 : i0 * j->lda);
	const float *b = j->b + bo + (j->tb ? j0 * j->ldb : j0);
	float *c = j->c + bi * j->m * j->ldc + i0 * j->ldc + j0;
	ft_sgemm(j->ta, j->tb, i1 - i0, j1 - j0, j->k, j->alpha, a, j->lda, b, j->ldb, j->beta, c, j->ldc);
}

static void sgemm_run(const sgemm_job *j, int64_t batch)
{
	int nt = ft_mm_threads();
	// whole products per thread when they share out evenly, else every product cut in nt slabs
	int64_t parts = batch % nt == 0 || batch >= 8 * nt ? 1 : nt;
	bool by_rows = j->m >= j->n;
	int64_t len = by_rows ? j->m : j->n, tasks = batch * parts;
	bool par = nt > 1 && (double)batch * (double)j->m * (double)j->n * (double)j->k >= MM_PARALLEL_MIN;

	ft_blas_set_threads(1);
	#pragma omp parallel for schedule(static) if (par)
	for (int64_t t = 0; t < tasks; t++) {
		int64_t bi = t / parts, p = t % parts;
		int64_t lo = len * p / parts, hi = len * (p + 1) / parts;
		if (lo == hi)
			continue;
		if (by_rows)
			sgemm_part(j, bi, lo, hi, 0, j->n);
		else
			sgemm_part(j, bi, 0, j->m, lo, hi);
	}
}

/* f32 MatMul through sgemm; false when the shape is not one it takes */
static bool matmul_blas(const ft_tensor *ta, const ft_tensor *tb, ft_tensor *ty, const ft_mm_shape *s)
{
	if (!ft_have_blas || ty->dtype != FT_F32 || s->k == 0)
		return false;
	if (!fits_int(s->batch * s->m) || !fits_int(s->n) || !fits_int(s->k))
		return false;
	sgemm_job j = {
		.ta = s->ta, .tb = s->tb, .m = s->m, .n = s->n, .k = s->k,
		.lda = s->ta ? s->m : s->k, .ldb = s->tb ? s->k : s->n, .ldc = s->n,
		.alpha = (float)s->alpha, .beta = 0.0f, .a = ta->data, .b = tb->data, .c = ty->data, .s = s,
	};
	if (s->b_shared && !s->ta) {
		// y (batch*M,N) = A (batch*M,K) x op(B) (K,N): A's batch rows are contiguous
		j.m = s->batch * s->m;
		j.s = NULL;
		sgemm_run(&j, 1);
	} else {
		sgemm_run(&j, s->batch);
	}
	return true;
}

bool ft_cpu_matmul_has_fast(void)
{
	return ft_have_blas;
}

/* MatMul (MATMUL_T when transposed is set) by the reference or, where it takes the shape, sgemm */
static ft_status matmul(const ft_graph *g, ft_node *n, bool transposed, bool fast)
{
	const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1);
	ft_tensor *y = ft_out(g, n, 0);
	bool ta = transposed && ft_attr_int(n, "transA", 0) != 0;
	bool tb = transposed && ft_attr_int(n, "transB", 0) != 0;
	double alpha = transposed ? ft_attr_float(n, "alpha", 1.0f) : 1.0;
	ft_mm_shape s;

	// op(A) is (...,M,K) or (K), op(B) is (...,K,N) or (K), y is (batch...,M,N) less promoted dims
	ft_mm_shape_of(a, b, ta, tb, alpha, &s);
	if (y->numel == 0)
		return FT_OK;
	if (!fast || !matmul_blas(a, b, y, &s))
		matmul_ref(a, b, y, &s);
	return FT_OK;
}

ft_status ft_cpu_matmul_ref(const ft_graph *g, ft_node *n)
{
	return matmul(g, n, false, false);
}

ft_status ft_cpu_matmul(const ft_graph *g, ft_node *n)
{
	return matmul(g, n, false, true);
}

ft_status ft_cpu_matmul_t_ref(const ft_graph *g, ft_node *n)
{
	return matmul(g, n, true, false);
}

ft_status ft_cpu_matmul_t(const ft_graph *g, ft_node *n)
{
	return matmul(g, n, true, true);
}

/* Gemm's arguments: op(A) is (M,K), op(B) is (K,N), C broadcasts to (M,N). */
typedef struct gemm_args {
	bool ta, tb;
	int64_t m, k, n;
	int64_t csi, csj; /* C's strides over (M,N), 0 on broadcast axes */
	double alpha, beta;
} gemm_args;

static void gemm_args_of(const ft_node *n, const ft_tensor *a, const ft_tensor *b, const ft_tensor *c,
			 gemm_args *ga)
{
	ga->ta = ft_attr_int(n, "transA", 0) != 0;
	ga->tb = ft_attr_int(n, "transB", 0) != 0;
	ga->alpha = ft_attr_float(n, "alpha", 1.0f);
	ga->beta = ft_attr_float(n, "beta", 1.0f);
	ga->m = ga->ta ? a->dims[1] : a->dims[0];
	ga->k = ga->ta ? a->dims[0] : a->dims[1];
	ga->n = ga->tb ? b->dims[0] : b->dims[1];
	ga->csi = ga->csj = 0;
	if (c) {
		// C is (), (N), (1,N), (M,1), (M,N) or with 1s in place of M/N
		int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
		ga->csi = cm == 1 ? 0 : cn;
		ga->csj = cn == 1 ? 0 : 1;
	}
}

static void gemm_ref(const ft_tensor *a, const ft_tensor *b, const ft_tensor *c, ft_tensor *y,
		     const gemm_args *ga)
{
	// A is (M,K) or (K,M) with transA, B is (K,N) or (N,K) with transB
	mm_call p = {
		.dtype = y->dtype, .y = y->data, .a = a->data, .b = b->data, .c = c ? c->data : NULL,
		.m = ga->m, .k = ga->k, .n = ga->n,
		.sai = ga->ta ? 1 : ga->k, .sak = ga->ta ? ga->m : 1,
		.sbk = ga->tb ? 1 : ga->n, .sbj = ga->tb ? ga->k : 1,
		.csi = ga->csi, .csj = ga->csj,
		.alpha = ga->alpha, .beta = ga->beta,
	};
	char *scratch = ft_cpu_scratch(ref_scratch(ga->n));
	#pragma omp parallel
	{
		void *acc = scratch + (size_t)ft_cpu_thread() * (size_t)(ga->n + 1) * 8;
		#pragma omp for schedule(static)
		for (int64_t i = 0; i < ga->m; i++)
			mm_ref_rows(&p, i, i + 1, acc);
	}
}

static bool gemm_blas(const ft_tensor *a, const ft_tensor *b, const ft_tensor *c, ft_tensor *y,
		      const gemm_args *ga)
{
	if (!ft_have_blas || y->dtype != FT_F32 || ga->k == 0)
		return false;
	if (!fits_int(ga->m) || !fits_int(ga->n) || !fits_int(ga->k))
		return false;
	float *yd = y->data, beta = 0.0f;
	if (c) {
		// y = C broadcast to (M,N), then sgemm adds alpha * op(A) op(B) to beta * y
		const float *cd = c->data;
		for (int64_t i = 0; i < ga->m; i++)
			for (int64_t j = 0; j < ga->n; j++)
				yd[i * ga->n + j] = cd[i * ga->csi + j * ga->csj];
		beta = (float)ga->beta;
	}
	sgemm_job j = {
		.ta = ga->ta, .tb = ga->tb, .m = ga->m, .n = ga->n, .k = ga->k,
		.lda = a->dims[1], .ldb = b->dims[1], .ldc = ga->n,
		.alpha = (float)ga->alpha, .beta = beta, .a = a->data, .b = b->data, .c = yd,
	};
	sgemm_run(&j, 1);
	return true;
}

ft_status ft_cpu_gemm_ref(const ft_graph *g, ft_node *n)
{
	const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1), *c = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0);
	gemm_args ga;

	gemm_args_of(n, a, b, c, &ga);
	gemm_ref(a, b, c, y, &ga);
	return FT_OK;
}

ft_status ft_cpu_gemm(const ft_graph *g, ft_node *n)
{
	const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1), *c = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0);
	gemm_args ga;

	// y is (M,N)
	gemm_args_of(n, a, b, c, &ga);
	if (y->numel == 0)
		return FT_OK;
	if (!gemm_blas(a, b, c, y, &ga))
		gemm_ref(a, b, c, y, &ga);
	return FT_OK;
}
