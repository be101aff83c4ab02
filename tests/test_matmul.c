/*
 * test_matmul.c - MatMul and Gemm: the reference kernel against a naive
 * numpy-semantics loop written here independently (broadcast batch dims, 1-D
 * operands), and the fast path (OpenBLAS sgemm) against the reference, on
 * random shapes.
 *
 * Tolerances. Both comparisons are per element and scale with
 * S = sum_k |a_ik| |b_kj| (|alpha| S + |beta| |c| for Gemm), computed by the
 * same kernel on |A|, |B|, |C|:
 *   - reference vs naive: both accumulate in double and round once to float,
 *     so they agree to a couple of float ulps: 4 * FLT_EPSILON * S.
 *   - fast vs reference: sgemm accumulates in float in an order of its own;
 *     a sum of K products has error at most about K * u * S (u = FLT_EPSILON/2,
 *     Higham's gamma_K), so the bound is (K + 2) * FLT_EPSILON * S. An indexing
 *     bug is off by about S / sqrt(K), far above it.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "cpu/matmul.h"
#include "cpu/util.h"

static int failures;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static double urand(void) /* in [-1, 1) */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / (double)(1ull << 52) - 1.0;
}

static int irand(int lo, int hi) /* in [lo, hi] */
{
	return lo + (int)((urand() + 1.0) * 0.5 * (hi - lo + 1)) % (hi - lo + 1);
}

static int new_tensor(ft_graph *g, const char *name, ft_dtype dt, int rank, const int64_t *dims)
{
	int id = ft_graph_new_tensor(g, name);
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, dt, rank, dims);
	t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t) + 64));
	return id;
}

static void fill(ft_tensor *t)
{
	for (int64_t i = 0; i < t->numel; i++) {
		double v = urand();
		switch (t->dtype) {
		case FT_F32: ((float *)t->data)[i] = (float)v; break;
		case FT_F64: ((double *)t->data)[i] = v; break;
		case FT_I32: ((int32_t *)t->data)[i] = (int32_t)(v * 10); break;
		default: FT_ASSERT(!"dtype");
		}
	}
}

static double get(const ft_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case FT_F32: return ((float *)t->data)[i];
	case FT_F64: return ((double *)t->data)[i];
	case FT_I32: return ((int32_t *)t->data)[i];
	default: FT_ASSERT(!"dtype");
	}
	return 0;
}

static void abs_copy(ft_tensor *dst, const ft_tensor *src)
{
	for (int64_t i = 0; i < src->numel; i++) {
		double v = fabs(get(src, i));
		switch (src->dtype) {
		case FT_F32: ((float *)dst->data)[i] = (float)v; break;
		case FT_F64: ((double *)dst->data)[i] = v; break;
		case FT_I32: ((int32_t *)dst->data)[i] = (int32_t)v; break;
		default: FT_ASSERT(!"dtype");
		}
	}
}

static const char *shape(const ft_tensor *t, char *buf)
{
	return ft_shape_str(t, buf, 128);
}

/*
 * numpy.matmul written out: y[idx] for every output multi-index, reading A
 * and B through their own (broadcast) multi-indices.
 */
