/*
 * test_elementwise.c - the elementwise kernels on what ONNX's node tests do
 * not reach: the broadcast walker on random shapes (large enough for the
 * threaded, chunked path) against a naive loop written here; integer division
 * by zero and INT64_MIN / -1; the vectorised float sigmoid/tanh/erf against
 * libm in double; Cast rounding and saturation; training-mode Dropout; and
 * the infer functions' refusals.
 *
 * Every output buffer has sentinel bytes after its end: a kernel that writes
 * past its output fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/elementwise.h"
#include "cpu/util.h"
#include "ir.h"

#define SENTINEL 64

static int failures;
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t irand(int64_t lo, int64_t hi) /* in [lo, hi] */
{
	return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1));
}

static float frand(void) /* in [-4, 4) */
{
	return (float)((double)(next() >> 11) * 0x1p-53 * 8 - 4);
}

#define CHECK(cond, ...)                                   \
	do {                                               \
		if (!(cond)) {                             \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);               \
			printf("\n");                      \
			failures++;                        \
		}                                          \
	} while (0)

/* an input tensor with random contents */
static int new_tensor(ft_graph *g, const char *name, ft_dtype dt, int rank, const int64_t *dims)
{
	int id = ft_graph_new_tensor(g, name);
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, dt, rank, dims);
	t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t) + SENTINEL));
	for (int64_t i = 0; i < t->numel; i++) {
		switch (dt) {
		case FT_F32: ((float *)t->data)[i] = frand(); break;
		case FT_F64: ((double *)t->data)[i] = frand(); break;
		case FT_I64: ((int64_t *)t->data)[i] = irand(-50, 50); break;
		case FT_I32: ((int32_t *)t->data)[i] = (int32_t)irand(-50, 50); break;
		case FT_BOOL: ((uint8_t *)t->data)[i] = (uint8_t)(next() & 1); break;
		default: FT_ASSERT(0);
		}
	}
	t->kind = FT_TK_INPUT;
	return id;
}

/* a node over existing input tensors; outputs are created unshaped */
static ft_node *new_node(ft_graph *g, ft_op op, int n_in, const int *in, int n_out)
{
	ft_node *n = ft_graph_add_node(g, op, "n", n_in, n_out);
	for (int i = 0; i < n_in; i++)
		n->in[i] = in[i];
	for (int i = 0; i < n_out; i++)
		n->out[i] = ft_graph_new_tensor(g, "out");
	return n;
}

/* infers, gives the outputs memory with sentinels, runs; returns the kernel's status */
static ft_status run(ft_graph *g, ft_node *n)
{
	ft_status st = ft_op_table[n->op].infer(g, n);
	if (st)
		return st;
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *t = ft_out(g, n, i);
		t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t) + SENTINEL));
		memset(t->data, 0xa5, ft_tensor_bytes(t) + SENTINEL);
	}
	st = ft_op_table[n->op].cpu(g, n);
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *t = ft_out(g, n, i);
		const unsigned char *end = (const unsigned char *)t->data + ft_tensor_bytes(t);
		for (int k = 0; k < SENTINEL; k++)
			if (end[k] != 0xa5) {
				CHECK(0, "%s wrote past its output", ft_op_table[n->op].name);
				break;
			}
	}
	return st;
}

/* the flat index into t of output element i, broadcasting */
static int64_t bindex(const ft_tensor *out, const ft_tensor *t, int64_t i)
{
	int64_t idx = 0, stride = 1;
	for (int d = out->rank - 1; d >= 0; d--) {
		int64_t c = i % out->dims[d];
		i /= out->dims[d];
		int td = d - (out->rank - t->rank);
		if (td < 0)
			continue;
		if (t->dims[td] != 1)
			idx += c * stride;
		stride *= t->dims[td];
	}
	return idx;
}

