/*
 * remat.c - recompute cheap activations in the backward pass instead of keeping them.
 *
 * After autodiff, a forward tensor that a backward node reads stays in memory from the forward
 * to that read: at the start of the backward every such tensor is live at once, which is the
 * step's peak. Many of them are a cheap op or two away from tensors the backward keeps anyway:
 *   - ResNet's ReLU output is ReLU of the BatchNorm output, which is the BatchNorm input (kept
 *     for BatchNorm's gradient) under the affine map of the statistics the forward saved;
 *   - EfficientNet's SiLU output is SiLU of that BatchNorm output, and its squeeze-excitation
 *     product one Mul further;
 *   - ViT's GELU output is GELU of the Linear output GELU's gradient reads, and its attention
 *     probabilities (float32, and their low-precision copy) are Softmax of the product of the
 *     scaled queries and the keys, which the product's gradient keeps: remade as memory-efficient
 *     attention does; and the attention output (transposed for the output projection) is the
 *     product of those and the values: both attention products run again.
 * For those the pass gives the backward its own copy, made by the same ops from the same inputs
 * just before the backward's first read, and the forward's copy dies after its last forward
 * read. A BatchNorm output is remade by ft.BatchNormalizationApply from the saved mean and
 * invstd, from which the training forward computes its own y too. Every kernel involved is
 * deterministic, so the copy equals the original bit for bit and the gradients are unchanged
 * (tests/remat.sh compares them on the CPU).
 *
 * A tensor is recomputed when each input of its op is kept to the recompute point anyway
 * (parameters and constants always are; an activation when some node reads it then or later),
 * or is itself recomputed for the backward and still live there (its recompute moves earlier
 * when needed), or can be remade there from such inputs, up to two ops deep (a MatMul only as
 * one of those): those intermediate copies live only until the recompute reads them.
 *
 * FT_REMAT_DEBUG=1 lists each recomputed tensor on stderr.
 */
#include "autodiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	MAX_DEPTH = 2,        /* ops remade on the way to a recomputed tensor */
	MAX_VIEW_INPUTS = 4,  /* Reshape (data, shape), Squeeze/Unsqueeze (data, axes) */
};

static bool cheap(ft_op op)
{
	switch (op) {
	case FT_OP_ADD:
	case FT_OP_SUB:
	case FT_OP_MUL:
	case FT_OP_DIV:
	case FT_OP_RELU:
	case FT_OP_LEAKY_RELU:
	case FT_OP_SIGMOID:
	case FT_OP_TANH:
	case FT_OP_NEG:
	case FT_OP_HARD_SIGMOID:
	case FT_OP_HARD_SWISH:
	case FT_OP_SILU:
	case FT_OP_GELU:
	case FT_OP_CAST:
	case FT_OP_TRANSPOSE:
	case FT_OP_SOFTMAX:
		return true;
	default:
		return false;
	}
}

typedef struct remat {
	ft_graph *g;
	int n_fwd;
	int *root;     /* per tensor: the tensor whose bytes it is (a forward view's input) */
	int *last;     /* per root: the last node reading it (after the pass: as it will be) */
	int *made_by;  /* per tensor: its forward node, -1 */
	bool *invariant; /* per tensor: made from no activation, through any chain (a weight's cast):
			  * train.c runs it once per step before the micro-batches and plan.c keeps
			  * it through all of them */
	int *last_all; /* per root: the last node reading it, before the pass */
	int *at;       /* per forward node: its output recomputed before this node, -1: kept */
	int *first_new, *end_new; /* per forward node: its recompute's new nodes [first, end) */
	int *tmp;      /* per tensor: its copy made for the recompute being emitted, -1 */
	int *touched;  /* the tensors with a tmp entry */
	int n_touched;
	int *pos;      /* per new node: the node it goes before */
	int n_new, cap_new;
} remat;

/*
 * The op that remakes tensor t (made by forward node f) and its inputs: the node's own, or for
 * a BatchNorm output ft.BatchNormalizationApply(x, scale, B, saved mean, saved invstd). A
 * MatMul only on the way (chain), never as what the backward reads.
 */
