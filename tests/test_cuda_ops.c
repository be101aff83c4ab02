/*
 * test_cuda_ops.c - every op the CUDA backend runs, against the CPU kernels on
 * the same random inputs (issue 5).
 *
 *   test_cuda_ops [--op NAME] [--self-check]
 *
 * For each case: random inputs (shapes with broadcasting for the binary ops
 * and the batched products, ranges inside each function's domain, plus NaN and
 * +-inf in a few elements to check they propagate alike), the CPU kernel on
 * host copies, the CUDA backend's prepare_node and run_node on device copies;
 * for the ops that update their inputs (accumulation, optimizer steps) those
 * inputs are compared too. Every device output is followed by
 * sentinel bytes, set before the run and checked after it (a stray write past
 * the end fails). Compared:
 *   - non-finite positions: NaN where the CPU has NaN, the same infinity where
 *     it has one;
 *   - exact ops (arithmetic +-x/, Relu, Neg, Abs, Identity, the copies, Cast):
 *     bitwise equal (both sides do one correctly rounded float32 operation);
 *   - the rest: max |cuda - cpu| / max(1, max |cpu|) <= 1e-5 for float32
 *     outputs, one unit in the last place for float16/bfloat16 storage (see
 *     compare()). Both sides are
 *     float32 implementations of the function within a few ulp (CUDA's expf,
 *     tanhf, erff: <= 2 ulp; the CPU's vectorised approximations: ~1e-7
 *     relative), and the products and sums differ only in summation order
 *     (K <= 129 terms of |x| <= 4: ~1e-6 of the largest output), so 1e-5 is
 *     an order or two above what they may differ by, and a wrong formula, a
 *     wrong transpose or a wrong broadcast is off by O(1).
 * Without a usable GPU the test prints why and exits 77 (skipped).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cuda/ft_cuda.h"
#include "cpu/util.h"
#include "ir.h"

#define SENTINEL 256

static int failures, cases;
static ft_backend cpu; /* the reference */
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

/* compares one tensor's CUDA result with the CPU's; returns the number of failures */
static int compare(const char *name, const char *what, const ft_tensor *t, const void *got, const void *want,
		   bool exact, double *err_out)
{
	int bad = 0;
	double err = 0, scale = 1;
	int64_t at = -1;
	size_t es = ft_dtype_size(t->dtype);
	for (int64_t i = 0; i < t->numel; i++) {
		double a = value(t, got, i), b = value(t, want, i);
		if (!isfinite(b) || !isfinite(a)) {
			bool same = isnan(b) ? isnan(a) : a == b;
			if (!same && bad++ < 3)
				printf("FAIL %s %s: element %lld: cuda %g, cpu %g\n", name, what, (long long)i, a, b);
			continue;
		}
		if (exact) {
			if (memcmp((const char *)got + (size_t)i * es, (const char *)want + (size_t)i * es, es) &&
			    bad++ < 3)
				printf("FAIL %s %s: element %lld: cuda %.9g, cpu %.9g (exact op)\n", name, what, (long long)i,
				       a, b);
			continue;
		}
		if (fabs(b) > scale)
			scale = fabs(b);
		if (fabs(a - b) > err) {
			err = fabs(a - b);
			at = i;
		}
	}
	/*
	 * float32: 1e-5 (see the top). float16/bfloat16 storage: both sides compute
	 * in float32 and round once; float32 results a few ulp apart can round to
	 * neighbouring values, so one unit in the last place of the storage type
	 * at the largest magnitude (2^-10, 2^-7) is what they may differ by.
	 */
	double tol = t->dtype == FT_F16 ? 0x1p-10 : t->dtype == FT_BF16 ? 0x1p-7 : 1e-5;
	if (!exact && err / scale > tol) {
		printf("FAIL %s %s: normalised error %.3g at element %lld, bound %.3g\n", name, what, err / scale,
		       (long long)at, tol);
		bad++;
	}
	if (err / scale > *err_out)
		*err_out = err / scale;
	return bad;
}

/*
 * Runs node n of g (inputs hold host data, outputs are shaped) on the CPU and
 * on the GPU and compares every output, and the inputs in `inplace` (bit i:
 * input i, which side-effect ops such as the optimizer steps update; ALL_INPUTS:
 * every input, for the multi-tensor steps' many).
 */
#define ALL_INPUTS 0x80000000u
static bool compared(unsigned inplace, int i)
{
	return (inplace & ALL_INPUTS) || (i < 31 && (inplace >> i & 1));
}

static void run_node_case(ft_backend cu, ft_graph *g, ft_node *n, const char *label, bool exact, unsigned inplace)
{
	cases++;
	const char *name = label ? label : ft_op_table[n->op].name;
	int bad = 0;
	double err = 0;
	if (!cu.iface->supports_op(cu.ctx, g, n)) {
		printf("FAIL %s: the cuda backend does not take this case\n", name);
		failures++;
		return;
	}
	enum { MAXT = 192 };
	void *host_in[MAXT] = { 0 }, *saved[MAXT] = { 0 }, *want_in[MAXT] = { 0 }, *want_out[MAXT] = { 0 };
	FT_ASSERT(n->n_in <= MAXT && n->n_out <= MAXT);
	for (int i = 0; i < n->n_in; i++) {
		ft_tensor *x = ft_in(g, n, i);
		if (!x)
			continue;
		host_in[i] = x->data;
		saved[i] = ft_xmalloc(ft_tensor_bytes(x) + 1);
		memcpy(saved[i], x->data, ft_tensor_bytes(x));
	}
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *y = ft_out(g, n, i);
		want_out[i] = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(y) + 1));
		y->data = want_out[i];
	}
	/* the CPU backend's own path (float16/bfloat16 widened to float32 around the kernel) */
	ft_status st = cpu.iface->run_node(cpu.ctx, g, n);
	cpu.iface->release_node(cpu.ctx, n); /* its prepared primitives: n->extra is the CUDA backend's next */
	if (st) {
		printf("FAIL %s: cpu: %s\n", name, ft_last_error());
		failures++;
		goto out;
	}
	for (int i = 0; i < n->n_in; i++) /* the CPU's results in place, then the inputs as they were */
		if (host_in[i] && compared(inplace, i)) {
			size_t bytes = ft_tensor_bytes(ft_in(g, n, i));
			want_in[i] = ft_xmalloc(bytes + 1);
			memcpy(want_in[i], host_in[i], bytes);
			memcpy(host_in[i], saved[i], bytes);
		}
	/* prepared as the executor prepares it: before the inputs move to the device */
	size_t scratch = 0, state = 0;
	void *ws = NULL;
	st = cu.iface->prepare_node(cu.ctx, g, n, &scratch, &state);
	for (int i = 0; i < n->n_in; i++) {
		ft_tensor *x = ft_in(g, n, i);
		if (!x)
			continue;
		void *d = cu.iface->alloc(cu.ctx, ft_tensor_bytes(x) + 1);
		cu.iface->upload(cu.ctx, d, x->data, ft_tensor_bytes(x));
		x->data = d;
	}
	unsigned char *got[MAXT] = { 0 };
	void *dev_out[MAXT] = { 0 };
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *y = ft_out(g, n, i);
		size_t bytes = ft_tensor_bytes(y);
		got[i] = ft_xmalloc(bytes + SENTINEL);
		/* body NaN (0xff bytes): an element the kernel never writes fails the comparison;
		 * tail 0xa5: a write past the end fails the sentinel check */
		memset(got[i], 0xff, bytes);
		memset(got[i] + bytes, 0xa5, SENTINEL);
		dev_out[i] = cu.iface->alloc(cu.ctx, bytes + SENTINEL);
		cu.iface->upload(cu.ctx, dev_out[i], got[i], bytes + SENTINEL);
		y->data = dev_out[i];
	}
	if (!st && scratch) {
		ws = cu.iface->alloc(cu.ctx, scratch);
		cu.iface->set_workspace(cu.ctx, ws, scratch);
	}
	if (!st)
		st = cu.iface->run_node(cu.ctx, g, n);
	if (!st)
		cu.iface->sync(cu.ctx);
	if (st) {
		printf("FAIL %s: cuda: %s\n", name, ft_last_error());
		bad++;
	}
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *y = ft_out(g, n, i);
		size_t bytes = ft_tensor_bytes(y);
		cu.iface->download(cu.ctx, got[i], dev_out[i], bytes + SENTINEL);
		cu.iface->free(cu.ctx, dev_out[i]);
		y->data = want_out[i];
		for (int k = 0; k < SENTINEL && !st; k++)
			if (got[i][bytes + k] != 0xa5) {
				printf("FAIL %s: a write past output %d's end (byte %d after it)\n", name, i, k);
				bad++;
				break;
			}
		if (!st)
			bad += compare(name, "output", y, got[i], want_out[i], exact, &err);
		free(got[i]);
	}
	for (int i = 0; i < n->n_in; i++) {
		ft_tensor *x = ft_in(g, n, i);
		if (!x)
			continue;
		if (want_in[i] && !st) {
			void *back = ft_xmalloc(ft_tensor_bytes(x) + 1);
			cu.iface->download(cu.ctx, back, x->data, ft_tensor_bytes(x));
			char what[32];
			snprintf(what, sizeof(what), "input %d in place", i);
			bad += compare(name, what, x, back, want_in[i], exact, &err);
			free(back);
		}
		cu.iface->free(cu.ctx, x->data);
		x->data = host_in[i];
	}
	if (ws) {
		cu.iface->set_workspace(cu.ctx, NULL, 0);
		cu.iface->free(cu.ctx, ws);
	}
	cu.iface->release_node(cu.ctx, n);
	printf("%s %-28s %s, normalised error %.3g\n", bad ? "FAIL" : "ok  ", name, exact ? "exact" : "", err);
	failures += bad != 0;