/* random shapes that broadcast to one output; sometimes big, for the threaded path */
static void random_shapes(int k, int *ranks, int64_t dims[][FT_MAX_RANK])
{
	bool big = irand(0, 3) == 0;
	int r = (int)irand(0, big ? 3 : 5);
	int64_t full[FT_MAX_RANK];
	for (int d = 0; d < r; d++)
		full[d] = irand(1, big ? 3 : 6);
	if (big && r > 0)
		full[r - 1] = irand(17000, 40000); /* past one chunk of the walker */
	for (int j = 0; j < k; j++) {
		ranks[j] = (int)irand(0, r);
		for (int d = 0; d < ranks[j]; d++) {
			int64_t v = full[r - ranks[j] + d];
			dims[j][d] = irand(0, 2) == 0 ? 1 : v;
		}
	}
	ranks[0] = r; /* the first input has the output's rank, so the output is never smaller */
	memcpy(dims[0], full, sizeof(int64_t) * (size_t)r);
	if (irand(0, 2) == 0)
		for (int d = 0; d < r; d++)
			if (irand(0, 2) == 0)
				dims[0][d] = 1;
}

static void test_broadcast(void)
{
	static const ft_op ops[] = { FT_OP_ADD, FT_OP_SUB, FT_OP_MUL, FT_OP_DIV, FT_OP_MAX, FT_OP_LESS };
	for (int iter = 0; iter < 300; iter++) {
		ft_graph *g = ft_graph_new("test_broadcast");
		ft_op op = ops[iter % FT_ARRAY_LEN(ops)];
		ft_dtype dt = iter % 3 == 0 ? FT_I64 : FT_F32;
		int ranks[2];
		int64_t dims[2][FT_MAX_RANK];
		random_shapes(2, ranks, dims);
		int in[2] = { new_tensor(g, "a", dt, ranks[0], dims[0]), new_tensor(g, "b", dt, ranks[1], dims[1]) };
		if (dt == FT_I64 && op == FT_OP_DIV) /* no zero divisors here */
			for (int64_t i = 0; i < g->tensors[in[1]].numel; i++)
				((int64_t *)g->tensors[in[1]].data)[i] |= 1;
		ft_node *n = new_node(g, op, 2, in, 1);
		ft_status st = run(g, n);
		CHECK(st == FT_OK, "%s: %s", ft_op_table[op].name, ft_last_error());
		const ft_tensor *a = &g->tensors[in[0]], *b = &g->tensors[in[1]], *o = ft_out(g, n, 0);
		for (int64_t i = 0; st == FT_OK && i < o->numel; i++) {
			int64_t ia = bindex(o, a, i), ib = bindex(o, b, i);
			double x = ft_tensor_float(a, ia), y = ft_tensor_float(b, ib), want = 0;
			switch (op) {
			case FT_OP_ADD: want = x + y; break;
			case FT_OP_SUB: want = x - y; break;
			case FT_OP_MUL: want = x * y; break;
			case FT_OP_DIV: want = dt == FT_I64 ? trunc(x / y) : (double)((float)x / (float)y); break;
			case FT_OP_MAX: want = x > y ? x : y; break;
			case FT_OP_LESS: want = x < y; break;
			default: FT_ASSERT(0);
			}
			double got = ft_tensor_float(o, i);
			if (fabs(got - want) > 1e-6 * (1 + fabs(want))) {
				char s1[64], s2[64];
				CHECK(0, "%s %s %s: element %lld got %g want %g", ft_op_table[op].name,
				      ft_shape_str(a, s1, sizeof(s1)), ft_shape_str(b, s2, sizeof(s2)), (long long)i, got, want);
				break;
			}
		}
		ft_graph_free(g);
	}
}