static void naive_matmul(double *y, const ft_tensor *a, const ft_tensor *b, const ft_tensor *out)
{
	int ra = a->rank, rb = b->rank;
	int64_t k = a->dims[ra - 1];
	int64_t as[FT_MAX_RANK], bs[FT_MAX_RANK];
	ft_strides(ra, a->dims, as);
	ft_strides(rb, b->dims, bs);

	// output axes: batch..., then M if A is not 1-D, then N if B is not 1-D
	int obr = out->rank - (ra > 1) - (rb > 1);
	for (int64_t o = 0; o < out->numel; o++) {
		int64_t idx[FT_MAX_RANK], rem = o;
		for (int d = out->rank - 1; d >= 0; d--) {
			idx[d] = rem % out->dims[d];
			rem /= out->dims[d];
		}
		int64_t i = ra > 1 ? idx[obr] : 0, j = rb > 1 ? idx[out->rank - 1] : 0;
		int64_t abase = 0, bbase = 0;
		for (int d = 0; d < ra - 2; d++) {
			int od = obr - (ra - 2) + d;
			abase += (a->dims[d] == 1 ? 0 : idx[od]) * as[d];
		}
		for (int d = 0; d < rb - 2; d++) {
			int od = obr - (rb - 2) + d;
			bbase += (b->dims[d] == 1 ? 0 : idx[od]) * bs[d];
		}
		double s = 0;
		for (int64_t kk = 0; kk < k; kk++) {
			int64_t ai = abase + (ra > 1 ? i * as[ra - 2] : 0) + kk;
			int64_t bi = bbase + kk * (rb > 1 ? bs[rb - 2] : 1) + (rb > 1 ? j : 0);
			s += get(a, ai) * get(b, bi);
		}
		y[o] = s;
	}
}

/* compares got to want element-wise within tol * bound[i] (+ a tiny floor) */
static bool close_all(const char *what, const ft_tensor *got, const double *want, const ft_tensor *bound,
		      double tol)
{
	for (int64_t i = 0; i < got->numel; i++) {
		double g = get(got, i), w = want[i], lim = tol * get(bound, i) + 1e-30;
		if (!(fabs(g - w) <= lim)) {
			printf("  %s: element %lld is %.9g, expected %.9g (|diff| %.3g > %.3g)\n", what, (long long)i, g,
			       w, fabs(g - w), lim);
			return false;
		}
	}
	return true;
}

static void check_matmul(ft_dtype dt, int ra, const int64_t *adims, int rb, const int64_t *bdims)
{
	ft_graph *g = ft_graph_new("test_matmul");
	g->opset = 17;
	int ia = new_tensor(g, "a", dt, ra, adims), ib = new_tensor(g, "b", dt, rb, bdims);
	int iaa = new_tensor(g, "abs_a", dt, ra, adims), iab = new_tensor(g, "abs_b", dt, rb, bdims);
	int iy = ft_graph_new_tensor(g, "y"), iref = ft_graph_new_tensor(g, "ref"), ibnd = ft_graph_new_tensor(g, "bnd");
	ft_node *n = ft_graph_add_node(g, FT_OP_MATMUL, "mm", 2, 1);
	ft_node *nb = ft_graph_add_node(g, FT_OP_MATMUL, "bound", 2, 1);
	n->in[0] = ia, n->in[1] = ib, n->out[0] = iy;
	nb->in[0] = iaa, nb->in[1] = iab, nb->out[0] = ibnd;
	char s1[128], s2[128];
	bool ok = true;

	fill(&g->tensors[ia]);
	fill(&g->tensors[ib]);
	abs_copy(&g->tensors[iaa], &g->tensors[ia]);
	abs_copy(&g->tensors[iab], &g->tensors[ib]);
	if (ft_infer_matmul(g, n) != FT_OK || ft_infer_matmul(g, nb) != FT_OK) {
		printf("FAIL matmul %s x %s: infer: %s\n", shape(&g->tensors[ia], s1), shape(&g->tensors[ib], s2),
		       ft_last_error());
		failures++;
		goto out_free_graph;
	}
	ft_tensor *y = &g->tensors[iy], *bnd = &g->tensors[ibnd], *ref = &g->tensors[iref];
	ft_tensor_set_shape(ref, y->dtype, y->rank, y->dims);
	y->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	ref->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	bnd->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	double *naive = ft_graph_own(g, ft_xmalloc(sizeof(double) * (size_t)(y->numel + 1)));
	int64_t k = adims[ra - 1];

	FT_ASSERT(ft_cpu_matmul_ref(g, nb) == FT_OK);
	naive_matmul(naive, &g->tensors[ia], &g->tensors[ib], y);

	// reference vs the naive loop
	int iref_node_out = n->out[0];
	n->out[0] = iref;
	FT_ASSERT(ft_cpu_matmul_ref(g, n) == FT_OK);
	n->out[0] = iref_node_out;
	ok &= close_all("reference vs naive", ref, naive, bnd, dt == FT_F32 ? 4 * FLT_EPSILON : 4 * DBL_EPSILON);

	// fast path vs the reference
	FT_ASSERT(ft_cpu_matmul(g, n) == FT_OK);
	double *refd = ft_graph_own(g, ft_xmalloc(sizeof(double) * (size_t)(y->numel + 1)));
	for (int64_t i = 0; i < y->numel; i++)
		refd[i] = get(ref, i);
	ok &= close_all("fast vs reference", y, refd, bnd,
			(double)(k + 2) * (dt == FT_F32 ? FLT_EPSILON : DBL_EPSILON));

	printf("%s matmul %s %s x %s -> %s\n", ok ? "ok  " : "FAIL", ft_dtype_name(dt), shape(&g->tensors[ia], s1),
	       shape(&g->tensors[ib], s2), shape(y, s1 + 64));
	if (!ok)
		failures++;
out_free_graph:
	ft_graph_free(g);
}

