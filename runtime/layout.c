/*
 * layout.c - the channels-last pass (layout.h).
 *
 * The tensor cores want convolutions on channels-last (NHWC) activations: cuDNN runs its
 * NCHW tensor-core kernels with transposes around them, and a 1 x 1 convolution on NHWC
 * data is a single matrix product of all the images' rows (runtime/cuda_conv.c). PyTorch
 * gets there when the user writes .to(memory_format=torch.channels_last); ftrun decides it
 * here, on the forward graph, before autodiff (so the backward follows):
 *
 *   - every 2-D Conv without groups reads its input and its weight channels last (the
 *     weight through a Transpose to (K, kh, kw, C), one a step, which autodiff turns back
 *     for the weight's gradient) and writes its output so (ft_channels_last = 1, ir.h);
 *   - BatchNorm on a channels-last input stays channels last, and so does an elementwise
 *     op whose rank-4 operands all have one shape (a ReLU, a residual Add, a cast), its
 *     NCHW operands transposed to meet the channels-last ones;
 *   - anything else (a pool, a Flatten, a reshape) reads the NCHW tensor again: one
 *     Transpose back, made once per tensor and shared by its readers.
 *
 * The choice is the whole graph's: a graph with a grouped or depthwise convolution stays
 * NCHW, as cuDNN's NHWC depthwise kernels took 1.8x the time of its NCHW ones on an H200
 * (tests/bench_conv_layout, EfficientNet-B0's, 2026-11-28), and splitting the graph into
 * layouts would put transposes around every depthwise layer.
 */
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "shape_conv.h"

typedef struct lay {
	ft_graph *g;
	bool *conv;    /* per forward node: a convolution the pass takes (decided before it starts) */
	bool *nhwc;    /* per tensor: stored channels last */
	int *to_last;  /* per NCHW tensor: its channels-last copy, or -1 */
	int *to_first; /* per channels-last tensor: its NCHW copy, or -1 */
	int cap;
} lay;

static void grow(lay *l)
{
	int n = l->g->n_tensors;
	if (n <= l->cap)
		return;
	int cap = 2 * n + 64;
	l->nhwc = ft_xrealloc(l->nhwc, sizeof(bool) * (size_t)cap);
	l->to_last = ft_xrealloc(l->to_last, sizeof(int) * (size_t)cap);
	l->to_first = ft_xrealloc(l->to_first, sizeof(int) * (size_t)cap);
	for (int i = l->cap; i < cap; i++) {
		l->nhwc[i] = false;
		l->to_last[i] = l->to_first[i] = -1;
	}
	l->cap = cap;
}

/* a Transpose of x by perm (rank 4) into a new tensor, cached in cache[x] (to_last or to_first) */
static ft_status transpose(lay *l, int x, const int64_t *perm, const char *what, bool last, int *out)
{
	int *cache = last ? l->to_last : l->to_first;
	if (cache[x] >= 0) {
		*out = cache[x];
		return FT_OK;
	}
	ft_graph *g = l->g;
	char name[700];
	snprintf(name, sizeof(name), "%.600s/%s", g->tensors[x].name, what);
	int y = ft_graph_new_tensor(g, name);
	ft_node *n = ft_graph_add_node(g, FT_OP_TRANSPOSE, name, 1, 1);
	n->in[0] = x;
	n->out[0] = y;
	ft_node_set_ints(g, n, "perm", perm, 4);
	FT_TRY(ft_op_table[FT_OP_TRANSPOSE].infer(g, n));
	grow(l); /* (y is new: the arrays may move, so the cache is read again after) */
	(last ? l->to_last : l->to_first)[x] = y;
	*out = y;
	return FT_OK;
}

static ft_status channels_last(lay *l, int x, int *out)
{
	static const int64_t perm[4] = { 0, 2, 3, 1 };
	if (l->nhwc[x]) {
		*out = x;
		return FT_OK;
	}
	FT_TRY(transpose(l, x, perm, "nhwc", true, out));
	l->nhwc[*out] = true;
	return FT_OK;
}

static ft_status channels_first(lay *l, int x, int *out)
{
	static const int64_t perm[4] = { 0, 3, 1, 2 };
	if (!l->nhwc[x]) {
		*out = x;
		return FT_OK;
	}
	return transpose(l, x, perm, "nchw", false, out);
}

/* a 2-D convolution the pass takes: no groups, a weight of rank 4, cuDNN's symmetric padding */
static bool conv_taken(const ft_graph *g, const ft_node *n)
{
	ft_conv_geom gm;
	if (n->op != FT_OP_CONV || ft_in(g, n, 0)->rank != 4 || ft_conv_geometry(g, n, &gm) != FT_OK) {
		ft_clear_error();
		return false;
	}
	return gm.group == 1 && gm.pad_begin[0] == gm.pad_end[0] && gm.pad_begin[1] == gm.pad_end[1];
}

static bool grouped_conv(const ft_graph *g, const ft_node *n)
{
	return n->op == FT_OP_CONV && ft_attr_int(n, "group", 1) > 1 && ft_in(g, n, 0)->rank == 4;
}