out:
	for (int i = 0; i < MAXT; i++) {
		free(saved[i]);
		free(want_in[i]);
	}
}

static void run_case(ft_backend cu, const tcase *c)
{
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
		cases++;
		printf("FAIL %s: infer: %s\n", ft_op_table[c->op].name, ft_last_error());
		failures++;
	} else {
		run_node_case(cu, g, n, NULL, c->exact, 0);
	}
	ft_graph_free(g);
}

/* a float32 input of the given shape, uniform in [lo, hi) */
static int f32_input(ft_graph *g, int rank, const int64_t *dims, float lo, float hi)
{
	return new_input(g, FT_F32, rank, dims, lo, hi, false);
}

/* int64 labels in [0, classes) */
static int labels_input(ft_graph *g, int64_t n, int64_t classes)
{
	int id = ft_graph_new_tensor(g, "labels");
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, FT_I64, 1, &n);
	t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t)));
	for (int64_t i = 0; i < n; i++)
		((int64_t *)t->data)[i] = (int64_t)frand(0, (float)classes) % classes;
	t->kind = FT_TK_INPUT;
	return id;
}

/* a float32 scalar input holding v */
static int scalar_input(ft_graph *g, float v)
{
	int id = ft_graph_new_tensor(g, "s");
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, FT_F32, 0, NULL);
	t->data = ft_graph_own(g, ft_aligned_alloc(sizeof(float)));
	*(float *)t->data = v;
	t->kind = FT_TK_INPUT;
	return id;
}

/* node op over inputs in[0..n_in) with n_out inferred outputs */
static ft_node *node(ft_graph *g, ft_op op, int n_in, const int *in, int n_out)
{
	ft_node *n = ft_graph_add_node(g, op, "n", n_in, n_out);
	for (int i = 0; i < n_in; i++)
		n->in[i] = in[i];
	for (int i = 0; i < n_out; i++)
		n->out[i] = ft_graph_new_tensor(g, "y");
	return n;
}

static bool wanted(const char *only, ft_op op)
{
	return !only || strcmp(only, ft_op_table[op].name) == 0;
}

static void infer_and_run(ft_backend cu, ft_graph *g, ft_node *n, const char *label, bool exact, unsigned inplace)
{
	ft_status st = ft_op_table[n->op].infer(g, n);
	if (st) {
		cases++;
		failures++;
		printf("FAIL %s: infer: %s\n", label, ft_last_error());
	} else {
		run_node_case(cu, g, n, label, exact, inplace);
	}
	ft_graph_free(g);
}

/* 2-D convolutions forward and backward, with a bias, strides, padding, dilation and groups */
static void conv_cases(ft_backend cu, const char *only)
{
	static const struct {
		int64_t n, c, h, w, k, kh, stride, pad, dil, group;
	} convs[] = { { 2, 3, 33, 31, 16, 7, 2, 3, 1, 1 }, { 4, 16, 14, 14, 32, 3, 1, 1, 1, 1 },
		      { 2, 32, 12, 12, 32, 3, 1, 2, 2, 32 }, { 3, 8, 9, 9, 12, 1, 1, 0, 1, 4 },
		      { 8, 16, 64, 60, 16, 3, 1, 1, 1, 16 }, { 2, 24, 15, 13, 24, 5, 2, 2, 1, 24 },
		      { 5, 24, 7, 9, 40, 1, 1, 0, 1, 1 }, { 6, 40, 1, 1, 24, 1, 1, 0, 1, 1 } };
	/*
	 * float32 on every geometry; float16 and bfloat16 (AMP, tensor cores) on the second, on
	 * the depthwise 5 x 5 (cuDNN's, or depthwise.cu's with FT_CUDA_DEPTHWISE=1) and on the
	 * two 1 x 1 ones, whose forward and input gradient are matrix products (per image, and on a
	 * 1 x 1 image the batch's rows: cuda_conv.c). The depthwise 3 x 3 on 64 x 60 splits its
	 * weight gradient over 8 parts; the depthwise inputs are not square, so a mix-up of height
	 * and width shows
	 */
	static const size_t low[] = { 1, 1, 5, 5, 6, 6, 7, 7 }; /* float16, bfloat16 in turn */
	const size_t nc = sizeof(convs) / sizeof(convs[0]), nl = sizeof(low) / sizeof(low[0]);
	for (size_t kk = 0; kk < nc + nl; kk++) {
		size_t k = kk < nc ? kk : low[kk - nc];
		ft_dtype dt = kk < nc ? FT_F32 : (kk - nc) % 2 ? FT_BF16 : FT_F16;
		int64_t xd[4] = { convs[k].n, convs[k].c, convs[k].h, convs[k].w };
		int64_t wd[4] = { convs[k].k, convs[k].c / convs[k].group, convs[k].kh, convs[k].kh };
		int64_t kern[2] = { convs[k].kh, convs[k].kh }, st[2] = { convs[k].stride, convs[k].stride };
		int64_t pads[4] = { convs[k].pad, convs[k].pad, convs[k].pad, convs[k].pad };
		int64_t dil[2] = { convs[k].dil, convs[k].dil };
		for (int which = 0; which < 3; which++) {
			static const ft_op ops[3] = { FT_OP_CONV, FT_OP_CONV_GRAD_INPUT, FT_OP_CONV_GRAD_WEIGHT };
			if (!wanted(only, ops[which]))
				continue;
			ft_graph *g = ft_graph_new("conv");
			/* the forward first, to know dy's shape */
			int x = new_input(g, dt, 4, xd, -1, 1, false), w = new_input(g, dt, 4, wd, -1, 1, false),
			    b = new_input(g, dt, 1, wd, -1, 1, false);
			int fin[3] = { x, w, b };
			ft_node *f = node(g, FT_OP_CONV, 3, fin, 1);
			ft_node_set_ints(g, f, "kernel_shape", kern, 2);
			ft_node_set_ints(g, f, "strides", st, 2);
			ft_node_set_ints(g, f, "pads", pads, 4);
			ft_node_set_ints(g, f, "dilations", dil, 2);
			ft_node_set_int(g, f, "group", convs[k].group);
			if (ft_op_table[FT_OP_CONV].infer(g, f)) {
				printf("FAIL conv case %zu: infer: %s\n", k, ft_last_error());
				failures++;
				ft_graph_free(g);
				continue;
			}
			ft_node *n = f;
			if (which) {
				const ft_tensor *y = ft_out(g, f, 0);
				int dy = new_input(g, dt, y->rank, y->dims, -1, 1, false);
				int in[2] = { dy, which == 1 ? w : x };
				n = node(g, ops[which], 2, in, which == 1 ? 1 : 2);
				ft_node_set_ints(g, n, "kernel_shape", kern, 2);
				ft_node_set_ints(g, n, "strides", st, 2);
				ft_node_set_ints(g, n, "pads", pads, 4);
				ft_node_set_ints(g, n, "dilations", dil, 2);
				ft_node_set_int(g, n, "group", convs[k].group);
				ft_node_set_ints(g, n, which == 1 ? "x_shape" : "w_shape", which == 1 ? xd : wd, 4);
				if (ft_op_table[n->op].infer(g, n)) {
					printf("FAIL conv case %zu: infer: %s\n", k, ft_last_error());
					failures++;
					ft_graph_free(g);
					continue;
				}
			}
			char label[96];
			snprintf(label, sizeof(label), "%s k%lld s%lld p%lld d%lld g%lld %s", ft_op_table[ops[which]].name,
				 (long long)convs[k].kh, (long long)convs[k].stride, (long long)convs[k].pad,
				 (long long)convs[k].dil, (long long)convs[k].group, ft_dtype_name(dt));
			run_node_case(cu, g, n, label, false, 0);
			ft_graph_free(g);
		}
	}
}

/* BatchNorm case flags: x channels last (N, H, W, C), and the ReLU fused (ft_relu, runtime/train.c) */
enum { BN_LAST = 1, BN_RELU = 2 };

