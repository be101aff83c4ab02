/*
 * test_cuda_ops.c - every op the CUDA backend runs, against the CPU kernels on
 * the same random inputs (issue 5).
 *
 *   test_cuda_ops [--op NAME]
 *
 * For each case: random inputs (shapes with broadcasting for the binary ops,
 * ranges inside each function's domain, plus NaN and +-inf in a few elements
 * to check they propagate alike), the CPU kernel on host copies, the CUDA
 * backend's run_node on device copies. Every device output is followed by
 * sentinel bytes, set before the run and checked after it (a stray write past
 * the end fails). Compared:
 *   - non-finite positions: NaN where the CPU has NaN, the same infinity where
 *     it has one;
 *   - exact ops (arithmetic +-x/, Relu, Neg, Abs, Identity, the copies, Cast):
 *     bitwise equal (both sides do one correctly rounded float32 operation);
 *   - the rest: max |cuda - cpu| / max(1, max |cpu|) <= 1e-5. Both sides are
 *     float32 implementations of the function within a few ulp (CUDA's expf,
 *     tanhf, erff: <= 2 ulp; the CPU's vectorised approximations: ~1e-7
 *     relative), so 1e-5 is two orders above what they may differ by, and a
 *     wrong formula or a wrong broadcast is off by O(1).
 * Without a usable GPU the test prints why and exits 77 (skipped).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpu/util.h"
#include "ir.h"

#define SENTINEL 256

static int failures, cases;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static float frand(float lo, float hi)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return lo + (float)((double)(rng >> 11) * 0x1p-53) * (hi - lo);
}

typedef struct tcase {
	ft_op op;
	int n_in;
	int rank[2];
	int64_t dims[2][4];
	float lo[2], hi[2];
	ft_dtype dt, out_dt; /* input dtype; output dtype for Cast */
	bool exact;
	bool specials;       /* put NaN, +inf, -inf into input 0 */
	const char *attr;
	float attr_v;
} tcase;

static int new_input(ft_graph *g, ft_dtype dt, int rank, const int64_t *dims, float lo, float hi, bool specials)
{
	int id = ft_graph_new_tensor(g, "x");
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, dt, rank, dims);
	t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t)));
	float *f = ft_xmalloc(sizeof(float) * (size_t)t->numel);
	for (int64_t i = 0; i < t->numel; i++)
		f[i] = frand(lo, hi);
	if (specials && t->numel > 8) {
		f[1] = NAN;
		f[3] = INFINITY;
		f[5] = -INFINITY;
	}
	if (dt == FT_F32)
		memcpy(t->data, f, sizeof(float) * (size_t)t->numel);
	else
		ft_cpu_narrow(t->data, dt, f, t->numel);
	free(f);
	t->kind = FT_TK_INPUT;
	return id;
}

static double value(const ft_tensor *t, const void *data, int64_t i)
{
	switch (t->dtype) {
	case FT_F16: return ft_f16_to_f32(((const uint16_t *)data)[i]);
	case FT_BF16: return ft_bf16_to_f32(((const uint16_t *)data)[i]);
	default: return ((const float *)data)[i];
	}
}