/* ops that compute element by element (one-element operands broadcast in any layout) */
static bool elementwise(ft_op op)
{
	switch (op) {
	case FT_OP_ADD:
	case FT_OP_SUB:
	case FT_OP_MUL:
	case FT_OP_DIV:
	case FT_OP_MAX:
	case FT_OP_MIN:
	case FT_OP_RELU:
	case FT_OP_LEAKY_RELU:
	case FT_OP_SIGMOID:
	case FT_OP_TANH:
	case FT_OP_HARD_SIGMOID:
	case FT_OP_HARD_SWISH:
	case FT_OP_SILU:
	case FT_OP_GELU:
	case FT_OP_CLIP:
	case FT_OP_CAST:
	case FT_OP_NEG:
	case FT_OP_ABS:
	case FT_OP_EXP:
	case FT_OP_SQRT:
		return true;
	default:
		return false;
	}
}

/* x's dims as NCHW, whatever its layout */
static void logical(const lay *l, int x, int64_t *dims)
{
	const ft_tensor *t = &l->g->tensors[x];
	memcpy(dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
	if (l->nhwc[x])
		ft_dims_nchw(t->dims, dims);
}

/*
 * An elementwise node that meets a channels-last operand and whose operands are all of one
 * rank-4 shape (or one element): it runs channels last. Else false (it reads NCHW).
 */
static bool follows(const lay *l, const ft_node *n)
{
	if (!elementwise(n->op) || n->n_out != 1)
		return false;
	bool any = false;
	int64_t shape[4], d[4];
	int shaped = 0;
	for (int j = 0; j < n->n_in; j++) {
		int x = n->in[j];
		if (x < 0)
			continue;
		const ft_tensor *t = &l->g->tensors[x];
		if (t->numel == 1 && t->rank <= 4)
			continue;
		if (t->rank != 4)
			return false;
		logical(l, x, d);
		if (shaped && memcmp(d, shape, sizeof(d)) != 0)
			return false;
		memcpy(shape, d, sizeof(d));
		shaped = 1;
		any |= l->nhwc[x];
	}
	return any;
}

static ft_status mark(ft_graph *g, int i)
{
	ft_node_set_int(g, &g->nodes[i], "ft_channels_last", 1);
	return ft_op_table[g->nodes[i].op].infer(g, &g->nodes[i]);
}

static ft_status run(lay *l, int n_orig, int *taken)
{
	ft_graph *g = l->g;
	for (int i = 0; i < n_orig; i++) {
		ft_node *n = &g->nodes[i];
		int x;
		if (l->conv[i]) {
			int in0 = n->in[0], in1 = n->in[1];
			FT_TRY(channels_last(l, in0, &x));
			g->nodes[i].in[0] = x;
			FT_TRY(channels_last(l, in1, &x));
			g->nodes[i].in[1] = x;
			FT_TRY(mark(g, i));
			l->nhwc[g->nodes[i].out[0]] = true;
			(*taken)++;
			continue;
		}
		if ((n->op == FT_OP_BATCH_NORM_TRAIN || n->op == FT_OP_BATCH_NORM) && l->nhwc[n->in[0]] &&
		    (n->op == FT_OP_BATCH_NORM_TRAIN || n->n_out < 2 || n->out[1] < 0)) {
			FT_TRY(mark(g, i));
			l->nhwc[g->nodes[i].out[0]] = true;
			continue;
		}
		if (follows(l, n)) {
			for (int j = 0; j < g->nodes[i].n_in; j++) {
				int in = g->nodes[i].in[j];
				if (in >= 0 && g->tensors[in].rank == 4 && g->tensors[in].numel > 1) {
					FT_TRY(channels_last(l, in, &x));
					g->nodes[i].in[j] = x;
				}
			}
			n = &g->nodes[i];
			FT_TRY(ft_op_table[n->op].infer(g, n));
			l->nhwc[n->out[0]] = true;
			continue;
		}
		for (int j = 0; j < g->nodes[i].n_in; j++) {
			int in = g->nodes[i].in[j];
			if (in >= 0 && l->nhwc[in]) {
				FT_TRY(channels_first(l, in, &x));
				g->nodes[i].in[j] = x;
			}
		}
	}
	for (int k = 0; k < g->n_outputs; k++) {
		int x;
		FT_TRY(channels_first(l, g->outputs[k], &x));
		g->outputs[k] = x;
	}
	return FT_OK;
}

ft_status ft_layout_pass(ft_graph *g, int *taken)
{
	*taken = 0;
	bool any = false;
	for (int i = 0; i < g->n_nodes; i++)
		if (grouped_conv(g, &g->nodes[i]))
			return FT_OK; /* the whole graph stays NCHW (above) */
	/* (decided on the NCHW graph: a convolution's input in the other layout would not fit it) */
	lay l = { .g = g, .conv = ft_xcalloc((size_t)g->n_nodes + 1, sizeof(bool)) };
	for (int i = 0; i < g->n_nodes; i++)
		any |= l.conv[i] = conv_taken(g, &g->nodes[i]);
	ft_status st = FT_OK;
	if (any) {
		grow(&l);
		st = run(&l, g->n_nodes, taken);
	}
	free(l.conv);
	free(l.nhwc);
	free(l.to_last);
	free(l.to_first);
	if (st || !any)
		return st;
	return ft_graph_toposort(g);
}