/*
 * One BatchNorm case of op: training (the running statistics updated in place, compared),
 * BatchNormApply (the training forward's y again), inference, or the backward (with BN_RELU
 * also the ReLU's output, a sixth input). x of type dt and shape d; the parameters and
 * statistics float32, one per channel. label NULL: the op's name.
 */
static void bn_case(ft_backend cu, const char *only, ft_op op, ft_dtype dt, const int64_t *d, unsigned flags,
		    const char *label)
{
	if (!wanted(only, op))
		return;
	int64_t c1[1] = { flags & BN_LAST ? d[3] : d[1] };
	ft_graph *g = ft_graph_new("bn");
	int in[6], n_in = 5, n_out = op == FT_OP_BATCH_NORM_TRAIN || op == FT_OP_BATCH_NORM_GRAD ? 3 : 1;
	if (op == FT_OP_BATCH_NORM_GRAD) {
		int v[6] = { new_input(g, dt, 4, d, -1, 1, false), new_input(g, dt, 4, d, -3, 5, false),
			     f32_input(g, 1, c1, 0.5f, 1.5f), f32_input(g, 1, c1, 0.5f, 1.5f), f32_input(g, 1, c1, 0.2f, 1),
			     flags & BN_RELU ? new_input(g, dt, 4, d, -1, 1, false) : -1 };
		memcpy(in, v, sizeof(v));
		n_in = flags & BN_RELU ? 6 : 5;
	} else { /* x, scale, bias, mean, then the variance (training) or 1/std (apply, inference) */
		bool train = op == FT_OP_BATCH_NORM_TRAIN;
		int v[5] = { new_input(g, dt, 4, d, -3, 5, false), f32_input(g, 1, c1, 0.5f, 1.5f), f32_input(g, 1, c1, -1, 1),
			     f32_input(g, 1, c1, -0.1f, 0.1f), train ? f32_input(g, 1, c1, 0.5f, 1.5f) : f32_input(g, 1, c1, 0.2f, 2) };
		memcpy(in, v, sizeof(v));
		if (train)
			g->tensors[in[3]].kind = g->tensors[in[4]].kind = FT_TK_STATE;
	}
	ft_node *n = node(g, op, n_in, in, n_out);
	if (flags & BN_LAST)
		ft_node_set_int(g, n, "ft_channels_last", 1);
	if (flags & BN_RELU)
		ft_node_set_int(g, n, "ft_relu", 1);
	infer_and_run(cu, g, n, label, false, op == FT_OP_BATCH_NORM_TRAIN ? 8 | 16 : 0);
}

/*
 * Channels last (ft_channels_last, runtime/layout.c): convolutions with NHWC activations and
 * KRSC weights (cuDNN's NHWC format; a 1 x 1 one as single products of all positions' rows,
 * forward and both gradients; the bias gradients summed over rows in parts), and BatchNorm
 * over (N, H, W, C) (the row kernels of norm_pool.cu, the channels contiguous), in training,
 * recomputed, backward and inference. The CPU runs them by transposing around its NCHW
 * kernels (backend_cpu.c).
 */
static void channels_last_cases(ft_backend cu, const char *only)
{
	static const struct {
		int64_t n, c, h, w, k, kh, stride, pad;
		bool bias;
	} convs[] = { { 4, 16, 14, 13, 32, 3, 1, 1, false }, { 5, 24, 7, 9, 40, 1, 1, 0, true },
		      { 2, 3, 33, 31, 16, 7, 2, 3, true } };
	static const ft_op ops[3] = { FT_OP_CONV, FT_OP_CONV_GRAD_INPUT, FT_OP_CONV_GRAD_WEIGHT };
	for (size_t k = 0; k < sizeof(convs) / sizeof(convs[0]); k++)
		for (int t = 0; t < 3; t++)
			for (int which = 0; which < 3; which++) {
				if (!wanted(only, ops[which]))
					continue;
				ft_dtype dt = t == 0 ? FT_F32 : t == 1 ? FT_BF16 : FT_F16;
				int64_t xn[4] = { convs[k].n, convs[k].c, convs[k].h, convs[k].w }, xd[4], wd[4];
				int64_t wn[4] = { convs[k].k, convs[k].c, convs[k].kh, convs[k].kh };
				ft_dims_nhwc(xn, xd);
				ft_dims_nhwc(wn, wd);
				int64_t kern[2] = { convs[k].kh, convs[k].kh }, st[2] = { convs[k].stride, convs[k].stride };
				int64_t pads[4] = { convs[k].pad, convs[k].pad, convs[k].pad, convs[k].pad };
				ft_graph *g = ft_graph_new("conv_nhwc");
				int x = new_input(g, dt, 4, xd, -1, 1, false), w = new_input(g, dt, 4, wd, -1, 1, false),
				    b = new_input(g, dt, 1, wd, -1, 1, false);
				int fin[3] = { x, w, b };
				ft_node *f = node(g, FT_OP_CONV, convs[k].bias ? 3 : 2, fin, 1);
				ft_node_set_ints(g, f, "kernel_shape", kern, 2);
				ft_node_set_ints(g, f, "strides", st, 2);
				ft_node_set_ints(g, f, "pads", pads, 4);
				ft_node_set_int(g, f, "ft_channels_last", 1);
				ft_node *n = f;
				bool ok = ft_op_table[FT_OP_CONV].infer(g, f) == FT_OK;
				if (ok && which) {
					const ft_tensor *y = ft_out(g, f, 0);
					int dy = new_input(g, dt, y->rank, y->dims, -1, 1, false);
					int in[2] = { dy, which == 1 ? w : x };
					n = node(g, ops[which], 2, in, which == 1 ? 1 : convs[k].bias ? 2 : 1);
					ft_node_set_ints(g, n, "kernel_shape", kern, 2);
					ft_node_set_ints(g, n, "strides", st, 2);
					ft_node_set_ints(g, n, "pads", pads, 4);
					ft_node_set_ints(g, n, which == 1 ? "x_shape" : "w_shape", which == 1 ? xd : wd, 4);
					ft_node_set_int(g, n, "ft_channels_last", 1);
					ok = ft_op_table[n->op].infer(g, n) == FT_OK;
				}
				char label[96];
				snprintf(label, sizeof(label), "%s NHWC k%lld s%lld%s %s", ft_op_table[ops[which]].name,
					 (long long)convs[k].kh, (long long)convs[k].stride, convs[k].bias ? " bias" : "",
					 ft_dtype_name(dt));
				if (ok) {
					run_node_case(cu, g, n, label, false, 0);
				} else {
					cases++;
					failures++;
					printf("FAIL %s: infer: %s\n", label, ft_last_error());
				}
				ft_graph_free(g);
			}
	/* BatchNorm: few channels over many rows (the rows split in parts), and more channels than a tile */
	static const int64_t bshapes[2][4] = { { 16, 40, 41, 3 }, { 4, 9, 11, 72 } };
	static const ft_op bn_ops[4] = { FT_OP_BATCH_NORM_TRAIN, FT_OP_BATCH_NORM_APPLY, FT_OP_BATCH_NORM,
					 FT_OP_BATCH_NORM_GRAD };
	static const char *bn_names[4] = { "BatchNormTrain", "BatchNormApply", "BatchNormalization", "BatchNormGrad" };
	for (int v = 0; v < 4; v++) {
		const int64_t *d = bshapes[v & 1];
		ft_dtype dt = v < 2 ? FT_F32 : FT_BF16;
		for (int o = 0; o < 4; o++) {
			if (bn_ops[o] == FT_OP_BATCH_NORM && v >= 2) /* inference: float32 on the GPU */
				continue;
			char label[64];
			snprintf(label, sizeof(label), "%s NHWC C%lld%s%s", bn_names[o], (long long)d[3],
				 bn_ops[o] == FT_OP_BATCH_NORM ? "" : " ", bn_ops[o] == FT_OP_BATCH_NORM ? "" : ft_dtype_name(dt));
			bn_case(cu, only, bn_ops[o], dt, d, BN_LAST, label);
		}
	}
}

/* MaxPool 3x3 stride 2 pad 1 (ResNet's stem) of type dt, or its gradient */
static void max_pool_case(ft_backend cu, const char *only, ft_dtype dt, bool grad)
{
	if (!wanted(only, grad ? FT_OP_MAX_POOL_GRAD : FT_OP_MAX_POOL))
		return;
	int64_t pd[4] = { 4, 16, 56, 56 }, kern[2] = { 3, 3 }, st[2] = { 2, 2 }, pads[4] = { 1, 1, 1, 1 };
	ft_graph *g = ft_graph_new("max_pool");
	int x = new_input(g, dt, 4, pd, -4, 4, dt == FT_F32);
	ft_node *n = node(g, FT_OP_MAX_POOL, 1, &x, 1);
	for (int pass = 0; pass < 1 + grad; pass++) {
		if (pass) { /* the forward's output shape is dy's */
			if (ft_op_table[FT_OP_MAX_POOL].infer(g, n)) {
				printf("FAIL MaxPool: infer: %s\n", ft_last_error());
				failures++;
				ft_graph_free(g);
				return;
			}
			const ft_tensor *y = ft_out(g, n, 0);
			int in[2] = { new_input(g, dt, y->rank, y->dims, -1, 1, false), x };
			n = node(g, FT_OP_MAX_POOL_GRAD, 2, in, 1);
		}
		ft_node_set_ints(g, n, "kernel_shape", kern, 2);
		ft_node_set_ints(g, n, "strides", st, 2);
		ft_node_set_ints(g, n, "pads", pads, 4);
	}
	char label[64];
	snprintf(label, sizeof(label), "%s %s", grad ? "ft.MaxPoolGrad" : "MaxPool", ft_dtype_name(dt));
	infer_and_run(cu, g, n, label, !grad, 0);
}

