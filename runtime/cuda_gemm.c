/*
 * cuda_gemm.c - the CUDA backend's matrix products (Gemm, MatMul, ft.MatMulT).
 *
 * cuBLASLt runs them: one plan per product shape (its descriptors, the matrix
 * layouts and the algorithm its heuristics put first), made at the first product
 * of that shape and reused, so a training step asks the heuristics nothing after
 * its first run. A Gemm's bias of one value per output column goes into the
 * product's epilogue (CUBLASLT_EPILOGUE_BIAS): added to the float32 sum before
 * the one rounding into y, where it took a pass of its own writing y before the
 * product read it back.
 *
 * cuBLAS (cublasGemmEx and its strided-batched form) runs a product cuBLASLt has
 * no algorithm for, and every product under FT_CUBLASLT=0 (to measure one against
 * the other); a bias is then written into y first and the product added to it.
 *
 * cuBLAS and cuBLASLt are column-major: y (m, n) row-major is y^T (n, m)
 * column-major, so both compute y^T = op(B)^T op(A)^T on the same bytes, B as
 * their first operand.
 *
 * The epilogues that do not fit: cuBLASLt's GELU is the tanh approximation
 * (ONNX's Gelu and PyTorch's default are erf's), and its bias gradient
 * (BGRADB) would need the weight gradient's product and the bias's sum, two nodes
 * of the training graph, made one (not written).
 */
#include "cuda_gemm.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <stdlib.h>
#include <string.h>

#include "base.h"
#include "cuda_conv.h"

typedef struct plan_key { /* (no padding: keys are compared bytewise) */
	int32_t dt, yt, ta, tb, bias;
	int32_t align[5]; /* A, B, C = D, the bias: the bytes each pointer is aligned to, at most 256 */
	int64_t m, n, k, batch, sa, sb;
} plan_key;

typedef struct plan {
	plan_key key;
	bool lt; /* false: cuBLASLt found no algorithm, cuBLAS runs it */
	cublasLtMatmulDesc_t op;
	cublasLtMatrixLayout_t la, lb, ly;
	cublasLtMatmulAlgo_t algo;
	size_t ws;
} plan;

struct ft_cuda_blas {
	cudaStream_t stream;
	cublasHandle_t blas;
	cublasLtHandle_t lt;
	void *ws;
	size_t ws_bytes;
	bool lt_off; /* FT_CUBLASLT=0 */
	plan *plans;
	int n_plans, cap_plans;
	int64_t n_lt, n_legacy;
};

static ft_status blas_check(cublasStatus_t e, const char *what)
{
	if (e == CUBLAS_STATUS_SUCCESS)
		return FT_OK;
	return ft_error(FT_ERUNTIME, "cuBLAS: %s: %s", what, cublasGetStatusString(e));
}

ft_status ft_cuda_blas_new(cudaStream_t s, void *ws, size_t ws_bytes, ft_cuda_blas **out)
{
	ft_cuda_blas *b = ft_xcalloc(1, sizeof(*b));
	b->stream = s;
	b->ws = ws;
	b->ws_bytes = ws_bytes;
	b->lt_off = ft_env_off("FT_CUBLASLT");
	/* float32 products stay float32: no TF32 unless asked (issue 5 compares in plain fp32) */
	ft_status st = blas_check(cublasCreate(&b->blas), "cublasCreate");
	if (!st)
		st = blas_check(cublasSetStream(b->blas, s), "cublasSetStream");
	if (!st)
		st = blas_check(cublasSetMathMode(b->blas, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
	if (!st)
		st = blas_check(cublasLtCreate(&b->lt), "cublasLtCreate");
	if (st) {
		ft_cuda_blas_free(b);
		return st;
	}
	*out = b;
	return FT_OK;
}

void ft_cuda_blas_free(ft_cuda_blas *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->n_plans; i++) {
		plan *p = &b->plans[i];
		if (p->op)
			cublasLtMatmulDescDestroy(p->op);
		if (p->la)
			cublasLtMatrixLayoutDestroy(p->la);
		if (p->lb)
			cublasLtMatrixLayoutDestroy(p->lb);
		if (p->ly)
			cublasLtMatrixLayoutDestroy(p->ly);
	}
	free(b->plans);
	if (b->lt)
		cublasLtDestroy(b->lt);
	if (b->blas)
		cublasDestroy(b->blas);
	free(b);
}

void ft_cuda_blas_counts(const ft_cuda_blas *b, int64_t *lt, int64_t *legacy)
{
	*lt = b->n_lt;
	*legacy = b->n_legacy;
}

static cudaDataType_t cuda_type(ft_dtype t)
{
	return t == FT_F16 ? CUDA_R_16F : t == FT_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

/* the largest power of two up to 256 dividing the address of every matrix: base + i stride elements */
static int alignment(const void *base, int64_t stride, int64_t batch, size_t es)
{
	uintptr_t v = (uintptr_t)base | 256;
	if (batch > 1)
		v |= (uintptr_t)(stride * (int64_t)es);
	return (int)(v & (~v + 1));
}

static bool lt_ok(cublasStatus_t e)
{
	return e == CUBLAS_STATUS_SUCCESS;
}

/* a column-major layout of rows x cols, leading dimension rows, batch matrices stride apart */
static bool layout(cublasLtMatrixLayout_t *l, ft_dtype t, int64_t rows, int64_t cols, int64_t batch, int64_t stride)
{
	if (!lt_ok(cublasLtMatrixLayoutCreate(l, cuda_type(t), (uint64_t)rows, (uint64_t)cols, rows)))
		return false;
	if (batch == 1)
		return true;
	int32_t count = (int32_t)batch;
	return lt_ok(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count))) &&
	       lt_ok(cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
						      sizeof(stride)));
}

