/*
 * test_cpu_fast.c - the oneDNN Conv fast path against the plain C reference,
 * on random and hand-picked geometries (groups, depthwise, strides,
 * dilations, asymmetric pads, auto_pad, 1D/2D/3D, with and without bias),
 * plus the fast path's caching: weights changed in place, weights that are
 * activations, and a node re-specialised to another batch size. The same
 * for the backward fast paths (CONV_GRAD_INPUT, CONV_GRAD_WEIGHT with db).
 *
 * Tolerance. Per output element, with S = sum over the window of |x| |w|
 * (+ |b|), computed by the reference itself on |X|, |W|, |B|:
 *   |fast - ref| <= (K + 2) * FLT_EPSILON * S,   K = C_in/group * prod(kernel)
 * The reference accumulates in double and rounds once; oneDNN accumulates K
 * products in float in an order of its own (blocked over channels, maybe
 * split), whose error is at most about K * u * S (u = FLT_EPSILON / 2,
 * Higham's gamma_K). A wrong index or a missed tap is off by about
 * S / sqrt(K), far above the bound. NaN must appear at the same places, and
 * sentinels around the output catch writes out of bounds.
 *
 * usage: test_cpu_fast            the checks (a meson test)
 *        test_cpu_fast --bench    times the ResNet50 convolutions (batch 8)
 *                                 on both paths; not a test (DESIGN.md)
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ir.h"
#include "cpu/conv.h"
#include "cpu/cpu.h"
#include "cpu/util.h"

enum { GUARD = 16 };
static const uint32_t SENTINEL = 0x7fc0dead; /* a NaN payload no kernel makes */

static int failures, checks;
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

/* an f32 tensor whose data has GUARD sentinel floats on both sides */
static int new_tensor(ft_graph *g, const char *name, ft_tensor_kind kind, int rank, const int64_t *dims)
{
	int id = ft_graph_new_tensor(g, name);
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, FT_F32, rank, dims);
	t->kind = kind;
	float *buf = ft_graph_own(g, ft_aligned_alloc(sizeof(float) * (size_t)(t->numel + 2 * GUARD)));
	for (int64_t i = 0; i < t->numel + 2 * GUARD; i++)
		memcpy(&buf[i], &SENTINEL, 4);
	t->data = buf + GUARD;
	return id;
}

static bool guards_ok(const ft_tensor *t)
{
	const float *f = t->data;
	for (int i = 1; i <= GUARD; i++)
		if (memcmp(&f[-i], &SENTINEL, 4) || memcmp(&f[t->numel + i - 1], &SENTINEL, 4))
			return false;
	return true;
}

static void fill(ft_tensor *t)
{
	float *f = t->data;
	for (int64_t i = 0; i < t->numel; i++)
		f[i] = (float)urand();
}

typedef struct conv_case {
	const char *what;
	int nsp;
	int64_t n, c_in, c_out, group;
	int64_t in[3], k[3], s[3], d[3], pads[6];
	const char *auto_pad; /* NULL: NOTSET with pads */
	bool bias;
} conv_case;

typedef struct conv_graph {
	ft_graph *g;
	ft_node *n;
	int x, w, b, y, y_ref, ax, aw, ab; /* ax.. are |x|, |w|, |b| */
} conv_graph;

static void set_conv_attrs(ft_graph *g, ft_node *n, const conv_case *c)
{
	ft_node_set_ints(g, n, "strides", c->s, c->nsp);
	ft_node_set_ints(g, n, "dilations", c->d, c->nsp);
	ft_node_set_int(g, n, "group", c->group);
	if (c->auto_pad) {
		ft_attr *a;
		ft_node_set_int(g, n, "auto_pad", 0); /* make the slot, then turn it into a string */
		a = (ft_attr *)ft_attr_find(n, "auto_pad");
		a->kind = FT_ATTR_STRING;
		a->s = c->auto_pad;
	} else {
		ft_node_set_ints(g, n, "pads", c->pads, 2 * c->nsp);
	}
}