/* BatchNorm in training (running statistics updated in place) and its backward; pooling */
static void norm_pool_cases(ft_backend cu, const char *only)
{
	int64_t xd[4] = { 8, 24, 9, 11 };
	/* one block per channel, then few channels with large planes: the sums split over 4 blocks each
	 * (ft_cu_bn_parts), the splits falling inside planes */
	static const int64_t shapes[2][4] = { { 8, 24, 9, 11 }, { 32, 3, 40, 41 } };
	for (int v = 0; v < 2; v++) {
		bn_case(cu, only, FT_OP_BATCH_NORM_TRAIN, FT_F32, shapes[v], 0, v ? "BatchNormTrain, split sums" : NULL);
		bn_case(cu, only, FT_OP_BATCH_NORM_APPLY, FT_F32, shapes[v], 0, v ? "BatchNormApply" : NULL);
		bn_case(cu, only, FT_OP_BATCH_NORM_GRAD, FT_F32, shapes[v], 0, v ? "BatchNormGrad, split sums" : NULL);
	}
	for (int k = 0; k < 6; k++) /* float32 with NaN and infinities, float16, bfloat16; each forward, backward */
		max_pool_case(cu, only, k < 2 ? FT_F32 : k < 4 ? FT_F16 : FT_BF16, k & 1);
	/*
	 * With the ReLU fused (ft_relu, runtime/train.c): the forward and its recompute write
	 * max(y, 0); the backward takes the ReLU's output as a sixth input and counts dy where it
	 * is positive. Float32 and bfloat16, channels first and (few channels, many rows) last.
	 */
	for (int k = 0; k < 6; k++) { /* k 4, 5: large planes, the sums split over parts (ft_cu_bn_parts) */
		ft_dtype dt = k & 1 ? FT_BF16 : FT_F32;
		bool last = k == 2 || k == 3;
		const int64_t *d = last ? (const int64_t[4]){ 16, 40, 41, 3 } : k >= 4 ? shapes[1] : xd;
		static const ft_op ops[3] = { FT_OP_BATCH_NORM_TRAIN, FT_OP_BATCH_NORM_APPLY, FT_OP_BATCH_NORM_GRAD };
		static const char *names[3] = { "BatchNormTrain", "BatchNormApply", "BatchNormGrad" };
		for (int o = 0; o < 3; o++) {
			char label[64];
			snprintf(label, sizeof(label), "%s ReLU%s %s", names[o], last ? " NHWC" : k >= 4 ? " split" : "",
				 ft_dtype_name(dt));
			bn_case(cu, only, ops[o], dt, d, BN_RELU | (last ? BN_LAST : 0), label);
		}
	}
	for (int k = 0; k < 2; k++) { /* AMP: float16/bfloat16 x with float32 parameters and statistics */
		ft_dtype dt = k ? FT_BF16 : FT_F16;
		bn_case(cu, only, FT_OP_BATCH_NORM_TRAIN, dt, xd, 0, k ? "BatchNormTrain bfloat16" : "BatchNormTrain float16");
		bn_case(cu, only, FT_OP_BATCH_NORM_APPLY, dt, xd, 0, k ? "BatchNormApply bfloat16" : "BatchNormApply float16");
		bn_case(cu, only, FT_OP_BATCH_NORM_GRAD, dt, xd, 0, k ? "BatchNormGrad bfloat16" : "BatchNormGrad float16");
		for (int run = 0; run < 3 && wanted(only, FT_OP_REDUCE_SUM_TO); run++) {
			/* the atomic kernel, then ft_cu_sum_run's rows and columns, in this storage type */
			ft_graph *g = ft_graph_new("reduce_lp");
			int64_t d[4] = { 8, 64, 7, 7 }, to[3][4] = { { 1, 64, 1, 1 }, { 8, 64, 1, 1 }, { 8, 1, 7, 7 } };
			int x = new_input(g, dt, 4, d, -1, 1, false);
			ft_node *n = node(g, FT_OP_REDUCE_SUM_TO, 1, &x, 1);
			ft_node_set_ints(g, n, "shape", to[run], 4);
			infer_and_run(cu, g, n, "ReduceSumTo low precision", false, 0);
		}
	}
	int64_t gd[4] = { 8, 64, 7, 7 }, yd[4] = { 8, 64, 1, 1 };
	if (wanted(only, FT_OP_GLOBAL_AVERAGE_POOL)) {
		ft_graph *g = ft_graph_new("gap");
		int x = f32_input(g, 4, gd, -4, 4);
		infer_and_run(cu, g, node(g, FT_OP_GLOBAL_AVERAGE_POOL, 1, &x, 1), NULL, false, 0);
	}
	if (wanted(only, FT_OP_GLOBAL_POOL_GRAD)) {
		ft_graph *g = ft_graph_new("gap_grad");
		int in[2] = { f32_input(g, 4, yd, -1, 1), f32_input(g, 4, gd, -4, 4) };
		infer_and_run(cu, g, node(g, FT_OP_GLOBAL_POOL_GRAD, 2, in, 1), NULL, false, 0);
	}
}

/* an int64 constant (a shape, starts/ends, indices) */
static int i64_const(ft_graph *g, int64_t n, const int64_t *v)
{
	int id = ft_graph_new_tensor(g, "k");
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, FT_I64, 1, &n);
	t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t) + 1));
	memcpy(t->data, v, sizeof(int64_t) * (size_t)n);
	t->kind = FT_TK_CONST;
	return id;
}