/*
 * cuBLASLt's plan for key: its descriptors and first heuristic algorithm, or p->lt false. The
 * heuristics read the bias pointer's alignment from the descriptor (cublasLt.h), so bias is set
 * before they are asked; a later bias of another alignment has a key, and a plan, of its own.
 */
static void make_plan(ft_cuda_blas *b, plan *p, const void *bias)
{
	const plan_key *k = &p->key;
	ft_dtype dt = (ft_dtype)k->dt, yt = (ft_dtype)k->yt;
	cublasOperation_t opb = k->tb ? CUBLAS_OP_T : CUBLAS_OP_N, opa = k->ta ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasLtEpilogue_t epi = k->bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
	p->lt = false;
	if (!lt_ok(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F)) ||
	    !lt_ok(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &opb, sizeof(opb))) ||
	    !lt_ok(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &opa, sizeof(opa))) ||
	    !lt_ok(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof(epi))) ||
	    (bias && !lt_ok(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
							  sizeof(bias)))))
		return;
	/* cuBLASLt's A is our B: op(B)^T is (n, k); its B is our A: op(A)^T is (k, m); y^T is (n, m) */
	if (!layout(&p->la, dt, k->tb ? k->k : k->n, k->tb ? k->n : k->k, k->batch, k->sb) ||
	    !layout(&p->lb, dt, k->ta ? k->m : k->k, k->ta ? k->k : k->m, k->batch, k->sa) ||
	    !layout(&p->ly, yt, k->n, k->m, k->batch, k->m * k->n))
		return;
	cublasLtMatmulPreference_t pref = NULL;
	if (!lt_ok(cublasLtMatmulPreferenceCreate(&pref)))
		return;
	uint64_t ws = b->ws_bytes;
	uint32_t al[4] = { (uint32_t)k->align[1], (uint32_t)k->align[0], (uint32_t)k->align[2], (uint32_t)k->align[3] };
	cublasLtMatmulHeuristicResult_t r;
	int got = 0;
	bool ok = lt_ok(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
							      sizeof(ws))) &&
		  lt_ok(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &al[0],
							      sizeof(al[0]))) &&
		  lt_ok(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &al[1],
							      sizeof(al[1]))) &&
		  lt_ok(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &al[2],
							      sizeof(al[2]))) &&
		  lt_ok(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al[3],
							      sizeof(al[3]))) &&
		  lt_ok(cublasLtMatmulAlgoGetHeuristic(b->lt, p->op, p->la, p->lb, p->ly, p->ly, pref, 1, &r, &got)) &&
		  got > 0 && r.state == CUBLAS_STATUS_SUCCESS;
	cublasLtMatmulPreferenceDestroy(pref);
	if (!ok)
		return;
	p->algo = r.algo;
	p->ws = r.workspaceSize;
	p->lt = true;
}

static plan *plan_for(ft_cuda_blas *b, const ft_gemm *g)
{
	plan_key k;
	memset(&k, 0, sizeof(k));
	k.dt = g->dt;
	k.yt = g->yt;
	k.ta = g->ta;
	k.tb = g->tb;
	k.bias = g->bias != NULL;
	k.m = g->m;
	k.n = g->n;
	k.k = g->k;
	k.batch = g->batch;
	k.sa = g->batch > 1 ? g->sa : 0;
	k.sb = g->batch > 1 ? g->sb : 0;
	size_t es = ft_dtype_size(g->dt), ys = ft_dtype_size(g->yt);
	k.align[0] = alignment(g->a, g->sa, g->batch, es);
	k.align[1] = alignment(g->b, g->sb, g->batch, es);
	k.align[2] = k.align[3] = alignment(g->y, g->m * g->n, g->batch, ys);
	k.align[4] = g->bias ? alignment(g->bias, 0, 1, ys) : 0;
	for (int i = 0; i < b->n_plans; i++)
		if (memcmp(&b->plans[i].key, &k, sizeof(k)) == 0)
			return &b->plans[i];
	if (b->n_plans == b->cap_plans) {
		b->cap_plans = b->cap_plans ? 2 * b->cap_plans : 32;
		b->plans = ft_xrealloc(b->plans, sizeof(plan) * (size_t)b->cap_plans);
	}
	plan *p = &b->plans[b->n_plans++];
	memset(p, 0, sizeof(*p));
	memcpy(&p->key, &k, sizeof(k));
	make_plan(b, p, g->bias);
	return p;
}