/* Gemm with op(A) (m,k), op(B) (k,n), C of rank crank with dims cdims (crank < 0: no C) */
static void check_gemm(bool ta, bool tb, int64_t m, int64_t k, int64_t nn, int crank, const int64_t *cdims,
		       float alpha, float beta)
{
	ft_graph *g = ft_graph_new("test_gemm");
	g->opset = 17;
	int64_t adims[2] = {ta ? k : m, ta ? m : k}, bdims[2] = {tb ? nn : k, tb ? k : nn};
	int ia = new_tensor(g, "a", FT_F32, 2, adims), ib = new_tensor(g, "b", FT_F32, 2, bdims);
	int iaa = new_tensor(g, "abs_a", FT_F32, 2, adims), iab = new_tensor(g, "abs_b", FT_F32, 2, bdims);
	int ic = crank >= 0 ? new_tensor(g, "c", FT_F32, crank, cdims) : -1;
	int iac = crank >= 0 ? new_tensor(g, "abs_c", FT_F32, crank, cdims) : -1;
	int iy = ft_graph_new_tensor(g, "y"), iref = ft_graph_new_tensor(g, "ref"), ibnd = ft_graph_new_tensor(g, "bnd");
	ft_node *n = ft_graph_add_node(g, FT_OP_GEMM, "gemm", 3, 1);
	ft_node *nb = ft_graph_add_node(g, FT_OP_GEMM, "bound", 3, 1);
	n->in[0] = ia, n->in[1] = ib, n->in[2] = ic, n->out[0] = iy;
	nb->in[0] = iaa, nb->in[1] = iab, nb->in[2] = iac, nb->out[0] = ibnd;
	ft_node *both[2] = {n, nb};
	for (int i = 0; i < 2; i++) {
		ft_node_set_int(g, both[i], "transA", ta);
		ft_node_set_int(g, both[i], "transB", tb);
		ft_node_set_float(g, both[i], "alpha", i ? fabsf(alpha) : alpha);
		ft_node_set_float(g, both[i], "beta", i ? fabsf(beta) : beta);
	}
	char s1[128];
	bool ok = true;

	fill(&g->tensors[ia]);
	fill(&g->tensors[ib]);
	abs_copy(&g->tensors[iaa], &g->tensors[ia]);
	abs_copy(&g->tensors[iab], &g->tensors[ib]);
	if (ic >= 0) {
		fill(&g->tensors[ic]);
		abs_copy(&g->tensors[iac], &g->tensors[ic]);
	}
	if (ft_import_gemm(g, n) != FT_OK || ft_infer_gemm(g, n) != FT_OK || ft_infer_gemm(g, nb) != FT_OK) {
		printf("FAIL gemm: %s\n", ft_last_error());
		failures++;
		goto out_free_graph;
	}
	ft_tensor *y = &g->tensors[iy], *bnd = &g->tensors[ibnd], *ref = &g->tensors[iref];
	ft_tensor_set_shape(ref, y->dtype, y->rank, y->dims);
	y->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	ref->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	bnd->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	FT_ASSERT(ft_cpu_gemm_ref(g, nb) == FT_OK);

	// the naive loop: y[i,j] = alpha * sum_k op(A)[i,k] op(B)[k,j] + beta * C[i,j] (broadcast)
	double *naive = ft_graph_own(g, ft_xmalloc(sizeof(double) * (size_t)(m * nn + 1)));
	const ft_tensor *a = &g->tensors[ia], *b = &g->tensors[ib];
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < nn; j++) {
			double s = 0;
			for (int64_t kk = 0; kk < k; kk++)
				s += get(a, ta ? kk * m + i : i * k + kk) * get(b, tb ? j * k + kk : kk * nn + j);
			s *= alpha;
			if (ic >= 0) {
				const ft_tensor *c = &g->tensors[ic];
				int64_t ci = 0;
				if (crank == 2)
					ci = (c->dims[0] == 1 ? 0 : i) * c->dims[1] + (c->dims[1] == 1 ? 0 : j);
				else if (crank == 1)
					ci = c->dims[0] == 1 ? 0 : j;
				s += beta * get(c, ci);
			}
			naive[i * nn + j] = s;
		}

	int yid = n->out[0];
	n->out[0] = iref;
	FT_ASSERT(ft_cpu_gemm_ref(g, n) == FT_OK);
	n->out[0] = yid;
	ok &= close_all("reference vs naive", ref, naive, bnd, 4 * FLT_EPSILON);

	FT_ASSERT(ft_cpu_gemm(g, n) == FT_OK);
	double *refd = ft_graph_own(g, ft_xmalloc(sizeof(double) * (size_t)(m * nn + 1)));
	for (int64_t i = 0; i < m * nn; i++)
		refd[i] = get(ref, i);
	ok &= close_all("fast vs reference", y, refd, bnd, (double)(k + 3) * FLT_EPSILON);

	printf("%s gemm transA=%d transB=%d (%lld,%lld)x(%lld,%lld) C %s alpha %g beta %g\n", ok ? "ok  " : "FAIL",
	       ta, tb, (long long)m, (long long)k, (long long)k, (long long)nn,
	       ic >= 0 ? shape(&g->tensors[ic], s1) : "none", alpha, beta);
	if (!ok)
		failures++;