/* what the Vision Transformer adds: data movement, Gather, Softmax, LayerNorm, and BatchNorm inference */
static void attn_cases(ft_backend cu, const char *only)
{
	int64_t xd[4] = { 2, 12, 197, 64 };
	if (wanted(only, FT_OP_TRANSPOSE)) {
		static const int64_t perms[][4] = { { 0, 2, 1, 3 }, { 0, 1, 3, 2 }, { 3, 2, 1, 0 } };
		for (int k = 0; k < 3; k++) {
			ft_graph *g = ft_graph_new("transpose");
			int x = new_input(g, FT_F32, 4, xd, -4, 4, true);
			ft_node *n = node(g, FT_OP_TRANSPOSE, 1, &x, 1);
			ft_node_set_ints(g, n, "perm", perms[k], 4);
			infer_and_run(cu, g, n, "Transpose", true, 0);
		}
		/* bfloat16, the last axis kept: 16-byte words (8 elements); and one of 7, which stays 2-byte */
		static const int64_t odd[3] = { 3, 5, 7 };
		for (int k = 0; k < 2; k++) {
			static const int64_t p3[3] = { 1, 0, 2 };
			ft_graph *g = ft_graph_new("transpose_lp");
			int x = new_input(g, FT_BF16, k ? 3 : 4, k ? odd : xd, -4, 4, false);
			ft_node *n = node(g, FT_OP_TRANSPOSE, 1, &x, 1);
			ft_node_set_ints(g, n, "perm", k ? p3 : perms[0], k ? 3 : 4);
			infer_and_run(cu, g, n, k ? "Transpose bfloat16, 7 kept" : "Transpose bfloat16, 64 kept", true, 0);
		}
	}
	/* bfloat16 slices of the last axis with step 1: from 8 (16-byte words), 4 (8-byte), 2 (4-byte)
	 * and 3 (2-byte elements); and with step -1 on axis 2 (a negative outer stride, 16-byte words) */
	static const int64_t from[5] = { 8, 4, 2, 3, 8 };
	for (int k = 0; k < 5 && wanted(only, FT_OP_SLICE); k++) {
		ft_graph *g = ft_graph_new("slice_lp");
		bool back = k == 4;
		int64_t st[2] = { from[k], back ? 150 : 0 }, en[2] = { from[k] + 32, back ? 10 : 197 }, ax[2] = { 3, 2 },
			sp[2] = { 1, back ? -1 : 1 };
		int in[5] = { new_input(g, FT_BF16, 4, xd, -4, 4, false), i64_const(g, 2, st), i64_const(g, 2, en),
			      i64_const(g, 2, ax), i64_const(g, 2, sp) };
		char label[64];
		snprintf(label, sizeof(label), "Slice bfloat16 from %lld%s", (long long)from[k], back ? ", axis 2 back" : "");
		infer_and_run(cu, g, node(g, FT_OP_SLICE, 5, in, 1), label, true, 0);
	}
	for (int k = 0; k < 2 && wanted(only, FT_OP_SLICE_GRAD); k++) { /* the same, scattered back */
		ft_graph *g = ft_graph_new("slice_grad_lp");
		int64_t dyd[4] = { 2, 12, 197, k ? 56 : 32 }, st[4] = { 0, 0, 0, k ? 3 : 8 }, sp[4] = { 1, 1, 1, 1 };
		int dy = new_input(g, FT_BF16, 4, dyd, -1, 1, false);
		ft_node *n = node(g, FT_OP_SLICE_GRAD, 1, &dy, 1);
		ft_node_set_ints(g, n, "starts", st, 4);
		ft_node_set_ints(g, n, "steps", sp, 4);
		ft_node_set_ints(g, n, "shape", xd, 4);
		infer_and_run(cu, g, n, k ? "SliceGrad bfloat16 from 3" : "SliceGrad bfloat16 from 8", true, 0);
	}
	if (wanted(only, FT_OP_SLICE)) {
		ft_graph *g = ft_graph_new("slice");
		int64_t st[2] = { 1, 3 }, en[2] = { 197, 60 }, ax[2] = { 2, 3 }, sp[2] = { 1, 2 };
		int in[5] = { new_input(g, FT_F32, 4, xd, -4, 4, true), i64_const(g, 2, st), i64_const(g, 2, en),
			      i64_const(g, 2, ax), i64_const(g, 2, sp) };
		infer_and_run(cu, g, node(g, FT_OP_SLICE, 5, in, 1), "Slice", true, 0);
	}
	/* float32, and bfloat16 (ViT's query/key/value slices under AMP, since the projection's bias
	 * Add runs in bf16) */
	for (int k = 0; k < 2 && wanted(only, FT_OP_SLICE_GRAD); k++) {
		ft_graph *g = ft_graph_new("slice_grad");
		int64_t dyd[4] = { 2, 12, 196, 29 }, st[4] = { 0, 0, 1, 3 }, sp[4] = { 1, 1, 1, 2 };
		int dy = new_input(g, k ? FT_BF16 : FT_F32, 4, dyd, -1, 1, false);
		ft_node *n = node(g, FT_OP_SLICE_GRAD, 1, &dy, 1);
		ft_node_set_ints(g, n, "starts", st, 4);
		ft_node_set_ints(g, n, "steps", sp, 4);
		ft_node_set_ints(g, n, "shape", xd, 4);
		infer_and_run(cu, g, n, k ? "SliceGrad bfloat16" : "SliceGrad", true, 0);
	}
	if (wanted(only, FT_OP_EXPAND)) {
		ft_graph *g = ft_graph_new("expand");
		int64_t cd[3] = { 1, 1, 768 }, to[3] = { 8, 1, 768 };
		int in[2] = { f32_input(g, 3, cd, -1, 1), i64_const(g, 3, to) };
		infer_and_run(cu, g, node(g, FT_OP_EXPAND, 2, in, 1), "Expand", true, 0);
	}
	if (wanted(only, FT_OP_CONCAT)) {
		ft_graph *g = ft_graph_new("concat");
		int64_t a[3] = { 8, 1, 768 }, b[3] = { 8, 196, 768 }, c3[3] = { 8, 3, 768 };
		int in[3] = { f32_input(g, 3, a, -1, 1), f32_input(g, 3, b, -1, 1), f32_input(g, 3, c3, -1, 1) };
		ft_node *n = node(g, FT_OP_CONCAT, 3, in, 1);
		ft_node_set_int(g, n, "axis", 1);
		infer_and_run(cu, g, n, "Concat", true, 0);
	}
	for (int grad = 0; grad < 2; grad++) {
		if (!wanted(only, grad ? FT_OP_GATHER_GRAD : FT_OP_GATHER))
			continue;
		ft_graph *g = ft_graph_new("gather");
		int64_t d[3] = { 8, 197, 768 }, idx[4] = { 0, -1, 5, 0 }, yd[3] = { 8, 4, 768 };
		int in[2] = { grad ? f32_input(g, 3, yd, -1, 1) : f32_input(g, 3, d, -1, 1), i64_const(g, 4, idx) };
		ft_node *n = node(g, grad ? FT_OP_GATHER_GRAD : FT_OP_GATHER, 2, in, 1);
		ft_node_set_int(g, n, "axis", 1);
		if (grad)
			ft_node_set_ints(g, n, "shape", d, 3);
		infer_and_run(cu, g, n, NULL, !grad, 0);
	}
	for (int grad = 0; grad < 2; grad++) {
		if (!wanted(only, grad ? FT_OP_SOFTMAX_GRAD : FT_OP_SOFTMAX))
			continue;
		for (int axis = -1; axis >= -2; axis--) {
			ft_graph *g = ft_graph_new("softmax");
			int64_t d[4] = { 2, 12, 197, 197 };
			int in[2] = { f32_input(g, 4, d, grad ? -1 : -10, grad ? 1 : 10), f32_input(g, 4, d, 0, 0.02f) };
			ft_node *n = node(g, grad ? FT_OP_SOFTMAX_GRAD : FT_OP_SOFTMAX, grad ? 2 : 1, in, 1);
			ft_node_set_int(g, n, "axis", axis);
			infer_and_run(cu, g, n, grad ? "SoftmaxGrad" : "Softmax", false, 0);
		}
	}
	int64_t ld[3] = { 8, 197, 768 }, cd[1] = { 768 }, rd[2] = { 8, 197 };
	if (wanted(only, FT_OP_LAYER_NORM)) {
		ft_graph *g = ft_graph_new("ln");
		int in[3] = { f32_input(g, 3, ld, -3, 5), f32_input(g, 1, cd, 0.5f, 1.5f), f32_input(g, 1, cd, -1, 1) };
		ft_node *n = node(g, FT_OP_LAYER_NORM, 3, in, 3);
		ft_node_set_int(g, n, "axis", -1);
		ft_node_set_float(g, n, "epsilon", 1e-6f);
		infer_and_run(cu, g, n, NULL, false, 0);
	}
	/* ViT's rows (dscale and dbias over 7 parts of the rows), and 1001 rows of 100 columns: parts of
	 * uneven length, a tile of 32 columns cut short */
	int64_t ld2[3] = { 7, 143, 100 }, cd2[1] = { 100 }, rd2[2] = { 7, 143 };
	for (int k = 0; k < 2 && wanted(only, FT_OP_LAYER_NORM_GRAD); k++) {
		ft_graph *g = ft_graph_new("ln_grad");
		const int64_t *l = k ? ld2 : ld, *c = k ? cd2 : cd, *r = k ? rd2 : rd;
		int in[5] = { f32_input(g, 3, l, -1, 1), f32_input(g, 3, l, -3, 5), f32_input(g, 1, c, 0.5f, 1.5f),
			      f32_input(g, 2, r, 0.5f, 1.5f), f32_input(g, 2, r, 0.2f, 1) };
		ft_node *n = node(g, FT_OP_LAYER_NORM_GRAD, 5, in, 3);
		ft_node_set_int(g, n, "axis", -1);
		infer_and_run(cu, g, n, k ? "LayerNormGrad 1001 x 100" : NULL, false, 0);
	}
	if (wanted(only, FT_OP_IMAGE_NORMALIZE)) { /* the loader's uint8 batches normalised at the head of the graph */
		ft_graph *g = ft_graph_new("image_normalize");
		int64_t d[4] = { 8, 3, 32, 33 };
		int x = ft_graph_new_tensor(g, "images");
		ft_tensor *t = &g->tensors[x];
		ft_tensor_set_shape(t, FT_U8, 4, d);
		t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t)));
		for (int64_t i = 0; i < t->numel; i++)
			((uint8_t *)t->data)[i] = (uint8_t)frand(0, 256);
		t->kind = FT_TK_INPUT;
		ft_node *n = node(g, FT_OP_IMAGE_NORMALIZE, 1, &x, 1);
		static const float mean[3] = { 0.485f, 0.456f, 0.406f }, sd[3] = { 0.229f, 0.224f, 0.225f };
		ft_node_set_floats(g, n, "mean", mean, 3);
		ft_node_set_floats(g, n, "std", sd, 3);
		infer_and_run(cu, g, n, NULL, true, 0);
	}
	if (wanted(only, FT_OP_BATCH_NORM)) {
		ft_graph *g = ft_graph_new("bn_infer");
		int64_t bd[4] = { 4, 32, 14, 14 }, c32[1] = { 32 };
		int in[5] = { f32_input(g, 4, bd, -3, 5), f32_input(g, 1, c32, 0.5f, 1.5f), f32_input(g, 1, c32, -1, 1),
			      f32_input(g, 1, c32, -0.1f, 0.1f), f32_input(g, 1, c32, 0.5f, 1.5f) };
		infer_and_run(cu, g, node(g, FT_OP_BATCH_NORM, 5, in, 1), "BatchNormalization (inference)", false, 0);
	}
}