/* cuBLAS: y = alpha op(A) op(B) + beta y, one call (strided-batched for a batch) */
static ft_status legacy(ft_cuda_blas *b, const ft_gemm *g, float beta)
{
	cublasOperation_t opb = g->tb ? CUBLAS_OP_T : CUBLAS_OP_N, opa = g->ta ? CUBLAS_OP_T : CUBLAS_OP_N;
	int n = (int)g->n, m = (int)g->m, k = (int)g->k;
	int ldb = (int)(g->tb ? g->k : g->n), lda = (int)(g->ta ? g->m : g->k);
	float alpha = g->alpha;
	b->n_legacy++;
	if (g->batch > 1) {
		if (g->dt == FT_F32)
			return blas_check(cublasSgemmStridedBatched(b->blas, opb, opa, n, m, k, &alpha, g->b, ldb, g->sb,
								    g->a, lda, g->sa, &beta, g->y, n, g->m * g->n,
								    (int)g->batch),
					  "sgemmStridedBatched");
		return blas_check(cublasGemmStridedBatchedEx(b->blas, opb, opa, n, m, k, &alpha, g->b, cuda_type(g->dt), ldb,
							     g->sb, g->a, cuda_type(g->dt), lda, g->sa, &beta, g->y,
							     cuda_type(g->yt), n, g->m * g->n, (int)g->batch,
							     CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
				  "gemmStridedBatchedEx");
	}
	if (g->dt == FT_F32)
		return blas_check(cublasSgemm(b->blas, opb, opa, n, m, k, &alpha, g->b, ldb, g->a, lda, &beta, g->y, n),
				  "sgemm");
	return blas_check(cublasGemmEx(b->blas, opb, opa, n, m, k, &alpha, g->b, cuda_type(g->dt), ldb, g->a,
				       cuda_type(g->dt), lda, &beta, g->y, cuda_type(g->yt), n, CUBLAS_COMPUTE_32F,
				       CUBLAS_GEMM_DEFAULT),
			  "gemmEx");
}

ft_status ft_cuda_gemm(ft_cuda_blas *b, const ft_gemm *g)
{
	if (g->m > INT32_MAX || g->n > INT32_MAX || g->k > INT32_MAX || g->batch > INT32_MAX)
		return ft_error(FT_EUNSUPPORTED, "a matrix product of %lld x %lld x %lld (batch %lld) is beyond cuBLAS's int "
				"sizes", (long long)g->m, (long long)g->n, (long long)g->k, (long long)g->batch);
	if (g->bias && (g->batch != 1 || g->beta != 0))
		return ft_error(FT_ERUNTIME, "a bias with a batch of products, or with beta %g", (double)g->beta);
	if (g->m == 0 || g->n == 0 || g->batch == 0)
		return FT_OK;
	size_t ybytes = (size_t)(g->m * g->n * g->batch) * ft_dtype_size(g->yt);
	if (g->k == 0) { /* an empty sum: y = bias + beta y (the libraries refuse leading dimensions of 0) */
		if (g->bias)
			return ft_cuda_check(ft_cu_gemm_bias(ft_cuda_dtype(g->yt), g->y, true, g->bias, g->m, g->n, 0, 1,
							  1.0f, b->stream),
					     "empty product's bias");
		return g->beta != 0 ? FT_OK : ft_cuda_check(cudaMemsetAsync(g->y, 0, ybytes, b->stream), "empty product");
	}
	bool shared = g->batch > 1 && (g->sa == 0 || g->sb == 0); /* (cuBLAS's strided batch takes a stride 0) */
	plan *p = b->lt_off || shared ? NULL : plan_for(b, g);
	if (p && p->lt) {
		/* (the bias pointer is read when the product is queued: a CUDA graph keeps its value) */
		float alpha = g->alpha, beta = g->beta;
		if ((!g->bias || lt_ok(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g->bias,
								       sizeof(g->bias)))) &&
		    lt_ok(cublasLtMatmul(b->lt, p->op, &alpha, g->b, p->la, g->a, p->lb, &beta, g->y, p->ly, g->y, p->ly,
					 &p->algo, b->ws, p->ws, b->stream))) {
			b->n_lt++;
			return FT_OK;
		}
		p->lt = false; /* refused when queued: this shape goes to cuBLAS from now on */
	}
	if (!g->bias)
		return legacy(b, g, g->beta);
	FT_TRY(ft_cuda_check(ft_cu_gemm_bias(ft_cuda_dtype(g->yt), g->y, true, g->bias, g->m, g->n, 0, 1, 1.0f,
					     b->stream),
			     "Gemm bias"));
	return legacy(b, g, 1.0f);
}