/* Gives Y (already shaped by infer) a guarded buffer, and makes Y_ref like it. */
static void attach_y(conv_graph *cg)
{
	ft_graph *g = cg->g;
	ft_tensor *y = &g->tensors[cg->y];
	int64_t dims[FT_MAX_RANK];
	int rank = y->rank;
	memcpy(dims, y->dims, sizeof(dims));
	int yid = new_tensor(g, "y_data", FT_TK_ACT, rank, dims);
	g->tensors[cg->y].data = g->tensors[yid].data; /* the table may have moved */
	cg->y_ref = new_tensor(g, "y_ref", FT_TK_ACT, rank, dims);
}

/* Builds X, W, B and a Conv node; returns false (and counts a failure) if infer refuses. */
static bool build(conv_graph *cg, const conv_case *c, ft_tensor_kind wkind)
{
	ft_graph *g = cg->g = ft_graph_new("test_cpu_fast");
	int rank = c->nsp + 2;
	int64_t xd[5] = { c->n, c->c_in }, wd[5] = { c->c_out, c->c_in / c->group };
	for (int i = 0; i < c->nsp; i++) {
		xd[2 + i] = c->in[i];
		wd[2 + i] = c->k[i];
	}
	cg->x = new_tensor(g, "x", FT_TK_INPUT, rank, xd);
	cg->w = new_tensor(g, "w", wkind, rank, wd);
	cg->b = c->bias ? new_tensor(g, "b", FT_TK_PARAM, 1, &c->c_out) : -1;
	cg->ax = new_tensor(g, "ax", FT_TK_INPUT, rank, xd);
	cg->aw = new_tensor(g, "aw", FT_TK_CONST, rank, wd);
	cg->ab = c->bias ? new_tensor(g, "ab", FT_TK_CONST, 1, &c->c_out) : -1;
	fill(&g->tensors[cg->x]);
	fill(&g->tensors[cg->w]);
	if (c->bias)
		fill(&g->tensors[cg->b]);
	ft_node *n = cg->n = ft_graph_add_node(g, FT_OP_CONV, c->what, c->bias ? 3 : 2, 1);
	n->in[0] = cg->x;
	n->in[1] = cg->w;
	if (c->bias)
		n->in[2] = cg->b;
	set_conv_attrs(g, n, c);
	n->out[0] = cg->y = ft_graph_new_tensor(g, "y");
	if (ft_import_conv(g, n) != FT_OK || ft_infer_conv(g, n) != FT_OK) {
		printf("FAIL %s: refused: %s\n", c->what, ft_last_error());
		failures++;
		return false;
	}
	attach_y(cg);
	return true;
}

static void free_graph(conv_graph *cg)
{
	ft_cpu_release(cg->n);
	ft_graph_free(cg->g);
}

/* Runs the reference with the node's inputs swapped for others, into out. */
static ft_status run_ref_with(conv_graph *cg, int x, int w, int b, int out)
{
	ft_node *n = cg->n;
	int save[4] = { n->in[0], n->in[1], n->n_in > 2 ? n->in[2] : -1, n->out[0] };
	n->in[0] = x;
	n->in[1] = w;
	if (n->n_in > 2)
		n->in[2] = b;
	n->out[0] = out;
	ft_status st = ft_cpu_conv_ref(cg->g, n);
	n->in[0] = save[0];
	n->in[1] = save[1];
	if (n->n_in > 2)
		n->in[2] = save[2];
	n->out[0] = save[3];
	return st;
}

static void abs_into(ft_graph *g, int dst, int src)
{
	const float *s = g->tensors[src].data;
	float *d = g->tensors[dst].data;
	for (int64_t i = 0; i < g->tensors[src].numel; i++)
		d[i] = fabsf(s[i]);
}