static void test_where(void)
{
	for (int iter = 0; iter < 100; iter++) {
		ft_graph *g = ft_graph_new("test_where");
		int ranks[3];
		int64_t dims[3][FT_MAX_RANK];
		random_shapes(3, ranks, dims);
		int in[3] = { new_tensor(g, "c", FT_BOOL, ranks[1], dims[1]), new_tensor(g, "x", FT_I64, ranks[0], dims[0]),
			      new_tensor(g, "y", FT_I64, ranks[2], dims[2]) };
		ft_node *n = new_node(g, FT_OP_WHERE, 3, in, 1);
		CHECK(run(g, n) == FT_OK, "Where: %s", ft_last_error());
		const ft_tensor *c = &g->tensors[in[0]], *x = &g->tensors[in[1]], *y = &g->tensors[in[2]];
		const ft_tensor *o = ft_out(g, n, 0);
		for (int64_t i = 0; i < o->numel; i++) {
			int64_t want = ft_tensor_int(c, bindex(o, c, i)) ? ft_tensor_int(x, bindex(o, x, i))
									 : ft_tensor_int(y, bindex(o, y, i));
			if (ft_tensor_int(o, i) != want) {
				CHECK(0, "Where: element %lld", (long long)i);
				break;
			}
		}
		ft_graph_free(g);
	}
}

/* a one-node graph over constant inputs given as values */
static ft_node *node_of(ft_graph *g, ft_op op, ft_dtype dt, int64_t count, const void *a, const void *b)
{
	int in[2];
	for (int j = 0; j < (b ? 2 : 1); j++) {
		in[j] = new_tensor(g, j ? "b" : "a", dt == FT_F64 ? FT_F64 : dt == FT_I32 ? FT_I32 : FT_I64, 1, &count);
		memcpy(g->tensors[in[j]].data, j ? b : a, (size_t)count * ft_dtype_size(dt));
	}
	return new_node(g, op, b ? 2 : 1, in, 1);
}

static void test_integer_edges(void)
{
	ft_graph *g = ft_graph_new("test_int");
	int64_t a[4] = { INT64_MIN, 7, -7, 7 }, b[4] = { -1, -2, 2, 3 };
	ft_node *n = node_of(g, FT_OP_DIV, FT_I64, 4, a, b);
	CHECK(run(g, n) == FT_OK, "Div: %s", ft_last_error());
	int64_t want_div[4] = { INT64_MIN, -3, -3, 2 };
	CHECK(memcmp(ft_out(g, n, 0)->data, want_div, sizeof(want_div)) == 0, "Div int64 edge values");

	n = node_of(g, FT_OP_MOD, FT_I64, 4, a, b);
	CHECK(run(g, n) == FT_OK, "Mod: %s", ft_last_error());
	int64_t want_mod[4] = { 0, -1, 1, 1 }; /* sign of the divisor */
	CHECK(memcmp(ft_out(g, n, 0)->data, want_mod, sizeof(want_mod)) == 0, "Mod int64 edge values");

	int32_t c[2] = { 5, 6 }, z[2] = { 1, 0 };
	n = node_of(g, FT_OP_DIV, FT_I32, 2, c, z);
	CHECK(run(g, n) == FT_EBADINPUT, "Div by zero must be a node error");
	CHECK(strstr(ft_last_error(), "division by zero") != NULL, "message: %s", ft_last_error());
	n = node_of(g, FT_OP_MOD, FT_I32, 2, c, z);
	CHECK(run(g, n) == FT_EBADINPUT, "Mod by zero must be a node error");
	ft_graph_free(g);
}