static void run_case(ft_backend cu, const tcase *c)
{
	cases++;
	const char *name = ft_op_table[c->op].name;
	ft_graph *g = ft_graph_new("test_cuda_ops");
	ft_node *n = ft_graph_add_node(g, c->op, "n", c->n_in, 1);
	for (int i = 0; i < c->n_in; i++)
		n->in[i] = new_input(g, c->dt, c->rank[i], c->dims[i], c->lo[i], c->hi[i], c->specials && i == 0);
	n->out[0] = ft_graph_new_tensor(g, "y");
	if (c->attr)
		ft_node_set_float(g, n, c->attr, c->attr_v);
	ft_status st = FT_OK;
	if (c->op == FT_OP_CAST) { /* the CPU kernel reads the target type off the output */
		const ft_tensor *x = ft_in(g, n, 0);
		ft_tensor_set_shape(ft_out(g, n, 0), c->out_dt, x->rank, x->dims);
	} else {
		st = ft_op_table[c->op].infer(g, n);
	}
	if (st) {
		printf("FAIL %s: infer: %s\n", name, ft_last_error());
		failures++;
		ft_graph_free(g);
		return;
	}
	ft_tensor *y = ft_out(g, n, 0);
	size_t bytes = ft_tensor_bytes(y);
	void *want = ft_graph_own(g, ft_aligned_alloc(bytes));
	y->data = want;
	st = ft_op_table[c->op].cpu(g, n);
	if (st) {
		printf("FAIL %s: cpu: %s\n", name, ft_last_error());
		failures++;
		ft_graph_free(g);
		return;
	}
	if (!cu.iface->supports_op(cu.ctx, g, n)) {
		printf("FAIL %s: the cuda backend does not take this case\n", name);
		failures++;
		ft_graph_free(g);
		return;
	}
	/* device copies */
	void *host_in[2] = { 0 };
	for (int i = 0; i < c->n_in; i++) {
		ft_tensor *x = &g->tensors[n->in[i]];
		host_in[i] = x->data;
		void *d = cu.iface->alloc(cu.ctx, ft_tensor_bytes(x));
		cu.iface->upload(cu.ctx, d, x->data, ft_tensor_bytes(x));
		x->data = d;
	}
	unsigned char *got = ft_xmalloc(bytes + SENTINEL);
	memset(got, 0xa5, bytes + SENTINEL);
	void *dy = cu.iface->alloc(cu.ctx, bytes + SENTINEL);
	cu.iface->upload(cu.ctx, dy, got, bytes + SENTINEL);
	y->data = dy;
	st = cu.iface->run_node(cu.ctx, g, n);
	if (!st)
		cu.iface->sync(cu.ctx);
	cu.iface->download(cu.ctx, got, dy, bytes + SENTINEL);
	cu.iface->free(cu.ctx, dy);
	for (int i = 0; i < c->n_in; i++) {
		ft_tensor *x = &g->tensors[n->in[i]];
		cu.iface->free(cu.ctx, x->data);
		x->data = host_in[i];
	}
	y->data = want;
	int bad = 0;
	if (st) {
		printf("FAIL %s: cuda: %s\n", name, ft_last_error());
		bad++;
	}
	for (int k = 0; k < SENTINEL && !st; k++)
		if (got[bytes + k] != 0xa5) {
			printf("FAIL %s: a write past the output's end (byte %d after it)\n", name, k);
			bad++;
			break;
		}
	double err = 0, scale = 1;
	int64_t at = -1;
	for (int64_t i = 0; i < y->numel && !st; i++) {
		double a = value(y, got, i), b = value(y, want, i);
		if (!isfinite(b) || !isfinite(a)) {
			bool same = isnan(b) ? isnan(a) : a == b;
			if (!same && bad++ < 3)
				printf("FAIL %s: element %lld: cuda %g, cpu %g\n", name, (long long)i, a, b);
			continue;
		}
		if (c->exact) {
			if (memcmp((const char *)got + i * (int64_t)ft_dtype_size(y->dtype),
				   (const char *)want + i * (int64_t)ft_dtype_size(y->dtype), ft_dtype_size(y->dtype)) &&
			    bad++ < 3)
				printf("FAIL %s: element %lld: cuda %.9g, cpu %.9g (exact op)\n", name, (long long)i, a, b);
			continue;
		}
		if (fabs(b) > scale)
			scale = fabs(b);
		if (fabs(a - b) > err) {
			err = fabs(a - b);
			at = i;
		}
	}
	if (!c->exact && err / scale > 1e-5) {
		printf("FAIL %s: normalised error %.3g at element %lld, bound 1e-5\n", name, err / scale, (long long)at);
		bad++;
	}
	printf("%s %-18s %lld elements%s, normalised error %.3g\n", bad ? "FAIL" : "ok  ", name, (long long)y->numel,
	       c->exact ? " (exact)" : "", err / scale);
	failures += bad != 0;
	free(got);
	ft_graph_free(g);
}

#define S4(a, b, c, d) { a, b, c, d }