static bool remake_op(const ft_graph *g, int f, int t, bool chain, ft_op *op, int *in, int *n_in)
{
	const ft_node *n = &g->nodes[f];
	if (n->op == FT_OP_BATCH_NORM_TRAIN) {
		if (n->out[0] != t || n->n_out < 3 || n->out[1] < 0 || n->out[2] < 0)
			return false;
		*op = FT_OP_BATCH_NORM_APPLY;
		int v[5] = { n->in[0], n->in[1], n->in[2], n->out[1], n->out[2] };
		memcpy(in, v, sizeof(v));
		*n_in = 5;
		return true;
	}
	if (!(cheap(n->op) || (chain && n->op == FT_OP_MATMUL)) || n->n_out != 1 || n->n_in > 8)
		return false;
	*op = n->op;
	memcpy(in, n->in, sizeof(int) * (size_t)n->n_in);
	*n_in = n->n_in;
	return true;
}

static bool kept(const remat *r, int x, int p)
{
	const ft_tensor *t = &r->g->tensors[x];
	if (t->kind != FT_TK_ACT && t->kind != FT_TK_INPUT)
		return true;
	return r->last[r->root[x]] >= p || r->invariant[x];
}

/* whether x is recomputed for the backward and its copy can be read at p (made there or before) */
static bool recomputed(const remat *r, int x, int p)
{
	int f = r->made_by[x];
	return f >= 0 && r->at[f] >= 0 && r->g->nodes[f].out[0] == x && r->last_all[x] >= p;
}

/* whether tensor x can be read at node p: kept, or remade there from kept tensors within depth */
static bool can_remake(const remat *r, int x, int p, int depth)
{
	if (kept(r, x, p) || recomputed(r, x, p))
		return true;
	int f = r->made_by[x], in[8], n_in;
	ft_op op;
	if (depth <= 0 || f < 0 || !remake_op(r->g, f, x, true, &op, in, &n_in))
		return false;
	for (int j = 0; j < n_in; j++)
		if (in[j] >= 0 && !can_remake(r, in[j], p, depth - 1))
			return false;
	return true;
}

/* a new node of op reading in[], named after forward node f, its one output shaped like out */
static int add_node(remat *r, ft_op op, int f, const int *in, int n_in, int out, int p)
{
	ft_graph *g = r->g;
	char name[700];
	snprintf(name, sizeof(name), "%.600s/remat", g->nodes[f].name);
	int y = ft_graph_new_tensor(g, g->tensors[out].name);
	ft_tensor *ty = &g->tensors[y], *to = &g->tensors[out];
	ft_tensor_set_shape(ty, to->dtype, to->rank, to->dims);
	ty->kind = FT_TK_ACT;
	ft_node *c = ft_graph_add_node(g, op, name, n_in, 1);
	const ft_node *o = &g->nodes[f]; /* adding a node can move the table */
	memcpy(c->in, in, sizeof(int) * (size_t)n_in);
	c->out[0] = y;
	c->opset = o->opset;
	if (op == o->op)
		ft_node_copy_attrs(g, c, o);
	else if (op == FT_OP_BATCH_NORM_APPLY) { /* a BatchNorm's output again: its layout, its fused ReLU */
		if (ft_channels_last(o))
			ft_node_set_int(g, c, "ft_channels_last", 1);
		if (ft_attr_int(o, "ft_relu", 0))
			ft_node_set_int(g, &g->nodes[g->n_nodes - 1], "ft_relu", 1);
	}
	if (r->n_new == r->cap_new) {
		r->cap_new = r->cap_new ? 2 * r->cap_new : 64;
		r->pos = ft_xrealloc(r->pos, sizeof(int) * (size_t)r->cap_new);
	}
	r->pos[r->n_new++] = p;
	return y;
}

/* x as the recompute at p reads it: itself when kept, else a copy made there (once) */
static int remake(remat *r, int x, int p, const int *remade)
{
	if (kept(r, x, p))
		return x;
	if (recomputed(r, x, p)) {
		/* the backward's own copy: made before p, or its recompute moves to p */
		int f = r->made_by[x];
		FT_ASSERT(remade[x] >= 0); /* made first: x comes before what reads it */
		for (int c = r->first_new[f]; c < r->end_new[f]; c++)
			if (r->pos[c] > p)
				r->pos[c] = p;
		return remade[x];
	}
	if (r->tmp[x] >= 0)
		return r->tmp[x];
	int f = r->made_by[x], in[8], n_in;
	ft_op op;
	bool ok = remake_op(r->g, f, x, true, &op, in, &n_in);
	FT_ASSERT(ok); /* can_remake said so */
	for (int j = 0; j < n_in; j++)
		if (in[j] >= 0)
			in[j] = remake(r, in[j], p, remade);
	int y = add_node(r, op, f, in, n_in, x, p);
	r->tmp[x] = y;
	r->touched[r->n_touched++] = x;
	return y;
}