/* the vectorised float sigmoid, tanh, erf against libm in double */
static void test_float_maths(void)
{
	static const ft_op ops[] = { FT_OP_SIGMOID, FT_OP_TANH, FT_OP_ERF };
	enum { N = 200000 };
	ft_graph *g = ft_graph_new("test_maths");
	int64_t count = N;
	int x = new_tensor(g, "x", FT_F32, 1, &count);
	float *xs = g->tensors[x].data;
	for (int i = 0; i < N; i++) /* magnitudes from 1e-30 to 1e3, both signs */
		xs[i] = (i & 1 ? -1.0f : 1.0f) * powf(10.0f, -30.0f + 33.0f * (float)i / N);
	xs[0] = NAN, xs[1] = INFINITY, xs[2] = -INFINITY, xs[3] = 0.0f;
	for (size_t k = 0; k < FT_ARRAY_LEN(ops); k++) {
		ft_node *n = new_node(g, ops[k], 1, &x, 1);
		CHECK(run(g, n) == FT_OK, "%s: %s", ft_op_table[ops[k]].name, ft_last_error());
		const float *y = ft_out(g, n, 0)->data;
		CHECK(isnan(y[0]), "%s(NaN) = %g", ft_op_table[ops[k]].name, (double)y[0]);
		for (int i = 1; i < N; i++) {
			double v = xs[i];
			double want = ops[k] == FT_OP_SIGMOID ? 1 / (1 + exp(-v)) : ops[k] == FT_OP_TANH ? tanh(v) : erf(v);
			/* a few float ulps, and the node tests' atol for values that underflow */
			if (!(fabs(y[i] - want) <= 2e-6 * fabs(want) + 1e-37)) {
				CHECK(0, "%s(%g) = %.9g, want %.9g", ft_op_table[ops[k]].name, v, (double)y[i], want);
				break;
			}
		}
		if (ops[k] == FT_OP_SIGMOID)
			CHECK(y[2] == 0.0f, "Sigmoid(-inf) = %g, want exactly 0 (1 / (1 + e^inf))", (double)y[2]);
	}
	/* ft.Silu, x * Sigmoid(x): NaN at -inf (-inf * 0) and +inf at +inf, as PyTorch's silu and
	 * the CUDA kernel give (the H200 kernel test found -inf here, 2026-11-28) */
	ft_node *n = new_node(g, FT_OP_SILU, 1, &x, 1);
	CHECK(run(g, n) == FT_OK, "ft.Silu: %s", ft_last_error());
	const float *y = ft_out(g, n, 0)->data;
	CHECK(isnan(y[0]) && y[1] == INFINITY && isnan(y[2]) && y[3] == 0.0f, "ft.Silu(NaN, inf, -inf, 0) = %g %g %g %g",
	      (double)y[0], (double)y[1], (double)y[2], (double)y[3]);

	/* ft.Gelu (specialise.c fuses PyTorch's five-node GELU into it) against those five nodes run
	 * here, within 4 float ulps (the same float operations; the compiler may contract them
	 * differently), and the specials PyTorch's gelu gives: NaN, inf, NaN (-inf * 0), 0 */
	ft_node *gl = new_node(g, FT_OP_GELU, 1, &x, 1);
	CHECK(run(g, gl) == FT_OK, "ft.Gelu: %s", ft_last_error());
	int64_t one = 1;
	int c[3] = { new_tensor(g, "sqrt2", FT_F32, 0, &one), new_tensor(g, "one", FT_F32, 0, &one),
		     new_tensor(g, "half", FT_F32, 0, &one) };
	*(float *)g->tensors[c[0]].data = 1.41421353816986083984375f;
	*(float *)g->tensors[c[1]].data = 1.0f;
	*(float *)g->tensors[c[2]].data = 0.5f;
	int in[2] = { x, c[0] };
	ft_node *st = new_node(g, FT_OP_DIV, 2, in, 1);
	CHECK(run(g, st) == FT_OK, "Div: %s", ft_last_error());
	in[0] = st->out[0];
	st = new_node(g, FT_OP_ERF, 1, in, 1);
	CHECK(run(g, st) == FT_OK, "Erf: %s", ft_last_error());
	in[0] = st->out[0], in[1] = c[1];
	st = new_node(g, FT_OP_ADD, 2, in, 1);
	CHECK(run(g, st) == FT_OK, "Add: %s", ft_last_error());
	in[0] = x, in[1] = st->out[0];
	st = new_node(g, FT_OP_MUL, 2, in, 1);
	CHECK(run(g, st) == FT_OK, "Mul: %s", ft_last_error());
	in[0] = st->out[0], in[1] = c[2];
	st = new_node(g, FT_OP_MUL, 2, in, 1);
	CHECK(run(g, st) == FT_OK, "Mul: %s", ft_last_error());
	const float *gy = ft_out(g, gl, 0)->data, *five = ft_out(g, st, 0)->data;
	CHECK(isnan(gy[0]) && gy[1] == INFINITY && isnan(gy[2]) && gy[3] == 0.0f, "ft.Gelu(NaN, inf, -inf, 0) = %g %g %g %g",
	      (double)gy[0], (double)gy[1], (double)gy[2], (double)gy[3]);
	for (int i = 4; i < N; i++)
		if (!(fabsf(gy[i] - five[i]) <= 4.8e-7f * fabsf(five[i]) + 1e-38f)) {
			CHECK(0, "ft.Gelu(%g) = %.9g, the five nodes %.9g", (double)xs[i], (double)gy[i], (double)five[i]);
			break;
		}
	/* its gradient, PyTorch's gelu_backward, against double precision: dy (Phi(x) + x phi(x)) */
	int dy = new_tensor(g, "dy", FT_F32, 1, &count);
	for (int i = 0; i < N; i++)
		((float *)g->tensors[dy].data)[i] = 1.0f;
	in[0] = dy, in[1] = x;
	st = new_node(g, FT_OP_GELU_GRAD, 2, in, 1);
	CHECK(run(g, st) == FT_OK, "ft.GeluGrad: %s", ft_last_error());
	const float *dx = ft_out(g, st, 0)->data;
	CHECK(isnan(dx[0]) && isnan(dx[1]) && isnan(dx[2]) && dx[3] == 0.5f,
	      "ft.GeluGrad at NaN, inf, -inf, 0 = %g %g %g %g (PyTorch: nan nan nan 0.5)", (double)dx[0], (double)dx[1],
	      (double)dx[2], (double)dx[3]);
	for (int i = 4; i < N; i++) {
		double v = xs[i], want = 0.5 * (1 + erf(v / sqrt(2.0))) + v * exp(-0.5 * v * v) / sqrt(2 * M_PI);
		/* float erf's few ulps near 1, where 1 + erf(x) cancels for x below -2: an absolute 1e-6 */
		if (!(fabs(dx[i] - want) <= 1e-6 * fabs(want) + 1e-6)) {
			CHECK(0, "ft.GeluGrad(%g) = %.9g, want %.9g", v, (double)dx[i], want);
			break;
		}
	}
	ft_graph_free(g);
}

