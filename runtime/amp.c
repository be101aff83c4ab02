/* amp.c - the autocast pass (amp.h). */
#include "amp.h"

#include <stdio.h>
#include <stdlib.h>

#include "ops.h"

ft_amp_class ft_amp_class_of(ft_op op)
{
	switch (op) {
	case FT_OP_CONV:
	case FT_OP_MATMUL:
	case FT_OP_GEMM:
		return FT_AMP_LOW;
	case FT_OP_LAYER_NORM:
	case FT_OP_SOFTMAX:
	case FT_OP_LOG_SOFTMAX:
	case FT_OP_REDUCE_MEAN:
	case FT_OP_REDUCE_SUM:
	case FT_OP_REDUCE_MAX:
	case FT_OP_REDUCE_MIN:
	case FT_OP_GLOBAL_AVERAGE_POOL:
	case FT_OP_EXP:
	case FT_OP_LOG:
	case FT_OP_POW:
	case FT_OP_SQRT:
	case FT_OP_RECIPROCAL:
	case FT_OP_SOFTMAX_CROSS_ENTROPY:
	/* (ftrun's Einsum kernel takes float32 and float64 only; PyTorch's einsum reaches bmm, which
	   autocast runs in low precision: ftrun's is the more precise of the two) */
	case FT_OP_EINSUM:
		return FT_AMP_FP32;
	case FT_OP_ADD:
	case FT_OP_SUB:
	case FT_OP_MUL:
	case FT_OP_DIV:
	case FT_OP_MAX:
	case FT_OP_MIN:
	case FT_OP_WHERE:
	case FT_OP_CONCAT:
	case FT_OP_EQUAL:
	case FT_OP_LESS:
	case FT_OP_GREATER:
	case FT_OP_LESS_OR_EQUAL:
	case FT_OP_GREATER_OR_EQUAL:
		return FT_AMP_PROMOTE;
	default:
		return FT_AMP_KEEP;
	}
}

const char *ft_amp_name(ft_dtype lp)
{
	return lp == FT_F16 ? "fp16" : lp == FT_BF16 ? "bf16" : "fp32";
}

static bool is_float(ft_dtype t)
{
	return t == FT_F32 || t == FT_F16 || t == FT_BF16;
}

static int width(ft_dtype t)
{
	return t == FT_F32 ? 2 : 1;
}

/* casts made so far: per original tensor, its copy in each type (-1: none) */
typedef struct cast_cache {
	int n;           /* tensors that existed before the pass */
	int *to_lp, *to_f32;
	int *source;     /* per tensor id (grown): the tensor a cast output was made from, or -1 */
	int cap;
} cast_cache;

static int source_of(const cast_cache *c, int id)
{
	return id < c->cap ? c->source[id] : -1;
}

static ft_status cast_to(ft_graph *g, cast_cache *c, int id, ft_dtype to, ft_dtype lp, int *out)
{
	if (g->tensors[id].dtype == to) {
		*out = id;
		return FT_OK;
	}
	int src = source_of(c, id);
	if (src >= 0 && g->tensors[src].dtype == to) {
		*out = src; /* a cast of a cast: back to its source */
		return FT_OK;
	}
	if (src >= 0)
		id = src;
	int *slot = id < c->n ? (to == FT_F32 ? &c->to_f32[id] : &c->to_lp[id]) : NULL;
	if (slot && *slot >= 0) {
		*out = *slot;
		return FT_OK;
	}
	char name[700];
	snprintf(name, sizeof(name), "%.600s/amp_%s", g->tensors[id].name, to == FT_F32 ? "fp32" : ft_amp_name(lp));
	int y = ft_graph_new_tensor(g, name);
	ft_node *n = ft_graph_add_node(g, FT_OP_CAST, name, 1, 1);
	n->in[0] = id;
	n->out[0] = y;
	ft_node_set_int(g, n, "to", ft_dtype_to_onnx(to));
	FT_TRY(ft_op_table[FT_OP_CAST].infer(g, n));
	if (y >= c->cap) {
		int cap = 2 * y + 64;
		c->source = realloc(c->source, sizeof(int) * (size_t)cap);
		FT_ASSERT(c->source);
		for (int k = c->cap; k < cap; k++)
			c->source[k] = -1;
		c->cap = cap;
	}
	c->source[y] = id;
	if (slot)
		*slot = y;
	*out = y;
	return FT_OK;
}

/* a one-element constant: takes the type of the tensors it meets (it does not promote) */
static bool weak(const ft_tensor *t)
{
	return t->kind == FT_TK_CONST && t->numel == 1;
}

/*
 * A Linear layer's bias: Add(MatMul's low-precision output, a trained parameter). PyTorch exports
 * nn.Linear on a 3-D input as MatMul then Add, but autocast ran it as one low-precision op (linear,
 * addmm: the bias cast too, the output low). Promoting the Add to float32 instead doubled every
 * transformer activation after a projection and ran ViT's GELU in float32: 2.1x PyTorch's memory
 * for vit_b_16 with AMP (docs/cuda.md).
 */