int main(int argc, char **argv)
{
	const char *only = argc > 2 && strcmp(argv[1], "--op") == 0 ? argv[2] : NULL;
	char why[256] = "";
	if (ft_cuda_device_count(why, sizeof(why)) == 0) {
		printf("SKIP: no usable GPU (%s); the CUDA kernels are compared with the CPU on a machine with one "
		       "(scripts/device_check.sh)\n", why);
		return 77;
	}
	ft_backend cu;
	if (ft_backend_cuda_new(0, &cu)) {
		printf("FAIL: %s\n", ft_last_error());
		return 1;
	}
	static const tcase all[] = {
		/* binary: same shape, and broadcast both ways */
		{ FT_OP_ADD, 2, { 4, 4 }, { S4(2, 3, 17, 33), S4(2, 3, 17, 33) }, { -4, -4 }, { 4, 4 },
		  FT_F32, 0, true, true, NULL, 0 },
		{ FT_OP_ADD, 2, { 4, 2 }, { S4(2, 3, 17, 33), S4(17, 1, 0, 0) }, { -4, -4 }, { 4, 4 },
		  FT_F32, 0, true, false, NULL, 0 },
		{ FT_OP_SUB, 2, { 3, 4 }, { S4(3, 1, 40, 0), S4(2, 1, 5, 40) }, { -4, -4 }, { 4, 4 },
		  FT_F32, 0, true, false, NULL, 0 },
		{ FT_OP_MUL, 2, { 4, 1 }, { S4(2, 64, 7, 7), S4(7, 0, 0, 0) }, { -4, -4 }, { 4, 4 },
		  FT_F32, 0, true, true, NULL, 0 },
		{ FT_OP_DIV, 2, { 2, 2 }, { S4(300, 200, 0, 0), S4(1, 200, 0, 0) }, { -4, 0.5f }, { 4, 4 }, FT_F32, 0, true,
		  false, NULL, 0 },
		/* unary */
		{ FT_OP_RELU, 1, { 3 }, { S4(8, 33, 65, 0) }, { -4 }, { 4 }, FT_F32, 0, true, true, NULL, 0 },
		{ FT_OP_LEAKY_RELU, 1, { 2 }, { S4(100, 257, 0, 0) }, { -4 }, { 4 }, FT_F32, 0, false, true, "alpha", 0.1f },
		{ FT_OP_SIGMOID, 1, { 2 }, { S4(100, 257, 0, 0) }, { -20 }, { 20 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_TANH, 1, { 2 }, { S4(100, 257, 0, 0) }, { -10 }, { 10 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_ERF, 1, { 2 }, { S4(100, 257, 0, 0) }, { -5 }, { 5 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_SQRT, 1, { 1 }, { S4(10000, 0, 0, 0) }, { 0 }, { 100 }, FT_F32, 0, false, false, NULL, 0 },
		{ FT_OP_EXP, 1, { 1 }, { S4(10000, 0, 0, 0) }, { -20 }, { 20 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_LOG, 1, { 1 }, { S4(10000, 0, 0, 0) }, { 1e-3f }, { 1e3f }, FT_F32, 0, false, false, NULL, 0 },
		{ FT_OP_NEG, 1, { 1 }, { S4(10000, 0, 0, 0) }, { -4 }, { 4 }, FT_F32, 0, true, true, NULL, 0 },
		{ FT_OP_ABS, 1, { 1 }, { S4(10000, 0, 0, 0) }, { -4 }, { 4 }, FT_F32, 0, true, true, NULL, 0 },
		{ FT_OP_RECIPROCAL, 1, { 1 }, { S4(10000, 0, 0, 0) }, { 0.1f }, { 10 }, FT_F32, 0, false, false, NULL, 0 },
		{ FT_OP_HARD_SIGMOID, 1, { 1 }, { S4(10000, 0, 0, 0) }, { -6 }, { 6 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_HARD_SWISH, 1, { 1 }, { S4(10000, 0, 0, 0) }, { -6 }, { 6 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_IDENTITY, 1, { 1 }, { S4(10000, 0, 0, 0) }, { -4 }, { 4 }, FT_F32, 0, true, true, NULL, 0 },
		{ FT_OP_FLATTEN, 1, { 4 }, { S4(2, 3, 17, 33) }, { -4 }, { 4 }, FT_F32, 0, true, true, NULL, 0 },
		/* gradients: dy, then the saved tensor */
		{ FT_OP_RELU_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -4 }, { 1, 4 }, FT_F32, 0,
		  true, false, NULL, 0 },
		{ FT_OP_LEAKY_RELU_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -4 }, { 1, 4 }, FT_F32,
		  0, true, false, "alpha", 0.1f },
		{ FT_OP_SIGMOID_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, 0 }, { 1, 1 }, FT_F32, 0,
		  false, false, NULL, 0 },
		{ FT_OP_TANH_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -1 }, { 1, 1 }, FT_F32, 0,
		  false, false, NULL, 0 },
		{ FT_OP_ERF_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -5 }, { 1, 5 }, FT_F32, 0,
		  false, false, NULL, 0 },
		{ FT_OP_HARD_SIGMOID_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -6 }, { 1, 6 },
		  FT_F32, 0, false, false, NULL, 0 },
		{ FT_OP_HARD_SWISH_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -6 }, { 1, 6 }, FT_F32,
		  0, false, false, NULL, 0 },
		/* casts, rounding to nearest even both ways */
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -70000 }, { 70000 }, FT_F32, FT_F16, true, true, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -1e30f }, { 1e30f }, FT_F32, FT_BF16, true, true, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -60000 }, { 60000 }, FT_F16, FT_F32, true, false, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -1e30f }, { 1e30f }, FT_BF16, FT_F32, true, false, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!only || strcmp(only, ft_op_table[all[i].op].name) == 0)
			run_case(cu, &all[i]);
	cu.iface->destroy(cu.ctx);
	printf("%d cases, %d failed\n", cases, failures);
	return failures ? 1 : cases ? 0 : 1;
}