static void test_cast(void)
{
	ft_graph *g = ft_graph_new("test_cast");
	/* 1 + 2^-11 + 2^-40 lies just above the midpoint of two halves: rounding through
	 * float first would land on the midpoint and round to even (down) */
	double v[6] = { 1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-11, 65519.0, NAN, 1e300, -1e300 };
	uint16_t want_h[4] = { 0x3c01, 0x3c00, 0x7bff, 0x7e00 };
	int64_t six = 6;
	int x = new_tensor(g, "x", FT_F64, 1, &six);
	memcpy(g->tensors[x].data, v, sizeof(v));
	ft_node *n = new_node(g, FT_OP_CAST, 1, &x, 1);
	ft_node_set_int(g, n, "to", 10); /* float16 */
	CHECK(run(g, n) == FT_OK, "Cast: %s", ft_last_error());
	const uint16_t *h = ft_out(g, n, 0)->data;
	for (int i = 0; i < 3; i++)
		CHECK(h[i] == want_h[i], "cast %.17g to float16: 0x%04x, want 0x%04x", v[i], h[i], want_h[i]);
	CHECK((h[3] & 0x7c00) == 0x7c00 && (h[3] & 0x3ff), "NaN to float16: 0x%04x", h[3]);
	CHECK(h[4] == 0x7c00 && h[5] == 0xfc00, "overflow to float16 gives inf");

	n = new_node(g, FT_OP_CAST, 1, &x, 1);
	ft_node_set_int(g, n, "to", 6); /* int32: saturates, NaN -> 0 */
	CHECK(run(g, n) == FT_OK, "Cast: %s", ft_last_error());
	const int32_t *i32 = ft_out(g, n, 0)->data;
	CHECK(i32[0] == 1 && i32[2] == 65519 && i32[3] == 0 && i32[4] == INT32_MAX && i32[5] == INT32_MIN,
	      "float64 to int32: %d %d %d %d %d", i32[0], i32[2], i32[3], i32[4], i32[5]);
	ft_graph_free(g);
}