/* products, the loss, gradient reduction, accumulation and the optimizer steps */
static void train_cases(ft_backend cu, const char *only)
{
	/* Gemm: transposes, alpha/beta, every bias shape; beta 1 with a bias per column is cuBLASLt's epilogue */
	static const struct {
		int ta, tb, c_rank;
		int64_t c_dims[2];
		float beta;
	} gemms[] = { { 0, 0, 1, { 70, 0 }, 1.5f }, { 1, 0, 2, { 33, 1 }, 1.5f }, { 0, 1, 2, { 33, 70 }, 1.5f },
		      { 1, 1, 0, { 0, 0 }, 1.5f }, { 0, 1, -1, { 0, 0 }, 1.5f }, { 0, 1, 1, { 70, 0 }, 1.0f },
		      { 1, 0, 2, { 1, 70 }, 1.0f }, { 1, 1, 2, { 33, 70 }, 1.0f }, { 0, 0, 1, { 70, 0 }, 1.0f },
		      { 1, 1, 2, { 1, 70 }, 1.0f },
		      /* the first epilogue case again: its plan reused with a bias at another address */
		      { 0, 1, 1, { 70, 0 }, 1.0f } };
	for (size_t k = 0; k < sizeof(gemms) / sizeof(gemms[0]) && wanted(only, FT_OP_GEMM); k++) {
		ft_graph *g = ft_graph_new("gemm");
		int64_t ad[2] = { gemms[k].ta ? 129 : 33, gemms[k].ta ? 33 : 129 };
		int64_t bd[2] = { gemms[k].tb ? 70 : 129, gemms[k].tb ? 129 : 70 };
		int in[3] = { f32_input(g, 2, ad, -2, 2), f32_input(g, 2, bd, -2, 2), -1 };
		if (gemms[k].c_rank >= 0)
			in[2] = f32_input(g, gemms[k].c_rank, gemms[k].c_dims, -2, 2);
		ft_node *n = node(g, FT_OP_GEMM, gemms[k].c_rank >= 0 ? 3 : 2, in, 1);
		ft_node_set_int(g, n, "transA", gemms[k].ta);
		ft_node_set_int(g, n, "transB", gemms[k].tb);
		ft_node_set_float(g, n, "alpha", 0.75f);
		ft_node_set_float(g, n, "beta", gemms[k].beta);
		char label[64];
		snprintf(label, sizeof(label), "Gemm tA%d tB%d C rank %d beta %g", gemms[k].ta, gemms[k].tb,
			 gemms[k].c_rank, (double)gemms[k].beta);
		infer_and_run(cu, g, n, label, false, 0);
	}
	if (wanted(only, FT_OP_GEMM)) { /* an empty sum with a bias per column: y is the bias */
		ft_graph *g = ft_graph_new("gemm_k0");
		int64_t ad[2] = { 33, 0 }, bd[2] = { 0, 70 }, cd[1] = { 70 };
		int in[3] = { f32_input(g, 2, ad, -2, 2), f32_input(g, 2, bd, -2, 2), f32_input(g, 1, cd, -2, 2) };
		infer_and_run(cu, g, node(g, FT_OP_GEMM, 3, in, 1), "Gemm K=0 bias", true, 0);
	}
	if (wanted(only, FT_OP_MATMUL)) { /* batch broadcast both ways, and a 1-D operand */
		/* broadcast in a pattern (a product per matrix); B shared (one product of 5 x 17 rows); strided */
		static const int64_t shapes[][2][4] = { { { 2, 3, 17, 40 }, { 1, 3, 40, 9 } },
							 { { 5, 1, 17, 40 }, { 40, 9 } },
							 { { 2, 3, 17, 40 }, { 2, 3, 40, 9 } } };
		for (int k = 0; k < 3; k++) {
			ft_graph *g = ft_graph_new("matmul");
			int in[2] = { f32_input(g, 4, shapes[k][0], -2, 2), f32_input(g, k == 1 ? 2 : 4, shapes[k][1], -2, 2) };
			infer_and_run(cu, g, node(g, FT_OP_MATMUL, 2, in, 1), "MatMul batched", false, 0);
		}
		ft_graph *g0 = ft_graph_new("matmul_k0"); /* an empty sum: zeros (cuBLAS takes no K = 0) */
		int64_t a0[2] = { 3, 0 }, b0[2] = { 0, 4 };
		int in0[2] = { f32_input(g0, 2, a0, -2, 2), f32_input(g0, 2, b0, -2, 2) };
		infer_and_run(cu, g0, node(g0, FT_OP_MATMUL, 2, in0, 1), "MatMul K=0", true, 0);
		ft_graph *g = ft_graph_new("matmul1d");
		int64_t ad[1] = { 40 }, bd[3] = { 3, 40, 9 };
		int in[2] = { f32_input(g, 1, ad, -2, 2), f32_input(g, 3, bd, -2, 2) };
		infer_and_run(cu, g, node(g, FT_OP_MATMUL, 2, in, 1), "MatMul 1-D A", false, 0);
	}
	for (int k = 0; k < 4 && wanted(only, FT_OP_MATMUL_T); k++) {
		int ta = k & 1, tb = k >> 1;
		ft_graph *g = ft_graph_new("matmul_t");
		int64_t ad[3] = { 4, ta ? 40 : 17, ta ? 17 : 40 }, bd[3] = { 4, tb ? 9 : 40, tb ? 40 : 9 };
		int in[2] = { f32_input(g, 3, ad, -2, 2), f32_input(g, 3, bd, -2, 2) };
		ft_node *n = node(g, FT_OP_MATMUL_T, 2, in, 1);
		ft_node_set_int(g, n, "transA", ta);
		ft_node_set_int(g, n, "transB", tb);
		ft_node_set_float(g, n, "alpha", 0.5f);
		char label[64];
		snprintf(label, sizeof(label), "MatMulT tA%d tB%d", ta, tb);
		infer_and_run(cu, g, n, label, false, 0);
	}
	for (int k = 0; k < 4 && wanted(only, k < 2 ? FT_OP_GEMM : FT_OP_MATMUL_T); k++) { /* AMP's products */
		ft_dtype dt = k & 1 ? FT_BF16 : FT_F16;
		ft_graph *g = ft_graph_new("lp_product");
		int64_t ad[3] = { 4, 33, 129 }, bd[3] = { 4, 70, 129 }, cd[1] = { 70 };
		int in[3] = { new_input(g, dt, k < 2 ? 2 : 3, k < 2 ? ad + 1 : ad, -2, 2, false),
			      new_input(g, dt, k < 2 ? 2 : 3, k < 2 ? bd + 1 : bd, -2, 2, false),
			      new_input(g, dt, 1, cd, -2, 2, false) };
		ft_node *n = node(g, k < 2 ? FT_OP_GEMM : FT_OP_MATMUL_T, k < 2 ? 3 : 2, in, 1);
		ft_node_set_int(g, n, "transB", 1);
		char label[64];
		snprintf(label, sizeof(label), "%s %s", k < 2 ? "Gemm" : "MatMulT", ft_dtype_name(dt));
		infer_and_run(cu, g, n, label, false, 0);
	}
	if (wanted(only, FT_OP_AMP_UNSCALE)) { /* two gradients, one with an infinity, and the flag */
		for (int inf = 0; inf < 2; inf++) {
			ft_graph *g = ft_graph_new("unscale");
			int64_t d1[1] = { 100003 }, d2[2] = { 64, 33 };
			int in[3] = { scalar_input(g, 32768.0f), new_input(g, FT_F32, 1, d1, -1e4f, 1e4f, inf),
				      f32_input(g, 2, d2, -1, 1) };
			infer_and_run(cu, g, node(g, FT_OP_AMP_UNSCALE, 3, in, 1), inf ? "AmpUnscale inf" : "AmpUnscale",
				      false, 2 | 4);
		}
		/* 40 gradients (two launches of the multi-tensor kernel), an empty one, and infinities
		 * only in the second launch's: the flag must still be set */
		for (int inf = 0; inf < 2; inf++) {
			ft_graph *g = ft_graph_new("unscale_many");
			int in[41];
			in[0] = scalar_input(g, 32768.0f);
			for (int j = 0; j < 40; j++) {
				int64_t d[1] = { j == 3 ? 0 : j == 20 ? 300007 : 1 + (j * 1009) % 5003 };
				in[1 + j] = new_input(g, FT_F32, 1, d, -1e4f, 1e4f, inf && j == 34);
			}
			infer_and_run(cu, g, node(g, FT_OP_AMP_UNSCALE, 41, in, 1),
				      inf ? "AmpUnscale 40, inf in the 35th" : "AmpUnscale 40", false, ALL_INPUTS);
		}
	}
	for (int k = 0; k < 3 && wanted(only, FT_OP_AMP_UPDATE_SCALE); k++) { /* overflow, clean, growth */
		ft_graph *g = ft_graph_new("update_scale");
		int in[3] = { scalar_input(g, 65536.0f), scalar_input(g, k == 2 ? 2.0f : 0.0f), scalar_input(g, k == 0) };
		ft_node *n = node(g, FT_OP_AMP_UPDATE_SCALE, 3, in, 0);
		ft_node_set_int(g, n, "growth_interval", 3);
		static const char *labels[] = { "AmpUpdateScale overflow", "AmpUpdateScale clean", "AmpUpdateScale grow" };
		infer_and_run(cu, g, n, labels[k], true, 1 | 2);
	}
	if (wanted(only, FT_OP_SOFTMAX_CROSS_ENTROPY)) {
		for (int ls = 0; ls < 2; ls++) {
			ft_graph *g = ft_graph_new("sce");
			int64_t d[2] = { 37, 1000 };
			int in[2] = { f32_input(g, 2, d, -8, 8), labels_input(g, 37, 1000) };
			ft_node *n = node(g, FT_OP_SOFTMAX_CROSS_ENTROPY, 2, in, 2);
			ft_node_set_float(g, n, "label_smoothing", ls ? 0.1f : 0.0f);
			infer_and_run(cu, g, n, ls ? "SoftmaxCrossEntropy ls 0.1" : "SoftmaxCrossEntropy", false, 0);
		}
	}
	if (wanted(only, FT_OP_SOFTMAX_CROSS_ENTROPY_GRAD)) {
		ft_graph *g = ft_graph_new("sce_grad");
		int64_t d[2] = { 37, 1000 };
		int in[3] = { scalar_input(g, 0.25f), f32_input(g, 2, d, 0, 1e-3f), labels_input(g, 37, 1000) };
		ft_node *n = node(g, FT_OP_SOFTMAX_CROSS_ENTROPY_GRAD, 3, in, 1);
		ft_node_set_float(g, n, "label_smoothing", 0.1f);
		infer_and_run(cu, g, n, NULL, false, 0);
	}
	if (wanted(only, FT_OP_REDUCE_SUM_TO)) {
		/*
		 * the atomic kernel for summed axes in two runs (the first two), ft_cu_sum_run for
		 * one run: all of x; (o, r, 1) rows (a squeeze-excitation's gradient); (1, r, i)
		 * columns (a linear layer's bias, 768 wide: 24 tiles, several parts); (o, r, i)
		 */
		static const int64_t from[][4] = { { 8, 64, 7, 7 }, { 8, 64, 7, 7 }, { 8, 64, 7, 7 }, { 8, 64, 7, 7 },
						   { 4, 197, 768 }, { 6, 50, 40 } };
		static const int64_t to[][4] = { { 1, 64, 1, 1 }, { 64, 1, 1 }, { 1 }, { 8, 64, 1, 1 }, { 768 },
						 { 6, 1, 40 } };
		static const int from_rank[] = { 4, 4, 4, 4, 3, 3 }, ranks[] = { 4, 3, 1, 4, 1, 3 };
		for (int k = 0; k < 6; k++) {
			ft_graph *g = ft_graph_new("reduce_sum_to");
			int64_t d[4];
			memcpy(d, from[k], sizeof(d));
			int in[1] = { f32_input(g, from_rank[k], d, -1, 1) };
			ft_node *n = node(g, FT_OP_REDUCE_SUM_TO, 1, in, 1);
			ft_node_set_ints(g, n, "shape", to[k], ranks[k]);
			infer_and_run(cu, g, n, "ReduceSumTo", false, 0);
		}
	}
	for (int first = 0; first < 2 && wanted(only, FT_OP_GRAD_ACCUM); first++) {
		ft_graph *g = ft_graph_new("grad_accum");
		int64_t d[1] = { 100003 };
		int in[3] = { f32_input(g, 1, d, -1, 1), f32_input(g, 1, d, -1, 1), scalar_input(g, (float)first) };
		infer_and_run(cu, g, node(g, FT_OP_GRAD_ACCUM, 3, in, 0), first ? "GradAccum first" : "GradAccum",
			      false, 1);
	}
	/* SGD: plain, momentum, nesterov with a gradient scale, and a step skipped for an overflow */
	for (int k = 0; k < 4 && wanted(only, FT_OP_SGD_STEP); k++) {
		ft_graph *g = ft_graph_new("sgd");
		int64_t d[1] = { 100003 };
		int in[6] = { f32_input(g, 1, d, -1, 1), f32_input(g, 1, d, -1, 1), f32_input(g, 1, d, -1, 1),
			      scalar_input(g, 0.05f), scalar_input(g, 1.0f / 1024), scalar_input(g, k == 3) };
		ft_node *n = node(g, FT_OP_SGD_STEP, k >= 2 ? 6 : 4, in, 0);
		if (k == 0)
			n->in[2] = -1;
		ft_node_set_float(g, n, "momentum", k ? 0.9f : 0.0f);
		ft_node_set_float(g, n, "weight_decay", 1e-4f);
		ft_node_set_int(g, n, "nesterov", k >= 2);
		static const char *labels[] = { "SGDStep", "SGDStep momentum", "SGDStep nesterov scaled",
						"SGDStep skipped" };
		infer_and_run(cu, g, n, labels[k], false, 1 | 4);
	}
	for (int k = 0; k < 2 && wanted(only, FT_OP_ADAMW_STEP); k++) {
		ft_graph *g = ft_graph_new("adamw");
		int64_t d[1] = { 100003 };
		int in[8] = { f32_input(g, 1, d, -1, 1), f32_input(g, 1, d, -1, 1), f32_input(g, 1, d, -0.1f, 0.1f),
			      f32_input(g, 1, d, 0, 0.01f), scalar_input(g, 1e-3f), scalar_input(g, 7.0f),
			      scalar_input(g, 0.5f), scalar_input(g, (float)k) };
		ft_node *n = node(g, FT_OP_ADAMW_STEP, 8, in, 0);
		ft_node_set_float(g, n, "weight_decay", 0.05f);
		infer_and_run(cu, g, n, k ? "AdamWStep skipped" : "AdamWStep scaled", false, 1 | 4 | 8);
	}
	/*
	 * The multi-tensor steps: 40 tensors (two launches of up to 32), one of 300007 elements
	 * (more than its 1024 blocks cover in one pass) among small ones, one empty, one SGD tensor
	 * without a momentum buffer; skipped; and without a gradient scale and found_inf (plain
	 * training), and with the scale alone (clipping)
	 */
	for (int k = 0; k < 8 && wanted(only, k % 4 < 2 ? FT_OP_SGD_STEP_MULTI : FT_OP_ADAMW_STEP_MULTI); k++) {
		bool sgd = k % 4 < 2, skip = k < 4 && (k & 1), plain = k >= 4 && !(k & 1), scale_only = k >= 4 && (k & 1);
		int head = sgd ? 3 : 4, per = sgd ? 3 : 4, count = skip ? 3 : 40;
		ft_graph *g = ft_graph_new("multi_step");
		int in[4 + 4 * 40];
		in[0] = scalar_input(g, sgd ? 0.05f : 1e-3f);
		if (!sgd)
			in[1] = scalar_input(g, 7.0f);
		in[head - 2] = plain ? -1 : scalar_input(g, 1.0f / 1024);
		in[head - 1] = plain || scale_only ? -1 : scalar_input(g, (float)skip);
		for (int j = 0; j < count; j++) {
			int64_t d[1] = { j == 5 ? 300007 : j == 9 ? 0 : 1 + (j * 997) % 3001 };
			for (int q = 0; q < per; q++)
				in[head + per * j + q] = q == 3 ? f32_input(g, 1, d, 0, 0.01f) : f32_input(g, 1, d, -1, 1);
			if (sgd && j == 7)
				in[head + per * j + 2] = -1;
		}
		ft_node *n = node(g, sgd ? FT_OP_SGD_STEP_MULTI : FT_OP_ADAMW_STEP_MULTI, head + per * count, in, 0);
		ft_node_set_float(g, n, "weight_decay", sgd ? 1e-4f : 0.05f);
		if (sgd) {
			ft_node_set_float(g, n, "momentum", 0.9f);
			ft_node_set_int(g, n, "nesterov", 1);
		}
		static const char *labels[] = { "SGDStepMulti 40 tensors", "SGDStepMulti skipped", "AdamWStepMulti 40 tensors",
						"AdamWStepMulti skipped", "SGDStepMulti plain", "SGDStepMulti scale only",
						"AdamWStepMulti plain", "AdamWStepMulti scale only" };
		infer_and_run(cu, g, n, labels[k], false, ALL_INPUTS);
	}
}