out_free_graph:
	ft_graph_free(g);
}

/* a copy of t (rank >= 2) with its last two axes swapped */
static int transposed_copy(ft_graph *g, const char *name, int src)
{
	const ft_tensor *t = &g->tensors[src];
	int64_t dims[FT_MAX_RANK];
	int r = t->rank;
	memcpy(dims, t->dims, sizeof(dims));
	dims[r - 2] = t->dims[r - 1];
	dims[r - 1] = t->dims[r - 2];
	int id = new_tensor(g, name, t->dtype, r, dims);
	t = &g->tensors[src];
	const ft_tensor *o = &g->tensors[id];
	int64_t rows = t->dims[r - 2], cols = t->dims[r - 1], mats = rows * cols > 0 ? t->numel / (rows * cols) : 0;
	for (int64_t b = 0; b < mats; b++)
		for (int64_t i = 0; i < rows; i++)
			for (int64_t j = 0; j < cols; j++) {
				int64_t from = b * rows * cols + i * cols + j, to = b * rows * cols + j * rows + i;
				if (t->dtype == FT_F32)
					((float *)o->data)[to] = ((const float *)t->data)[from];
				else
					((double *)o->data)[to] = ((const double *)t->data)[from];
			}
	return id;
}

/*
 * MATMUL_T (the gradients' product): alpha * op(A) op(B) for stored A and B
 * (adims/bdims, already transposed where ta/tb), against alpha times the naive
 * numpy loop on explicitly transposed copies; then the fast path against the
 * reference.
 */