static bool view_node(const ft_graph *g, const ft_node *n)
{
	return ft_op_is_view(n->op) && n->n_in >= 1 && n->n_in <= MAX_VIEW_INPUTS && n->n_out >= 1 &&
	       n->in[0] >= 0 && n->out[0] >= 0 && g->tensors[n->in[0]].kind == FT_TK_ACT &&
	       g->tensors[n->out[0]].kind == FT_TK_ACT;
}

ft_status ft_remat_pass(ft_graph *g, int n_fwd, int end, size_t min_bytes, int *n_remat)
{
	int nt = g->n_tensors;
	remat r = { .g = g, .n_fwd = n_fwd };
	/* a forward view (Reshape, Flatten...) shares its input's bytes (plan.c): its reads are its
	 * root's, and a recomputed tensor's views are remade with it */
	r.root = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	r.last = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	r.made_by = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	int *first_bw = ft_xmalloc(sizeof(int) * ((size_t)nt + 1)); /* per root: first backward read */
	int *last_fw = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));  /* per root: last forward read */
	bool *bw_read = ft_xcalloc((size_t)nt + 1, sizeof(bool));   /* per tensor: the backward reads it */
	int *at = ft_xmalloc(sizeof(int) * ((size_t)n_fwd + 1));
	r.at = at;
	r.last_all = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	r.first_new = ft_xcalloc((size_t)n_fwd + 1, sizeof(int));
	r.end_new = ft_xcalloc((size_t)n_fwd + 1, sizeof(int));
	for (int i = 0; i < nt; i++) {
		r.root[i] = i;
		r.last[i] = first_bw[i] = last_fw[i] = r.made_by[i] = -1;
	}
	r.invariant = ft_xcalloc((size_t)nt + 1, sizeof(bool));
	ft_graph_invariants(g, n_fwd, r.invariant, NULL); /* as train.c's hoisting finds them */
	for (int i = 0; i < n_fwd; i++) {
		const ft_node *n = &g->nodes[i];
		at[i] = -1;
		for (int j = 0; j < n->n_out; j++)
			if (n->out[j] >= 0)
				r.made_by[n->out[j]] = i;
		if (view_node(g, n))
			r.root[n->out[0]] = r.root[n->in[0]];
	}
	for (int i = 0; i < end; i++) {
		const ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_in; j++) {
			if (n->in[j] < 0 || !ft_node_reads_input(n, j))
				continue;
			int x = r.root[n->in[j]];
			r.last[x] = i;
			if (i < n_fwd) {
				last_fw[x] = i;
			} else {
				bw_read[n->in[j]] = true;
				if (first_bw[x] < 0)
					first_bw[x] = i;
			}
		}
	}
	for (int i = 0; i < g->n_outputs; i++)
		r.last[r.root[g->outputs[i]]] = end;
	memcpy(r.last_all, r.last, sizeof(int) * (size_t)nt);

	int count = 0;
	for (int i = 0; i < n_fwd; i++) {
		const ft_node *n = &g->nodes[i];
		int t = n->n_out > 0 ? n->out[0] : -1, in[8], n_in;
		ft_op op;
		if (t < 0 || !remake_op(g, i, t, false, &op, in, &n_in))
			continue;
		int p = first_bw[t];
		const ft_tensor *tt = &g->tensors[t];
		if (p < 0 || r.last[t] >= end || tt->kind != FT_TK_ACT || !tt->shaped || ft_tensor_bytes(tt) < min_bytes)
			continue;
		/* not a weight's cast: kept through the step anyway (invariant), a copy would only add */
		bool ok = !r.invariant[t];
		for (int j = 0; j < n_in && ok; j++)
			if (in[j] >= 0)
				ok = can_remake(&r, in[j], p, MAX_DEPTH);
		if (!ok)
			continue;
		at[i] = p;
		r.last[t] = last_fw[t]; /* the forward's copy now dies in the forward */
		if (getenv("FT_REMAT_DEBUG"))
			fprintf(stderr, "remat %s %s before %s\n", ft_op_table[op].name, tt->name, g->nodes[p].name);
		count++;
	}

	if (count) {
		/* which forward views of a recomputed tensor the backward needs remade: those it reads
		 * and those a needed view is made from */
		bool *needed = ft_xcalloc((size_t)nt + 1, sizeof(bool));
		for (int i = n_fwd - 1; i >= 0; i--) {
			const ft_node *n = &g->nodes[i];
			if (view_node(g, n) && (bw_read[n->out[0]] || needed[n->out[0]]))
				needed[n->in[0]] = true;
		}
		int *remade = ft_xmalloc(sizeof(int) * ((size_t)nt + 1)); /* forward tensor -> the backward's copy */
		r.tmp = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
		r.touched = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
		for (int i = 0; i < nt; i++)
			remade[i] = r.tmp[i] = -1;
		int base = g->n_nodes;
		for (int i = 0; i < n_fwd; i++) {
			if (at[i] < 0)
				continue;
			int t = g->nodes[i].out[0], in[8], n_in;
			ft_op op;
			remake_op(g, i, t, false, &op, in, &n_in);
			r.first_new[i] = r.n_new;
			for (int j = 0; j < n_in; j++)
				if (in[j] >= 0)
					in[j] = remake(&r, in[j], at[i], remade);
			remade[t] = add_node(&r, op, i, in, n_in, t, at[i]);
			for (int k = 0; k < r.n_touched; k++)
				r.tmp[r.touched[k]] = -1;
			r.n_touched = 0;
			for (int k = i + 1; k < n_fwd; k++) {
				const ft_node *v = &g->nodes[k];
				if (!view_node(g, v) || r.root[v->out[0]] != t || remade[v->in[0]] < 0 ||
				    !(bw_read[v->out[0]] || needed[v->out[0]]))
					continue;
				int vin[MAX_VIEW_INPUTS];
				memcpy(vin, v->in, sizeof(int) * (size_t)v->n_in);
				vin[0] = remade[v->in[0]];
				int vo = v->out[0]; /* (adding a node can move the table v points into) */
				remade[vo] = add_node(&r, v->op, k, vin, v->n_in, vo, at[i]);
			}
			r.end_new[i] = r.n_new;
		}
		/* a node made by the pass goes no later than any reading its output (a recompute moved
		 * earlier takes what it reads along); equal places keep the order of making, in which
		 * a node's inputs come first */
		int *maker = ft_xmalloc(sizeof(int) * ((size_t)(g->n_tensors - nt) + 1));
		for (int c = 0; c < r.n_new; c++)
			maker[g->nodes[base + c].out[0] - nt] = c;
		for (bool moved = true; moved;) {
			moved = false;
			for (int c = r.n_new - 1; c >= 0; c--) {
				const ft_node *n = &g->nodes[base + c];
				for (int j = 0; j < n->n_in; j++) {
					int x = n->in[j];
					if (x >= nt && r.pos[maker[x - nt]] > r.pos[c]) {
						r.pos[maker[x - nt]] = r.pos[c];
						moved = true;
					}
				}
			}
		}
		free(maker);
		for (int k = n_fwd; k < end; k++) {
			ft_node *b = &g->nodes[k];
			for (int j = 0; j < b->n_in; j++)
				if (b->in[j] >= 0 && b->in[j] < nt && remade[b->in[j]] >= 0 && ft_node_reads_input(b, j))
					b->in[j] = remade[b->in[j]]; /* (a shape-only read keeps the forward's) */
		}
		/* the new nodes go before the backward node they feed, in the order they were made */
		int total = g->n_nodes;
		FT_ASSERT(total - base == r.n_new);
		ft_node *order = ft_xmalloc(sizeof(ft_node) * (size_t)total);
		int k = 0;
		for (int i = 0; i < end; i++) {
			for (int c = 0; c < r.n_new; c++)
				if (r.pos[c] == i)
					order[k++] = g->nodes[base + c];
			order[k++] = g->nodes[i];
		}
		for (int i = end; i < base; i++)
			order[k++] = g->nodes[i];
		FT_ASSERT(k == total);
		ft_graph_set_order(g, order, total);
		free(order);
		for (int i = 0; i < end + r.n_new; i++) /* still in topological order (ir.h) */
			for (int j = 0; j < g->nodes[i].n_in; j++) {
				int x = g->nodes[i].in[j];
				FT_ASSERT(x < 0 || g->tensors[x].producer < i);
			}
		free(r.pos);
		free(r.touched);
		free(r.tmp);
		free(remade);
		free(needed);
	}
	if (n_remat)
		*n_remat = count;
	free(at);
	free(bw_read);
	free(last_fw);
	free(first_bw);
	free(r.end_new);
	free(r.first_new);
	free(r.last_all);
	free(r.invariant);
	free(r.made_by);
	free(r.last);
	free(r.root);
	return FT_OK;
}