#define S4(a, b, c, d) { a, b, c, d }

/*
 * The general kernels behind the vectorised ones (kernels/cuda/elementwise.cu): operands one
 * float off a 16-byte boundary take them, which the cases above (buffers at allocation bases)
 * never do. Neg and the float32 -> bfloat16 cast of 1001 elements at that offset, against the
 * host's exact results (sign flip; ft_f32_to_bf16, round to nearest even).
 */
static void misaligned_case(ft_backend cu)
{
	enum { N = 1001 };
	size_t fb = sizeof(float) * (N + 1), hb = sizeof(uint16_t) * (N + 1);
	float *x = ft_xmalloc(fb), *y = ft_xmalloc(fb);
	uint16_t *b = ft_xmalloc(hb);
	for (int i = 0; i <= N; i++)
		x[i] = frand(-4, 4);
	float *dx = cu.iface->alloc(cu.ctx, fb), *dy = cu.iface->alloc(cu.ctx, fb);
	uint16_t *db = cu.iface->alloc(cu.ctx, hb);
	cu.iface->upload(cu.ctx, dx, x, fb);
	void *stream = ft_backend_cuda_stream(cu.ctx);
	int e = ft_cu_apply_unary(FT_CU_NEG, FT_CU_F32, dx + 1, dy + 1, N, 0, 0, stream);
	e |= ft_cu_cast(dx + 1, FT_CU_F32, db + 1, FT_CU_BF16, N, stream);
	cu.iface->sync(cu.ctx);
	cu.iface->download(cu.ctx, y, dy, fb);
	cu.iface->download(cu.ctx, b, db, hb);
	int bad = e != 0;
	for (int i = 1; i <= N && !bad; i++)
		bad = y[i] != -x[i] || b[i] != ft_f32_to_bf16(x[i]);
	cases++;
	if (bad)
		failures++;
	printf("%s misaligned operands (the general kernels): Neg and Cast float32 -> bfloat16 of %d elements%s\n",
	       bad ? "FAIL" : "ok  ", N, e ? " (launch failed)" : "");
	cu.iface->free(cu.ctx, dx);
	cu.iface->free(cu.ctx, dy);
	cu.iface->free(cu.ctx, db);
	free(x);
	free(y);
	free(b);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	bool self_check = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--op") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--self-check") == 0)
			self_check = true;
	}
	ft_backend cu;
	cpu = ft_backend_cpu_new(0);
	if (self_check) {
		/*
		 * Every case with the CPU backend in the device's place: checks the cases
		 * themselves (shapes, attributes, constant inputs, the harness's copies and
		 * comparisons) on a machine without a GPU, so that device time is not spent
		 * on a broken case. It says nothing about the CUDA kernels.
		 */
		cu = ft_backend_cpu_new(0);
	} else {
		char why[256] = "";
		if (ft_cuda_device_count(why, sizeof(why)) == 0) {
			printf("SKIP: no usable GPU (%s); the CUDA kernels are compared with the CPU on a machine with one "
			       "(scripts/device_check.sh)\n", why);
			return 77;
		}
		if (ft_backend_cuda_new(0, &cu)) {
			printf("FAIL: %s\n", ft_last_error());
			return 1;
		}
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
		{ FT_OP_SILU, 1, { 2 }, { S4(100, 257, 0, 0) }, { -20 }, { 20 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_SILU, 1, { 2 }, { S4(100, 257, 0, 0) }, { -20 }, { 20 }, FT_BF16, 0, false, true, NULL, 0 },
		{ FT_OP_GELU, 1, { 2 }, { S4(100, 257, 0, 0) }, { -8 }, { 8 }, FT_F32, 0, false, true, NULL, 0 },
		{ FT_OP_GELU, 1, { 2 }, { S4(100, 257, 0, 0) }, { -8 }, { 8 }, FT_BF16, 0, false, true, NULL, 0 },
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
		{ FT_OP_SILU_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -20 }, { 1, 20 }, FT_F32, 0,
		  false, false, NULL, 0 },
		{ FT_OP_GELU_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -15 }, { 1, 15 }, FT_F32, 0,
		  false, false, NULL, 0 },
		/* float16 / bfloat16 storage, float32 arithmetic (AMP) */
		{ FT_OP_ADD, 2, { 4, 2 }, { S4(2, 3, 17, 33), S4(17, 1, 0, 0) }, { -4, -4 }, { 4, 4 },
		  FT_F16, 0, true, true, NULL, 0 },
		{ FT_OP_MUL, 2, { 4, 1 }, { S4(2, 64, 7, 7), S4(7, 0, 0, 0) }, { -4, -4 }, { 4, 4 },
		  FT_BF16, 0, true, true, NULL, 0 },
		{ FT_OP_RELU, 1, { 3 }, { S4(8, 33, 65, 0) }, { -4 }, { 4 }, FT_F16, 0, true, true, NULL, 0 },
		{ FT_OP_RELU, 1, { 3 }, { S4(8, 33, 65, 0) }, { -4 }, { 4 }, FT_BF16, 0, true, true, NULL, 0 },
		{ FT_OP_SIGMOID, 1, { 2 }, { S4(100, 257, 0, 0) }, { -20 }, { 20 }, FT_BF16, 0, false, true, NULL, 0 },
		{ FT_OP_RELU_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -4 }, { 1, 4 }, FT_F16, 0,
		  true, false, NULL, 0 },
		{ FT_OP_TANH_GRAD, 2, { 2, 2 }, { S4(64, 300, 0, 0), S4(64, 300, 0, 0) }, { -1, -1 }, { 1, 1 }, FT_BF16, 0,
		  false, false, NULL, 0 },
		/* the vectorised kernels' tails (n % 4 = 3 and 1; 3366 % 4 = 2 above), in 16-bit storage too */
		{ FT_OP_RELU, 1, { 3 }, { S4(7, 33, 65, 0) }, { -4 }, { 4 }, FT_F32, 0, true, true, NULL, 0 },
		{ FT_OP_SILU, 1, { 3 }, { S4(7, 33, 65, 0) }, { -20 }, { 20 }, FT_BF16, 0, false, true, NULL, 0 },
		{ FT_OP_RELU_GRAD, 2, { 2, 2 }, { S4(63, 301, 0, 0), S4(63, 301, 0, 0) }, { -1, -4 }, { 1, 4 }, FT_F16, 0,
		  true, false, NULL, 0 },
		{ FT_OP_ADD, 2, { 2, 2 }, { S4(3, 3, 0, 0), S4(3, 3, 0, 0) }, { -4, -4 }, { 4, 4 }, FT_BF16, 0, true, true,
		  NULL, 0 },
		{ FT_OP_MUL, 2, { 2, 2 }, { S4(63, 301, 0, 0), S4(63, 301, 0, 0) }, { -4, -4 }, { 4, 4 }, FT_F32, 0, true,
		  true, NULL, 0 },
		{ FT_OP_NEG, 1, { 1 }, { S4(2, 0, 0, 0) }, { -4 }, { 4 }, FT_F32, 0, true, false, NULL, 0 },
		{ FT_OP_SUB, 2, { 1, 1 }, { S4(3, 0, 0, 0), S4(3, 0, 0, 0) }, { -4, -4 }, { 4, 4 }, FT_F16, 0, true, false,
		  NULL, 0 },
		/* casts, rounding to nearest even both ways */
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -70000 }, { 70000 }, FT_F32, FT_F16, true, true, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -1e30f }, { 1e30f }, FT_F32, FT_BF16, true, true, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -60000 }, { 60000 }, FT_F16, FT_F32, true, false, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100000, 0, 0, 0) }, { -1e30f }, { 1e30f }, FT_BF16, FT_F32, true, false, NULL, 0 },
		/* the vectorised kernel's tail (n % 4 = 3, and fewer elements than a vector) and the 16-bit pairs */
		{ FT_OP_CAST, 1, { 1 }, { S4(100003, 0, 0, 0) }, { -1e30f }, { 1e30f }, FT_F32, FT_BF16, true, true, NULL, 0 },
		{ FT_OP_CAST, 1, { 2 }, { S4(3, 1, 0, 0) }, { -70000 }, { 70000 }, FT_F32, FT_F16, true, false, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100001, 0, 0, 0) }, { -1e5f }, { 1e5f }, FT_BF16, FT_F16, true, true, NULL, 0 },
		{ FT_OP_CAST, 1, { 1 }, { S4(100002, 0, 0, 0) }, { -60000 }, { 60000 }, FT_F16, FT_BF16, true, true, NULL, 0 },
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (wanted(only, all[i].op))
			run_case(cu, &all[i]);
	train_cases(cu, only);
	conv_cases(cu, only);
	channels_last_cases(cu, only);
	norm_pool_cases(cu, only);
	attn_cases(cu, only);
	if (!self_check && (!only || strcmp(only, "misaligned") == 0))
		misaligned_case(cu);
	cu.iface->destroy(cu.ctx);
	cpu.iface->destroy(cpu.ctx);
	printf("%d cases, %d failed\n", cases, failures);
	return failures ? 1 : cases ? 0 : 1;
}