static void check_matmul_t(ft_dtype dt, bool ta, bool tb, float alpha, int ra, const int64_t *adims, int rb,
			   const int64_t *bdims)
{
	ft_graph *g = ft_graph_new("test_matmul_t");
	g->opset = 17;
	int ia = new_tensor(g, "a", dt, ra, adims), ib = new_tensor(g, "b", dt, rb, bdims);
	int iaa = new_tensor(g, "abs_a", dt, ra, adims), iab = new_tensor(g, "abs_b", dt, rb, bdims);
	int iy = ft_graph_new_tensor(g, "y"), iref = ft_graph_new_tensor(g, "ref"), ibnd = ft_graph_new_tensor(g, "bnd");
	ft_node *n = ft_graph_add_node(g, FT_OP_MATMUL_T, "mm_t", 2, 1);
	ft_node *nb = ft_graph_add_node(g, FT_OP_MATMUL_T, "bound", 2, 1);
	n->in[0] = ia, n->in[1] = ib, n->out[0] = iy;
	nb->in[0] = iaa, nb->in[1] = iab, nb->out[0] = ibnd;
	ft_node *both[2] = {n, nb};
	for (int i = 0; i < 2; i++) {
		ft_node_set_int(g, both[i], "transA", ta);
		ft_node_set_int(g, both[i], "transB", tb);
		ft_node_set_float(g, both[i], "alpha", i ? fabsf(alpha) : alpha);
	}
	char s1[128], s2[128];
	bool ok = true;

	fill(&g->tensors[ia]);
	fill(&g->tensors[ib]);
	abs_copy(&g->tensors[iaa], &g->tensors[ia]);
	abs_copy(&g->tensors[iab], &g->tensors[ib]);
	if (ft_infer_matmul_t(g, n) != FT_OK || ft_infer_matmul_t(g, nb) != FT_OK) {
		printf("FAIL matmul_t: infer: %s\n", ft_last_error());
		failures++;
		goto out_free_graph;
	}
	int opa = ta ? transposed_copy(g, "op_a", ia) : ia, opb = tb ? transposed_copy(g, "op_b", ib) : ib;
	ft_tensor *y = &g->tensors[iy], *bnd = &g->tensors[ibnd], *ref = &g->tensors[iref];
	ft_tensor_set_shape(ref, y->dtype, y->rank, y->dims);
	y->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	ref->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	bnd->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 64));
	double *naive = ft_graph_own(g, ft_xmalloc(sizeof(double) * (size_t)(y->numel + 1)));
	int64_t k = g->tensors[opa].dims[ra - 1];

	FT_ASSERT(ft_cpu_matmul_t_ref(g, nb) == FT_OK);
	naive_matmul(naive, &g->tensors[opa], &g->tensors[opb], y);
	for (int64_t i = 0; i < y->numel; i++)
		naive[i] *= alpha;

	int yid = n->out[0];
	n->out[0] = iref;
	FT_ASSERT(ft_cpu_matmul_t_ref(g, n) == FT_OK);
	n->out[0] = yid;
	ok &= close_all("reference vs naive", ref, naive, bnd, dt == FT_F32 ? 4 * FLT_EPSILON : 4 * DBL_EPSILON);

	FT_ASSERT(ft_cpu_matmul_t(g, n) == FT_OK);
	double *refd = ft_graph_own(g, ft_xmalloc(sizeof(double) * (size_t)(y->numel + 1)));
	for (int64_t i = 0; i < y->numel; i++)
		refd[i] = get(ref, i);
	ok &= close_all("fast vs reference", y, refd, bnd,
			(double)(k + 2) * (dt == FT_F32 ? FLT_EPSILON : DBL_EPSILON));

	printf("%s matmul_t %s transA=%d transB=%d alpha %g %s x %s -> %s\n", ok ? "ok  " : "FAIL", ft_dtype_name(dt),
	       ta, tb, alpha, shape(&g->tensors[ia], s1), shape(&g->tensors[ib], s2), shape(y, s1 + 64));
	if (!ok)
		failures++;