static void test_dropout(void)
{
	uint8_t masks[2][4096];
	for (int rep = 0; rep < 2; rep++) {
		ft_graph *g = ft_graph_new("test_dropout");
		int64_t count = 4096, one = 1;
		int in[3] = { new_tensor(g, "x", FT_F32, 1, &count), new_tensor(g, "ratio", FT_F32, 0, &one),
			      new_tensor(g, "training_mode", FT_BOOL, 0, &one) };
		*(float *)g->tensors[in[1]].data = 0.25f;
		*(uint8_t *)g->tensors[in[2]].data = 1;
		ft_node *n = new_node(g, FT_OP_DROPOUT, 3, in, 2);
		ft_cpu_dropout_seed(42);
		CHECK(run(g, n) == FT_OK, "Dropout: %s", ft_last_error());
		const float *x = g->tensors[in[0]].data, *y = ft_out(g, n, 0)->data;
		const uint8_t *m = ft_out(g, n, 1)->data;
		int kept = 0;
		for (int i = 0; i < 4096; i++) {
			kept += m[i];
			CHECK(y[i] == (m[i] ? x[i] / 0.75f : 0.0f) || fabsf(y[i] - x[i] / 0.75f) < 1e-6f,
			      "Dropout element %d: %g of %g, mask %d", i, (double)y[i], (double)x[i], m[i]);
		}
		CHECK(kept > 2900 && kept < 3250, "Dropout kept %d of 4096 at ratio 0.25", kept);
		memcpy(masks[rep], m, sizeof(masks[rep]));
		ft_graph_free(g);
	}
	CHECK(memcmp(masks[0], masks[1], sizeof(masks[0])) == 0, "the same seed must give the same mask");
}

/* what the infer functions refuse */
static void test_refusals(void)
{
	ft_graph *g = ft_graph_new("test_refusals");
	int64_t d3[1] = { 3 }, d4[1] = { 4 };
	int f3 = new_tensor(g, "f3", FT_F32, 1, d3), f4 = new_tensor(g, "f4", FT_F32, 1, d4);
	int i3 = new_tensor(g, "i3", FT_I64, 1, d3), b3 = new_tensor(g, "b3", FT_BOOL, 1, d3);
	int ff[2] = { f3, f4 }, fi[2] = { f3, i3 }, bb[2] = { b3, b3 };
	CHECK(ft_op_table[FT_OP_ADD].infer(g, new_node(g, FT_OP_ADD, 2, ff, 1)) == FT_EBADINPUT, "[3] + [4]");
	CHECK(ft_op_table[FT_OP_ADD].infer(g, new_node(g, FT_OP_ADD, 2, fi, 1)) == FT_EBADINPUT, "float + int64");
	CHECK(ft_op_table[FT_OP_ADD].infer(g, new_node(g, FT_OP_ADD, 2, bb, 1)) == FT_EUNSUPPORTED, "bool + bool");
	CHECK(ft_op_table[FT_OP_AND].infer(g, new_node(g, FT_OP_AND, 2, fi, 1)) == FT_EBADINPUT, "And of floats");
	CHECK(ft_op_table[FT_OP_SQRT].infer(g, new_node(g, FT_OP_SQRT, 1, &i3, 1)) == FT_EUNSUPPORTED, "Sqrt of int64");
	int clip[3] = { f3, f4, -1 }; /* a bound that is not a scalar */
	CHECK(ft_op_table[FT_OP_CLIP].infer(g, new_node(g, FT_OP_CLIP, 3, clip, 1)) == FT_EBADINPUT, "Clip min [4]");
	ft_node *n = new_node(g, FT_OP_CAST, 1, &f3, 1);
	ft_node_set_int(g, n, "to", 8);
	CHECK(ft_op_table[FT_OP_CAST].import(g, n) == FT_EUNSUPPORTED, "Cast to string");
	n = new_node(g, FT_OP_MOD, 2, ff, 1);
	ft_node_set_int(g, n, "fmod", 2);
	CHECK(ft_op_table[FT_OP_MOD].import(g, n) == FT_EBADINPUT, "Mod fmod=2");
	ft_graph_free(g);
}