/* Runs both paths and compares; label says which step of a case this is. */
static void check(conv_graph *cg, const conv_case *c, const char *label)
{
	ft_graph *g = cg->g;
	checks++;
	if (ft_cpu_conv(g, cg->n) != FT_OK) {
		printf("FAIL %s (%s): fast path: %s\n", c->what, label, ft_last_error());
		failures++;
		return;
	}
	if (run_ref_with(cg, cg->x, cg->w, cg->b, cg->y_ref) != FT_OK) {
		printf("FAIL %s (%s): reference: %s\n", c->what, label, ft_last_error());
		failures++;
		return;
	}
	/* S: the reference on |x|, |w|, |b| */
	const ft_tensor *y = &g->tensors[cg->y];
	int s_id = new_tensor(g, "s", FT_TK_ACT, y->rank, y->dims);
	abs_into(g, cg->ax, cg->x);
	abs_into(g, cg->aw, cg->w);
	if (cg->b >= 0)
		abs_into(g, cg->ab, cg->b);
	FT_ASSERT(run_ref_with(cg, cg->ax, cg->aw, cg->ab, s_id) == FT_OK);

	y = &g->tensors[cg->y];
	const float *fy = y->data, *fr = g->tensors[cg->y_ref].data, *fs = g->tensors[s_id].data;
	int64_t k = c->c_in / c->group;
	for (int i = 0; i < c->nsp; i++)
		k *= c->k[i];
	double worst = 0;
	int64_t bad = -1;
	for (int64_t i = 0; i < y->numel; i++) {
		if (isnan(fy[i]) != isnan(fr[i]) || isinf(fy[i]) != isinf(fr[i])) {
			bad = i;
			worst = INFINITY;
			break;
		}
		if (isnan(fr[i]) || isinf(fr[i]))
			continue;
		double bound = (double)(k + 2) * FLT_EPSILON * fs[i] + FLT_MIN;
		double r = fabs((double)fy[i] - fr[i]) / bound;
		if (r > worst) {
			worst = r;
			bad = i;
		}
	}
	if (worst > 1.0 || !guards_ok(y)) {
		printf("FAIL %s (%s): element %lld: fast %.9g ref %.9g (%.2f x the bound)%s\n", c->what, label,
		       (long long)bad, bad >= 0 ? fy[bad] : 0.0, bad >= 0 ? fr[bad] : 0.0, worst,
		       guards_ok(y) ? "" : "; wrote outside the output");
		failures++;
	}
}

static void run_case(const conv_case *c)
{
	conv_graph cg;
	if (!build(&cg, c, FT_TK_PARAM))
		return;
	check(&cg, c, "first call");
	check(&cg, c, "cached primitive");
	/* an optimizer step changes the weights in place, then says so */
	fill(&cg.g->tensors[cg.w]);
	ft_cpu_conv_params_changed();
	check(&cg, c, "weights changed in place");
	free_graph(&cg);

	/* weights produced by a node: reordered on every call, no notice needed */
	if (!build(&cg, c, FT_TK_ACT))
		return;
	check(&cg, c, "activation weights");
	fill(&cg.g->tensors[cg.w]);
	check(&cg, c, "activation weights changed");
	free_graph(&cg);
}