static bool linear_bias(const ft_graph *g, const ft_node *n, ft_dtype lp)
{
	if (n->op != FT_OP_ADD || n->n_in != 2)
		return false;
	for (int j = 0; j < 2; j++) {
		const ft_tensor *x = ft_in(g, n, j), *b = ft_in(g, n, 1 - j);
		/* (a bias --freeze made constant is still one) */
		if (!x || !b || x->dtype != lp || !ft_tensor_fixed_weight(b) || b->dtype != FT_F32)
			continue;
		if (x->producer >= 0 && x->producer < g->n_nodes && g->nodes[x->producer].op == FT_OP_MATMUL &&
		    x->rank >= 1 && b->rank == 1 && b->numel > 0 && b->numel == x->dims[x->rank - 1])
			return true;
	}
	return false;
}

static ft_status amp_node(ft_graph *g, cast_cache *c, int i, ft_dtype lp)
{
	ft_node *n = &g->nodes[i];
	ft_amp_class cls = ft_amp_class_of(n->op);
	if (cls == FT_AMP_KEEP)
		return FT_OK;
	ft_dtype want = FT_UNDEF;
	if (cls == FT_AMP_LOW || linear_bias(g, n, lp)) {
		want = lp;
	} else if (cls == FT_AMP_FP32) {
		want = FT_F32;
	} else {
		/* promote: the widest of the float inputs that are not weak */
		int widest = 0, n_float = 0;
		for (int j = 0; j < n->n_in; j++) {
			const ft_tensor *t = ft_in(g, n, j);
			if (!t || !is_float(t->dtype) || weak(t))
				continue;
			n_float++;
			if (width(t->dtype) > widest) {
				widest = width(t->dtype);
				want = t->dtype;
			}
		}
		if (n_float == 0)
			return FT_OK;
	}
	/* which inputs: the float data inputs (Where's condition, shapes and indices are not float) */
	int n_in = n->n_in;
	for (int j = 0; j < n_in; j++) {
		n = &g->nodes[i];
		const ft_tensor *t = ft_in(g, n, j);
		if (!t || !is_float(t->dtype) || t->dtype == want)
			continue;
		int id = n->in[j], to;
		FT_TRY(cast_to(g, c, id, want, lp, &to));
		g->nodes[i].in[j] = to;
	}
	n = &g->nodes[i];
	return ft_op_table[n->op].infer(g, n);
}

/*
 * The casts of constants (a one-element scale met by low-precision operands: ViT's attention
 * divides its queries by one, 12 casts a step) are made here, once, into constants of the new
 * type by the CPU's Cast kernel, instead of nodes that would run every step. The device
 * kernels round as the CPU's does (tests/test_cuda_ops.c), so the values are the same.
 */
static ft_status fold_const_casts(ft_graph *g, int from)
{
	int w = from;
	for (int i = from; i < g->n_nodes; i++) {
		ft_node *n = &g->nodes[i];
		if (n->op == FT_OP_CAST && ft_tensor_is_const(ft_in(g, n, 0))) {
			ft_tensor *t = ft_out(g, n, 0);
			t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t)));
			FT_TRY(ft_op_table[FT_OP_CAST].cpu(g, n));
			t->kind = FT_TK_CONST;
			t->producer = -1;
			continue;
		}
		g->nodes[w++] = *n;
	}
	g->n_nodes = w;
	return FT_OK;
}

ft_status ft_amp_pass(ft_graph *g, ft_dtype lp)
{
	FT_ASSERT(lp == FT_F16 || lp == FT_BF16);
	cast_cache c = { .n = g->n_tensors };
	c.to_lp = malloc(sizeof(int) * ((size_t)c.n + 1));
	c.to_f32 = malloc(sizeof(int) * ((size_t)c.n + 1));
	FT_ASSERT(c.to_lp && c.to_f32);
	for (int k = 0; k < c.n; k++)
		c.to_lp[k] = c.to_f32[k] = -1;
	ft_status st = FT_OK;
	int n_orig = g->n_nodes;
	for (int i = 0; i < n_orig && !st; i++) {
		ft_node *n = &g->nodes[i];
		bool touched = false; /* an input's type changed: re-infer (an op of class KEEP after a low one) */
		for (int j = 0; j < n->n_in; j++) {
			const ft_tensor *t = ft_in(g, n, j);
			touched |= t && (t->dtype == FT_F16 || t->dtype == FT_BF16);
		}
		if (ft_amp_class_of(n->op) != FT_AMP_KEEP)
			st = amp_node(g, &c, i, lp);
		else if (touched)
			st = ft_op_table[n->op].infer(g, n);
	}
	/* the outputs in float32: the loss and its gradient are fp32 */
	for (int k = 0; k < g->n_outputs && !st; k++) {
		int id = g->outputs[k], to;
		if (g->tensors[id].dtype == lp) {
			st = cast_to(g, &c, id, FT_F32, lp, &to);
			g->outputs[k] = to;
		}
	}
	free(c.to_lp);
	free(c.to_f32);
	free(c.source);
	if (!st)
		st = fold_const_casts(g, n_orig);
	if (st)
		return st;
	return ft_graph_toposort(g);
}