out_free_graph:
	ft_graph_free(g);
}

/* a MatMul whose shapes must be rejected by infer with a message */
static void check_bad(int ra, const int64_t *adims, int rb, const int64_t *bdims)
{
	ft_graph *g = ft_graph_new("test_matmul");
	int ia = ft_graph_new_tensor(g, "a"), ib = ft_graph_new_tensor(g, "b"), iy = ft_graph_new_tensor(g, "y");
	ft_tensor_set_shape(&g->tensors[ia], FT_F32, ra, adims);
	ft_tensor_set_shape(&g->tensors[ib], FT_F32, rb, bdims);
	ft_node *n = ft_graph_add_node(g, FT_OP_MATMUL, "mm", 2, 1);
	n->in[0] = ia, n->in[1] = ib, n->out[0] = iy;
	ft_status st = ft_infer_matmul(g, n);
	printf("%s bad shapes rejected: %s\n", st == FT_EBADINPUT ? "ok  " : "FAIL", ft_last_error());
	if (st != FT_EBADINPUT)
		failures++;
	ft_graph_free(g);
}

#define D(...) (const int64_t[]){__VA_ARGS__}

int main(void)
{
	printf("fast path: %s\n", ft_cpu_matmul_has_fast() ? "OpenBLAS sgemm" : "none (reference only)");

	// fixed shapes: every code path
	check_matmul(FT_F32, 2, D(3, 4), 2, D(4, 5));
	check_matmul(FT_F32, 3, D(4, 7, 33), 2, D(33, 9));              // B shared: one sgemm
	check_matmul(FT_F32, 4, D(2, 3, 17, 8), 4, D(2, 3, 8, 17));      // attention scores
	check_matmul(FT_F32, 3, D(24, 20, 16), 3, D(24, 16, 20));        // many small: per-thread sgemms
	check_matmul(FT_F32, 4, D(2, 1, 5, 6), 3, D(3, 6, 7));           // broadcast batch both ways
	check_matmul(FT_F32, 2, D(5, 6), 3, D(4, 6, 3));                 // A broadcast over B's batch
	check_matmul(FT_F32, 3, D(1, 5, 6), 3, D(4, 6, 3));
	check_matmul(FT_F32, 1, D(6), 1, D(6));                          // vector . vector -> scalar
	check_matmul(FT_F32, 1, D(6), 3, D(2, 6, 5));                    // (K) x (B,K,N) -> (B,N)
	check_matmul(FT_F32, 3, D(2, 5, 6), 1, D(6));                    // (B,M,K) x (K) -> (B,M)
	check_matmul(FT_F32, 2, D(5, 6), 1, D(6));
	check_matmul(FT_F32, 2, D(4, 0), 2, D(0, 3));                    // K = 0: zeros
	check_matmul(FT_F32, 3, D(2, 0, 3), 2, D(3, 4));                 // empty output
	check_matmul(FT_F32, 3, D(2, 197, 64), 3, D(2, 64, 197));        // ViT attention, 2 heads
	check_matmul(FT_F32, 3, D(2, 50, 768), 2, D(768, 96));           // ViT MLP-like, large K
	check_matmul(FT_F64, 4, D(2, 1, 5, 6), 3, D(3, 6, 7));
	check_matmul(FT_I32, 3, D(2, 5, 6), 2, D(6, 7));

	// random shapes: rank 1..4 operands, random broadcast of batch dims
	for (int t = 0; t < 60; t++) {
		int ra = irand(1, 4), rb = irand(1, 4);
		int64_t ad[4], bd[4], k = irand(1, 40);
		int br = (ra > 2 ? ra - 2 : 0) > (rb > 2 ? rb - 2 : 0) ? ra - 2 : (rb > 2 ? rb - 2 : 0);
		int64_t batch[2] = {irand(1, 3), irand(1, 3)};
		for (int d = 0; d < ra - 2; d++)
			ad[d] = irand(0, 2) ? batch[br - (ra - 2) + d] : 1;
		for (int d = 0; d < rb - 2; d++)
			bd[d] = irand(0, 2) ? batch[br - (rb - 2) + d] : 1;
		if (ra >= 2)
			ad[ra - 2] = irand(1, 40);
		ad[ra - 1] = k;
		if (rb >= 2) {
			bd[rb - 2] = k;
			bd[rb - 1] = irand(1, 40);
		} else {
			bd[0] = k;
		}
		check_matmul(FT_F32, ra, ad, rb, bd);
	}

	// Gemm: transposes, every C broadcast, alpha/beta
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++)
			check_gemm(ta, tb, 7, 11, 5, 2, D(7, 5), 0.5f, 0.25f);
	check_gemm(false, false, 7, 11, 5, -1, NULL, 1.0f, 1.0f);
	check_gemm(false, true, 7, 11, 5, 0, D(0), 1.0f, 1.0f);
	check_gemm(false, true, 7, 11, 5, 1, D(5), 1.0f, 1.0f);
	check_gemm(false, true, 7, 11, 5, 1, D(1), 1.0f, 1.0f);
	check_gemm(true, false, 7, 11, 5, 2, D(1, 5), -2.0f, 3.0f);
	check_gemm(true, true, 7, 11, 5, 2, D(7, 1), 1.0f, -1.0f);
	check_gemm(false, true, 64, 2048, 1000, 1, D(1000), 1.0f, 1.0f); // a classifier head
	for (int t = 0; t < 20; t++)
		check_gemm(irand(0, 1), irand(0, 1), irand(1, 50), irand(1, 50), irand(1, 50), 2, D(1, 1), 1.5f,
			   0.5f);

	// MATMUL_T: every transpose combination on the shapes the gradients make
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			// stored shapes for op(A) (.,7,11), op(B) (.,11,5)
			const int64_t *a2 = ta ? D(11, 7) : D(7, 11), *b2 = tb ? D(5, 11) : D(11, 5);
			const int64_t *a4 = ta ? D(2, 3, 11, 7) : D(2, 3, 7, 11), *b4 = tb ? D(2, 3, 5, 11) : D(2, 3, 11, 5);
			const int64_t *a3 = ta ? D(2, 1, 11, 7) : D(2, 1, 7, 11), *b3 = tb ? D(3, 5, 11) : D(3, 11, 5);
			check_matmul_t(FT_F32, ta, tb, 1.0f, 2, a2, 2, b2);
			check_matmul_t(FT_F32, ta, tb, -0.5f, 4, a4, 4, b4);
			check_matmul_t(FT_F32, ta, tb, 2.0f, 4, a3, 3, b3);      // broadcast batch
			check_matmul_t(FT_F32, ta, tb, 1.0f, 4, a4, 2, b2);      // B shared
			check_matmul_t(FT_F64, ta, tb, 0.25f, 4, a3, 3, b3);
		}
	check_matmul_t(FT_F32, true, false, 1.0f, 2, D(1576, 768), 2, D(1576, 64));   // a Linear's dW
	check_matmul_t(FT_F32, false, true, 1.0f, 3, D(2, 197, 64), 3, D(2, 197, 64)); // attention's dP

	// shapes that must be rejected
	check_bad(2, D(3, 4), 2, D(5, 6));
	check_bad(3, D(2, 3, 4), 3, D(3, 4, 5));
	check_bad(0, D(0), 2, D(1, 1));

	if (failures)
		printf("%d FAILED\n", failures);
	return failures ? 1 : 0;
}