/* The node is specialised again to another batch: the cached primitive must be rebuilt. */
static void rebatch_case(void)
{
	conv_case c = { "rebatch", 2, 5, 8, 16, 1, { 9, 9 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, true };
	conv_graph cg;
	if (!build(&cg, &c, FT_TK_PARAM))
		return;
	check(&cg, &c, "batch 5");
	/* same node, so same n->extra; new X and Y buffers of batch 3 */
	ft_graph *g = cg.g;
	int64_t xd[4] = { 3, c.c_in, c.in[0], c.in[1] };
	c.n = 3;
	cg.x = new_tensor(g, "x3", FT_TK_INPUT, 4, xd);
	cg.ax = new_tensor(g, "ax3", FT_TK_INPUT, 4, xd);
	fill(&g->tensors[cg.x]);
	cg.n->in[0] = cg.x;
	FT_ASSERT(ft_infer_conv(g, cg.n) == FT_OK);
	attach_y(&cg);
	check(&cg, &c, "batch 3 after 5");
	free_graph(&cg);
}

static void nan_case(void)
{
	conv_case c = { "nan", 2, 1, 4, 8, 1, { 7, 7 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, true };
	conv_graph cg;
	if (!build(&cg, &c, FT_TK_PARAM))
		return;
	((float *)cg.g->tensors[cg.x].data)[2 * 49 + 3 * 7 + 3] = NAN;
	((float *)cg.g->tensors[cg.x].data)[0] = INFINITY;
	check(&cg, &c, "nan and inf in x");
	free_graph(&cg);
}

static conv_case random_case(int i)
{
	static char names[64][32];
	conv_case c;
	memset(&c, 0, sizeof(c));
	snprintf(names[i % 64], sizeof(names[0]), "random %d", i);
	c.what = names[i % 64];
	c.nsp = irand(1, 3);
	c.n = irand(1, 3);
	int kind = irand(0, 3); /* 0 plain, 1 grouped, 2 depthwise, 3 depthwise with multiplier */
	c.group = kind == 0 ? 1 : kind == 1 ? irand(2, 4) : irand(2, 12);
	int64_t icg = kind >= 2 ? 1 : irand(1, 9), ocg = kind == 2 ? 1 : irand(1, 9);
	c.c_in = icg * c.group;
	c.c_out = ocg * c.group;
	int64_t maxin = c.nsp == 3 ? 8 : c.nsp == 2 ? 15 : 40;
	for (int a = 0; a < c.nsp; a++) {
		c.k[a] = irand(1, 5);
		c.s[a] = irand(1, 3);
		c.d[a] = irand(0, 3) == 0 ? irand(2, 3) : 1;
		int64_t ek = (c.k[a] - 1) * c.d[a] + 1;
		c.in[a] = ek + irand(0, (int)maxin);
		c.pads[a] = irand(0, (int)c.k[a] - 1);
		c.pads[c.nsp + a] = irand(0, (int)c.k[a] - 1);
	}
	static const char *ap[] = { "SAME_UPPER", "SAME_LOWER", "VALID" };
	c.auto_pad = irand(0, 4) == 0 ? ap[irand(0, 2)] : NULL;
	c.bias = irand(0, 1);
	return c;
}

/* infer refuses shapes that do not fit, naming both shapes */
static void message_case(const char *what, const int64_t *xd, const int64_t *wd, const int64_t *ks, int64_t group,
			 const char *expect)
{
	ft_graph *g = ft_graph_new("model.onnx");
	int x = ft_graph_new_tensor(g, "x"), w = ft_graph_new_tensor(g, "w");
	ft_tensor_set_shape(&g->tensors[x], FT_F32, 4, xd);
	ft_tensor_set_shape(&g->tensors[w], FT_F32, 4, wd);
	g->tensors[w].kind = FT_TK_PARAM;
	ft_node *n = ft_graph_add_node(g, FT_OP_CONV, "/layer1/Conv", 2, 1);
	n->in[0] = x;
	n->in[1] = w;
	n->out[0] = ft_graph_new_tensor(g, "y");
	if (ks)
		ft_node_set_ints(g, n, "kernel_shape", ks, 2);
	ft_node_set_int(g, n, "group", group);
	checks++;
	ft_status st = ft_infer_conv(g, n);
	if (st != FT_EBADINPUT || !strstr(ft_last_error(), expect)) {
		printf("FAIL %s: status %d, message \"%s\", expected it to contain \"%s\"\n", what, (int)st,
		       ft_last_error(), expect);
		failures++;
	}
	ft_graph_free(g);
}

static void message_cases(void)
{
	static const int64_t x[4] = { 2, 3, 224, 224 }, w4[4] = { 64, 4, 7, 7 }, w3[4] = { 64, 3, 7, 7 };
	static const int64_t k33[2] = { 3, 3 }, w5[4] = { 64, 1, 7, 7 };
	message_case("channels", x, w4, NULL, 1, "input [2,3,224,224] has 3 channels but weight [64,4,7,7] with group 1 expects 4");
	message_case("kernel_shape", x, w3, k33, 1, "kernel_shape [3,3] does not match weight [64,3,7,7]");
	message_case("group", x, w5, NULL, 3, "weight [64,1,7,7] has 64 output channels, not divisible by group 3");
	static const int64_t xs[4] = { 1, 3, 5, 5 };
	message_case("too small", xs, w3, NULL, 1, "does not fit input [1,3,5,5]");
}

/* ---- the backward fast paths: CONV_GRAD_INPUT and CONV_GRAD_WEIGHT -------- */

/*
 * Each backward op against its reference, with the forward's tolerance: an
 * element of dx sums at most K = C_out/group * prod(kernel) products, one of
 * dw (and db) at most K = N * prod(out); S is the reference run on |dy| and
 * |w| (or |x|). The same sentinels guard every output.
 */
typedef struct grad_graph {
	ft_graph *g;
	ft_node *n;
	int in[2], ain[2];        /* dy and w (or x); their absolute values */
	int out[2], ref[2], s[2]; /* dx, or dw and db: fast, reference, bound */
	int n_out;
} grad_graph;

static bool build_grad(grad_graph *gg, const conv_case *c, bool weights)
{
	ft_graph *g = gg->g = ft_graph_new("test_cpu_fast");
	int rank = c->nsp + 2;
	int64_t xd[5] = { c->n, c->c_in }, wd[5] = { c->c_out, c->c_in / c->group };
	for (int i = 0; i < c->nsp; i++) {
		xd[2 + i] = c->in[i];
		wd[2 + i] = c->k[i];
	}
	int x = new_tensor(g, "x", FT_TK_INPUT, rank, xd), w = new_tensor(g, "w", FT_TK_PARAM, rank, wd);
	fill(&g->tensors[x]);
	fill(&g->tensors[w]);
	/* the forward node, for dy's shape */
	ft_node *f = ft_graph_add_node(g, FT_OP_CONV, c->what, 2, 1);
	f->in[0] = x;
	f->in[1] = w;
	set_conv_attrs(g, f, c);
	f->out[0] = ft_graph_new_tensor(g, "y");
	if (ft_import_conv(g, f) != FT_OK || ft_infer_conv(g, f) != FT_OK) {
		printf("FAIL %s: refused: %s\n", c->what, ft_last_error());
		failures++;
		return false;
	}
	const ft_tensor *y = &g->tensors[g->nodes[0].out[0]];
	int64_t yd[5];
	memcpy(yd, y->dims, sizeof(int64_t) * (size_t)rank);
	int dy = new_tensor(g, "dy", FT_TK_ACT, rank, yd);
	fill(&g->tensors[dy]);
	gg->in[0] = dy;
	gg->in[1] = weights ? x : w;
	gg->ain[0] = new_tensor(g, "a_dy", FT_TK_ACT, rank, yd);
	gg->ain[1] = weights ? new_tensor(g, "a_x", FT_TK_ACT, rank, xd) : new_tensor(g, "a_w", FT_TK_CONST, rank, wd);
	gg->n_out = weights && c->bias ? 2 : 1;
	ft_node *n = ft_graph_add_node(g, weights ? FT_OP_CONV_GRAD_WEIGHT : FT_OP_CONV_GRAD_INPUT, c->what, 2,
				       gg->n_out);
	n->in[0] = gg->in[0];
	n->in[1] = gg->in[1];
	set_conv_attrs(g, n, c);
	if (weights)
		ft_node_set_ints(g, n, "w_shape", wd, rank);
	else
		ft_node_set_ints(g, n, "x_shape", xd, rank);
	for (int k = 0; k < gg->n_out; k++)
		n->out[k] = ft_graph_new_tensor(g, "out");
	if (ft_op_table[n->op].infer(g, n) != FT_OK) {
		printf("FAIL %s (%s): refused: %s\n", c->what, weights ? "grad weight" : "grad input", ft_last_error());
		failures++;
		return false;
	}
	for (int k = 0; k < gg->n_out; k++) {
		int id = g->nodes[1].out[k], r = g->tensors[id].rank;
		int64_t dims[FT_MAX_RANK];
		memcpy(dims, g->tensors[id].dims, sizeof(dims));
		int buf = new_tensor(g, "out_data", FT_TK_ACT, r, dims);
		g->tensors[id].data = g->tensors[buf].data;
		gg->out[k] = id;
		gg->ref[k] = new_tensor(g, "ref", FT_TK_ACT, r, dims);
		gg->s[k] = new_tensor(g, "s", FT_TK_ACT, r, dims);
	}
	gg->n = &g->nodes[1];
	return true;
}

/* the reference with the node's inputs and outputs swapped for others */
static ft_status grad_ref_with(grad_graph *gg, const int *in, const int *out)
{
	ft_node *n = gg->n;
	int save[4] = { n->in[0], n->in[1], n->out[0], gg->n_out > 1 ? n->out[1] : -1 };
	n->in[0] = in[0];
	n->in[1] = in[1];
	for (int k = 0; k < gg->n_out; k++)
		n->out[k] = out[k];
	ft_status st = n->op == FT_OP_CONV_GRAD_WEIGHT ? ft_cpu_conv_grad_weight_ref(gg->g, n)
						       : ft_cpu_conv_grad_input_ref(gg->g, n);
	n->in[0] = save[0];
	n->in[1] = save[1];
	for (int k = 0; k < gg->n_out; k++)
		n->out[k] = save[2 + k];
	return st;
}

static void check_grad(grad_graph *gg, const conv_case *c, const char *label)
{
	ft_graph *g = gg->g;
	bool weights = gg->n->op == FT_OP_CONV_GRAD_WEIGHT;
	checks++;
	ft_status st = weights ? ft_cpu_conv_grad_weight(g, gg->n) : ft_cpu_conv_grad_input(g, gg->n);
	if (st != FT_OK || grad_ref_with(gg, gg->in, gg->ref) != FT_OK) {
		printf("FAIL %s (%s): %s\n", c->what, label, ft_last_error());
		failures++;
		return;
	}
	abs_into(g, gg->ain[0], gg->in[0]);
	abs_into(g, gg->ain[1], gg->in[1]);
	FT_ASSERT(grad_ref_with(gg, gg->ain, gg->s) == FT_OK);
	int64_t k = 1;
	if (weights) {
		k = c->n;
		for (int i = 0; i < c->nsp; i++)
			k *= g->tensors[gg->in[0]].dims[2 + i];
	} else {
		k = c->c_out / c->group;
		for (int i = 0; i < c->nsp; i++)
			k *= c->k[i];
	}
	for (int o = 0; o < gg->n_out; o++) {
		const ft_tensor *y = &g->tensors[gg->out[o]];
		const float *fy = y->data, *fr = g->tensors[gg->ref[o]].data, *fs = g->tensors[gg->s[o]].data;
		double worst = 0;
		int64_t bad = -1;
		for (int64_t i = 0; i < y->numel; i++) {
			double bound = (double)(k + 2) * FLT_EPSILON * fs[i] + FLT_MIN;
			double r = isnan(fy[i]) ? INFINITY : fabs((double)fy[i] - fr[i]) / bound;
			if (r > worst) {
				worst = r;
				bad = i;
			}
		}
		if (worst > 1.0 || !guards_ok(y)) {
			printf("FAIL %s (%s, %s): element %lld: fast %.9g ref %.9g (%.2f x the bound)%s\n", c->what,
			       label, weights ? (o ? "db" : "dw") : "dx", (long long)bad, bad >= 0 ? fy[bad] : 0.0,
			       bad >= 0 ? fr[bad] : 0.0, worst, guards_ok(y) ? "" : "; wrote outside the output");
			failures++;
		}
	}
}

static void run_grad_case(const conv_case *c)
{
	for (int weights = 0; weights < 2; weights++) {
		grad_graph gg;
		const char *what = weights ? "grad weight" : "grad input";
		char label[64];
		if (!build_grad(&gg, c, weights)) {
			ft_graph_free(gg.g);
			continue;
		}
		snprintf(label, sizeof(label), "%s, first call", what);
		check_grad(&gg, c, label);
		/* new values in place: dy is read afresh, the weights are reordered after the notice */
		fill(&gg.g->tensors[gg.in[0]]);
		fill(&gg.g->tensors[gg.in[1]]);
		ft_cpu_conv_params_changed();
		snprintf(label, sizeof(label), "%s, cached primitive, new values", what);
		check_grad(&gg, c, label);
		ft_cpu_release(gg.n);
		ft_graph_free(gg.g);
	}
}

/* ---- benchmark: ResNet50's convolutions, batch 8 -------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double time_it(ft_status (*fn)(const ft_graph *, ft_node *), conv_graph *cg, int reps)
{
	FT_ASSERT(fn(cg->g, cg->n) == FT_OK); /* warm up: build the primitive, reorder */
	double best = INFINITY;
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		FT_ASSERT(fn(cg->g, cg->n) == FT_OK);
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

static int bench(bool with_ref)
{
	static const conv_case layers[] = {
		{ "7x7/2 3->64 @224", 2, 8, 3, 64, 1, { 224, 224 }, { 7, 7 }, { 2, 2 }, { 1, 1 }, { 3, 3, 3, 3 }, NULL, false },
		{ "1x1 64->64 @56", 2, 8, 64, 64, 1, { 56, 56 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 0 }, NULL, false },
		{ "3x3 64->64 @56", 2, 8, 64, 64, 1, { 56, 56 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, false },
		{ "1x1 64->256 @56", 2, 8, 64, 256, 1, { 56, 56 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 0 }, NULL, false },
		{ "1x1 256->64 @56", 2, 8, 256, 64, 1, { 56, 56 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 0 }, NULL, false },
		{ "3x3/2 128->128 @56", 2, 8, 128, 128, 1, { 56, 56 }, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, false },
		{ "3x3 256->256 @14", 2, 8, 256, 256, 1, { 14, 14 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, false },
		{ "1x1 1024->256 @14", 2, 8, 1024, 256, 1, { 14, 14 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 0 }, NULL, false },
		{ "3x3 512->512 @7", 2, 8, 512, 512, 1, { 7, 7 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, false },
		{ "dw3x3 96 @56 (mbv2)", 2, 8, 96, 96, 96, { 56, 56 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, false },
	};
	printf("%-22s %10s %10s %9s\n", "layer (batch 8)", "fast ms", with_ref ? "ref ms" : "", "GFLOP/s");
	for (size_t i = 0; i < FT_ARRAY_LEN(layers); i++) {
		const conv_case *c = &layers[i];
		conv_graph cg;
		if (!build(&cg, c, FT_TK_PARAM))
			return 1;
		double tf = time_it(ft_cpu_conv, &cg, 10);
		double tr = with_ref ? time_it(ft_cpu_conv_ref, &cg, 1) : 0;
		const ft_tensor *y = &cg.g->tensors[cg.y];
		double flops = 2.0 * (double)y->numel * (double)(c->c_in / c->group) * (double)(c->k[0] * c->k[1]);
		printf("%-22s %10.3f %10.3f %9.1f\n", c->what, tf * 1e3, tr * 1e3, flops / tf * 1e-9);
		free_graph(&cg);
	}
	return 0;
}

/* a single-input node's time (MaxPool, GlobalAveragePool, BatchNormalization) */
static void bench_other(void)
{
	ft_graph *g = ft_graph_new("bench");
	int64_t xd[4] = { 8, 64, 112, 112 }, gd[4] = { 8, 2048, 7, 7 }, cd[1] = { 64 };
	int x = new_tensor(g, "x", FT_TK_INPUT, 4, xd), xg = new_tensor(g, "xg", FT_TK_INPUT, 4, gd);
	fill(&g->tensors[x]);
	fill(&g->tensors[xg]);
	int p[4];
	for (int i = 0; i < 4; i++) {
		p[i] = new_tensor(g, "p", FT_TK_PARAM, 1, cd);
		fill(&g->tensors[p[i]]);
		float *f = g->tensors[p[i]].data;
		for (int k = 0; i == 3 && k < 64; k++)
			f[k] = fabsf(f[k]) + 0.1f; /* variance */
	}
	static const int64_t k3[2] = { 3, 3 }, s2[2] = { 2, 2 }, p1[4] = { 1, 1, 1, 1 };
	ft_node *mp = ft_graph_add_node(g, FT_OP_MAX_POOL, "maxpool", 1, 1);
	ft_node_set_ints(g, mp, "kernel_shape", k3, 2);
	ft_node_set_ints(g, mp, "strides", s2, 2);
	ft_node_set_ints(g, mp, "pads", p1, 4);
	ft_node *gap = ft_graph_add_node(g, FT_OP_GLOBAL_AVERAGE_POOL, "gap", 1, 1);
	ft_node *bn = ft_graph_add_node(g, FT_OP_BATCH_NORM, "bn", 5, 1);
	ft_node *bnt = ft_graph_add_node(g, FT_OP_BATCH_NORM, "bn_train", 5, 3);
	ft_node_set_int(g, bnt, "training_mode", 1);
	ft_node *nodes[] = { mp, gap, bn, bnt };
	const char *names[] = { "maxpool 3x3/2 64@112", "gap 2048@7", "bn 64@112", "bn train 64@112" };
	for (int i = 0; i < 4; i++) {
		ft_node *n = nodes[i];
		n->in[0] = n == gap ? xg : x;
		for (int k = 0; n->n_in == 5 && k < 4; k++)
			n->in[1 + k] = p[k];
		for (int k = 0; k < n->n_out; k++)
			n->out[k] = ft_graph_new_tensor(g, "y");
		FT_ASSERT(ft_op_table[n->op].infer(g, n) == FT_OK);
		for (int k = 0; k < n->n_out; k++) {
			ft_tensor *y = &g->tensors[n->out[k]];
			int64_t dims[FT_MAX_RANK];
			int rank = y->rank;
			memcpy(dims, y->dims, sizeof(dims));
			int id = new_tensor(g, "yd", FT_TK_ACT, rank, dims);
			g->tensors[n->out[k]].data = g->tensors[id].data;
		}
		conv_graph cg = { .g = g, .n = n };
		printf("%-22s %10.3f\n", names[i], time_it(ft_op_table[n->op].cpu, &cg, 10) * 1e3);
	}
	ft_graph_free(g);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		bench_other();
		return bench(argc > 2 && strcmp(argv[2], "--ref") == 0);
	}
	if (!ft_cpu_conv_has_fast_path())
		printf("note: built without oneDNN: the fast path is the reference; checking it anyway\n");

	static const conv_case fixed[] = {
		{ "plain 3x3", 2, 2, 3, 8, 1, { 11, 13 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, true },
		{ "1x1", 2, 2, 16, 32, 1, { 7, 7 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 0 }, NULL, false },
		{ "7x7 stride 2", 2, 1, 3, 16, 1, { 32, 32 }, { 7, 7 }, { 2, 2 }, { 1, 1 }, { 3, 3, 3, 3 }, NULL, true },
		{ "grouped", 2, 2, 12, 18, 3, { 9, 8 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, true },
		{ "depthwise", 2, 2, 32, 32, 32, { 14, 14 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, true },
		{ "depthwise stride 2", 2, 2, 24, 24, 24, { 15, 15 }, { 5, 5 }, { 2, 2 }, { 1, 1 }, { 2, 2, 2, 2 }, NULL, false },
		{ "depthwise x2", 2, 1, 8, 16, 8, { 10, 10 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, true },
		{ "dilated", 2, 1, 4, 6, 1, { 17, 17 }, { 3, 3 }, { 1, 1 }, { 2, 3 }, { 2, 3, 2, 3 }, NULL, true },
		{ "asymmetric pads", 2, 1, 2, 3, 1, { 7, 5 }, { 3, 3 }, { 2, 2 }, { 1, 1 }, { 1, 0, 1, 0 }, NULL, false },
		{ "same upper", 2, 1, 3, 4, 1, { 10, 9 }, { 4, 3 }, { 2, 2 }, { 1, 1 }, { 0 }, "SAME_UPPER", true },
		{ "same lower", 2, 1, 3, 4, 1, { 10, 9 }, { 4, 3 }, { 2, 2 }, { 1, 1 }, { 0 }, "SAME_LOWER", true },
		{ "valid", 2, 1, 3, 4, 1, { 10, 9 }, { 4, 3 }, { 3, 2 }, { 1, 1 }, { 0 }, "VALID", true },
		{ "1d", 1, 2, 5, 7, 1, { 30 }, { 5 }, { 2 }, { 1 }, { 2, 1 }, NULL, true },
		{ "3d", 3, 1, 3, 5, 1, { 6, 7, 8 }, { 3, 3, 3 }, { 1, 2, 1 }, { 1, 1, 1 }, { 1, 1, 1, 1, 1, 1 }, NULL, true },
		{ "wide channels", 2, 1, 64, 64, 1, { 6, 6 }, { 3, 3 }, { 1, 1 }, { 1, 1 }, { 1, 1, 1, 1 }, NULL, true },
	};
	for (size_t i = 0; i < FT_ARRAY_LEN(fixed); i++)
		run_case(&fixed[i]);
	for (int i = 0; i < 60; i++) {
		conv_case c = random_case(i);
		run_case(&c);
	}
	for (size_t i = 0; i < FT_ARRAY_LEN(fixed); i++)
		run_grad_case(&fixed[i]);
	for (int i = 60; i < 100; i++) {
		conv_case c = random_case(i);
		run_grad_case(&c);
	}
	rebatch_case();
	nan_case();
	message_cases();
	printf("cpu_fast: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