/*
 * ft.BatchNormalizationApply from a training forward's saved mean and invstd gives that
 * forward's y bit for bit (the memory plan's recompute, runtime/remat.c, relies on it), in float
 * and double, on a batch whose mean is far from 0
 */
static void test_batch_norm_apply(void)
{
	for (int k = 0; k < 2; k++) {
		ft_dtype dt = k ? FT_F64 : FT_F32;
		ft_graph *g = ft_graph_new("bn_apply");
		int64_t xd[4] = { 4, 6, 5, 3 }, cd[1] = { 6 };
		int x = new_tensor(g, "x", dt, 4, xd);
		for (int64_t i = 0; i < g->tensors[x].numel; i++) {
			if (dt == FT_F32)
				((float *)g->tensors[x].data)[i] += 10.0f;
			else
				((double *)g->tensors[x].data)[i] += 10.0;
		}
		int in[5] = { x, new_tensor(g, "scale", dt, 1, cd), new_tensor(g, "bias", dt, 1, cd),
			      new_tensor(g, "mean", dt, 1, cd), new_tensor(g, "var", dt, 1, cd) };
		ft_tensor *var = &g->tensors[in[4]];
		for (int64_t i = 0; i < var->numel; i++) { /* a variance is positive */
			if (dt == FT_F32)
				((float *)var->data)[i] = 1.0f;
			else
				((double *)var->data)[i] = 1.0;
		}
		ft_node *n = new_node(g, FT_OP_BATCH_NORM_TRAIN, 5, in, 3);
		CHECK(run(g, n) == FT_OK, "BatchNormalizationTrain: %s", ft_last_error());
		n = &g->nodes[0];
		int y = n->out[0], ap[5] = { x, in[1], in[2], n->out[1], n->out[2] };
		ft_node *a = new_node(g, FT_OP_BATCH_NORM_APPLY, 5, ap, 1);
		CHECK(run(g, a) == FT_OK, "BatchNormalizationApply: %s", ft_last_error());
		a = &g->nodes[1];
		const ft_tensor *ty = &g->tensors[y], *ta = ft_out(g, a, 0);
		CHECK(ft_tensor_same_shape(ty, ta) && ty->dtype == ta->dtype &&
			      memcmp(ty->data, ta->data, ft_tensor_bytes(ty)) == 0,
		      "BatchNormalizationApply (%s) differs from the training forward's y", ft_dtype_name(dt));
		ft_graph_free(g);
	}
	ft_node *bad;
	ft_graph *g = ft_graph_new("bn_apply_bad");
	int64_t xd[4] = { 2, 3, 2, 2 }, cd[1] = { 3 }, wd[1] = { 4 };
	int in[5] = { new_tensor(g, "x", FT_F32, 4, xd), new_tensor(g, "s", FT_F32, 1, cd),
		      new_tensor(g, "b", FT_F32, 1, wd), new_tensor(g, "m", FT_F32, 1, cd), new_tensor(g, "i", FT_F32, 1, cd) };
	bad = new_node(g, FT_OP_BATCH_NORM_APPLY, 5, in, 1);
	CHECK(ft_op_table[bad->op].infer(g, bad) == FT_EBADINPUT, "BatchNormalizationApply took a (4) bias for 3 channels");
	ft_graph_free(g);
}

int main(void)
{
	test_broadcast();
	test_where();
	test_integer_edges();
	test_float_maths();
	test_cast();
	test_dropout();
	test_refusals();
	test_batch_norm_apply();
	printf("test_elementwise: %s (%d failures)\n", failures ? "FAIL" : "ok", failures);
	return failures ? 1 : 0;
}
