/* autodiff.c - the backward pass (see autodiff.h) and the one switch of gradient rules. */
#include "autodiff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grad.h"

static void ensure_cap(ft_autodiff *ad)
{
	if (ad->g->n_tensors <= ad->cap)
		return;
	int cap = ad->g->n_tensors * 2;
	ad->grad = ft_xrealloc(ad->grad, sizeof(int) * (size_t)cap);
	ad->requires = ft_xrealloc(ad->requires, sizeof(bool) * (size_t)cap);
	for (int i = ad->cap; i < cap; i++) {
		ad->grad[i] = -1;
		ad->requires[i] = false;
	}
	ad->cap = cap;
}

int ft_ad_grad(ft_autodiff *ad, int t)
{
	ensure_cap(ad);
	return t >= 0 ? ad->grad[t] : -1;
}

bool ft_ad_requires(const ft_autodiff *ad, int t)
{
	return t >= 0 && t < ad->cap && ad->requires[t];
}

ft_node *ft_ad_begin(ft_autodiff *ad, ft_op op, int n_in, const int *in, int n_out)
{
	ft_graph *g = ad->g;
	const char *base = ad->cur >= 0 ? g->nodes[ad->cur].name : "ft";
	const char *opname = ft_op_table[op].name;
	char name[512];
	snprintf(name, sizeof(name), "%.400s/grad/%s", base, opname);
	int outs[8];
	FT_ASSERT(n_out <= 8);
	for (int i = 0; i < n_out; i++) {
		char tname[600];
		snprintf(tname, sizeof(tname), "%s:%d", name, i);
		outs[i] = ft_graph_new_tensor(g, tname);
	}
	ft_node *n = ft_graph_add_node(g, op, name, n_in, n_out);
	for (int i = 0; i < n_in; i++)
		n->in[i] = in[i];
	for (int i = 0; i < n_out; i++) {
		n->out[i] = outs[i];
		g->tensors[outs[i]].producer = g->n_nodes - 1;
	}
	ensure_cap(ad);
	return n;
}

ft_status ft_ad_end(ft_autodiff *ad, ft_node *n, int *out0)
{
	FT_TRY(ft_op_table[n->op].infer(ad->g, n));
	if (out0)
		*out0 = n->n_out ? n->out[0] : -1;
	return FT_OK;
}

ft_status ft_ad_emit(ft_autodiff *ad, ft_op op, int n_in, const int *in, int *out0)
{
	return ft_ad_end(ad, ft_ad_begin(ad, op, n_in, in, 1), out0);
}

int ft_ad_const_f32(ft_autodiff *ad, float v)
{
	ft_graph *g = ad->g;
	int id = ft_graph_new_tensor(g, "ft/const");
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, FT_F32, 0, NULL);
	t->data = ft_graph_own(g, ft_aligned_alloc(sizeof(float)));
	*(float *)t->data = v;
	t->kind = FT_TK_CONST;
	ensure_cap(ad);
	return id;
}

int ft_ad_const_i64(ft_autodiff *ad, const int64_t *v, int n)
{
	int id = ft_graph_const_i64(ad->g, "ft/const", v, n);
	ensure_cap(ad);
	return id;
}

ft_status ft_ad_reduce_to(ft_autodiff *ad, int gid, int target, int *out)
{
	ft_graph *g = ad->g;
	if (ft_tensor_same_shape(&g->tensors[gid], &g->tensors[target])) {
		*out = gid;
		return FT_OK;
	}
	ft_node *n = ft_ad_begin(ad, FT_OP_REDUCE_SUM_TO, 1, &gid, 1);
	const ft_tensor *t = &g->tensors[target];
	ft_node_set_ints(g, n, "shape", t->dims, t->rank);
	return ft_ad_end(ad, n, out);
}

ft_status ft_ad_reshape_to(ft_autodiff *ad, int gid, int target, int *out)
{
	ft_graph *g = ad->g;
	if (ft_tensor_same_shape(&g->tensors[gid], &g->tensors[target])) {
		*out = gid;
		return FT_OK;
	}
	int shape = ft_ad_const_i64(ad, g->tensors[target].dims, g->tensors[target].rank);
	int in[2] = { gid, shape };
	return ft_ad_emit(ad, FT_OP_RESHAPE, 2, in, out);
}

ft_status ft_ad_add_grad(ft_autodiff *ad, int t, int gid)
{
	ensure_cap(ad);
	FT_ASSERT(t >= 0 && gid >= 0);
	ft_graph *g = ad->g;
	if (!ft_tensor_same_shape(&g->tensors[t], &g->tensors[gid]))
		ft_fatal(__FILE__, __LINE__, "gradient %s of %s has the wrong shape", g->tensors[gid].name,
			 g->tensors[t].name);
	if (ad->grad[t] < 0) {
		ad->grad[t] = gid;
		return FT_OK;
	}
	int in[2] = { ad->grad[t], gid }, sum;
	FT_TRY(ft_ad_emit(ad, FT_OP_ADD, 2, in, &sum));
	ad->grad[t] = sum;
	return FT_OK;
}

/*
 * The one switch of gradient rules. Ops whose outputs are integers or bools
 * (Shape, Equal, Not...) never reach it: nothing that needs a gradient flows
 * through them.
 */
static ft_status run_rule(ft_autodiff *ad, int i)
{
	ft_node *n = &ad->g->nodes[i];
	switch (n->op) {
	/* elementwise: runtime/grad_elementwise.c */
	case FT_OP_ADD: return ft_grad_add(ad, i);
	case FT_OP_SUB: return ft_grad_sub(ad, i);
	case FT_OP_MUL: return ft_grad_mul(ad, i);
	case FT_OP_DIV: return ft_grad_div(ad, i);
	case FT_OP_POW: return ft_grad_pow(ad, i);
	case FT_OP_NEG: return ft_grad_neg(ad, i);
	case FT_OP_RELU: return ft_grad_relu(ad, i);
	case FT_OP_LEAKY_RELU: return ft_grad_leaky_relu(ad, i);
	case FT_OP_SIGMOID: return ft_grad_sigmoid(ad, i);
	case FT_OP_TANH: return ft_grad_tanh(ad, i);
	case FT_OP_ERF: return ft_grad_erf(ad, i);
	case FT_OP_SQRT: return ft_grad_sqrt(ad, i);
	case FT_OP_EXP: return ft_grad_exp(ad, i);
	case FT_OP_LOG: return ft_grad_log(ad, i);
	case FT_OP_RECIPROCAL: return ft_grad_reciprocal(ad, i);
	case FT_OP_ABS: return ft_grad_abs(ad, i);
	case FT_OP_HARD_SIGMOID: return ft_grad_hard_sigmoid(ad, i);
	case FT_OP_HARD_SWISH: return ft_grad_hard_swish(ad, i);
	case FT_OP_SILU: return ft_grad_silu(ad, i);
	case FT_OP_GELU: return ft_grad_gelu(ad, i);
	case FT_OP_CLIP: return ft_grad_clip(ad, i);
	case FT_OP_WHERE: return ft_grad_where(ad, i);
	case FT_OP_CAST: return ft_grad_cast(ad, i);
	case FT_OP_IDENTITY: return ft_grad_identity(ad, i);
	case FT_OP_DROPOUT: return ft_grad_dropout(ad, i);
	case FT_OP_FLOOR:
	case FT_OP_CEIL: return FT_OK; /* zero almost everywhere: no contribution */
	/* convolution and pooling: runtime/grad_conv.c */
	case FT_OP_CONV: return ft_grad_conv(ad, i);
	case FT_OP_MAX_POOL: return ft_grad_max_pool(ad, i);
	case FT_OP_AVERAGE_POOL: return ft_grad_average_pool(ad, i);
	case FT_OP_GLOBAL_AVERAGE_POOL: return ft_grad_global_average_pool(ad, i);
	case FT_OP_GLOBAL_MAX_POOL: return ft_grad_global_max_pool(ad, i);
	/* normalisation: runtime/grad_norm.c */
	case FT_OP_BATCH_NORM_TRAIN: return ft_grad_batch_norm(ad, i);
	case FT_OP_LAYER_NORM: return ft_grad_layer_norm(ad, i);
	/* matrix products: runtime/grad_matmul.c */
	case FT_OP_MATMUL: return ft_grad_matmul(ad, i);
	case FT_OP_GEMM: return ft_grad_gemm(ad, i);
	case FT_OP_EINSUM: return ft_grad_einsum(ad, i);
	/* reductions and softmax: runtime/grad_reduce.c */
	case FT_OP_REDUCE_MEAN: return ft_grad_reduce_mean(ad, i);
	case FT_OP_REDUCE_SUM: return ft_grad_reduce_sum(ad, i);
	case FT_OP_SOFTMAX: return ft_grad_softmax(ad, i);
	case FT_OP_LOG_SOFTMAX: return ft_grad_log_softmax(ad, i);
	/* shapes and data movement: runtime/grad_shape.c */
	case FT_OP_RESHAPE:
	case FT_OP_FLATTEN:
	case FT_OP_SQUEEZE:
	case FT_OP_UNSQUEEZE: return ft_grad_reshape(ad, i);
	case FT_OP_TRANSPOSE: return ft_grad_transpose(ad, i);
	case FT_OP_CONCAT: return ft_grad_concat(ad, i);
	case FT_OP_SPLIT: return ft_grad_split(ad, i);
	case FT_OP_SLICE: return ft_grad_slice(ad, i);
	case FT_OP_GATHER: return ft_grad_gather(ad, i);
	case FT_OP_EXPAND: return ft_grad_expand(ad, i);
	case FT_OP_PAD: return ft_grad_pad(ad, i);
	/* training ops: runtime/grad_train.c */
	case FT_OP_SOFTMAX_CROSS_ENTROPY: return ft_grad_softmax_cross_entropy(ad, i);
	default:
		return ft_node_error(ad->g, n, FT_EUNSUPPORTED, "no gradient rule for %s; it cannot be trained through",
				     ft_op_table[n->op].name);
	}
}

ft_status ft_autodiff_build(ft_graph *g, int n_loss, const int *loss, const int *seed, const int *wrt, int n_wrt,
			    int *grads)
{
	ft_autodiff ad = { .g = g, .n_fwd = g->n_nodes, .cur = -1 };
	ensure_cap(&ad);
	ft_status st = FT_OK;
	for (int k = 0; k < n_wrt; k++)
		ad.requires[wrt[k]] = true;
	/* forward: what a parameter flows into (float outputs only) */
	for (int i = 0; i < ad.n_fwd; i++) {
		const ft_node *n = &g->nodes[i];
		bool any = false;
		for (int j = 0; j < n->n_in; j++)
			any |= ft_ad_requires(&ad, n->in[j]);
		for (int j = 0; any && j < n->n_out; j++)
			if (n->out[j] >= 0 && ft_dtype_is_float(g->tensors[n->out[j]].dtype))
				ad.requires[n->out[j]] = true;
	}
	for (int k = 0; k < n_loss; k++)
		ad.grad[loss[k]] = seed[k];
	for (int i = ad.n_fwd - 1; i >= 0; i--) {
		const ft_node *n = &g->nodes[i];
		bool has_dy = false, needs_dx = false;
		for (int j = 0; j < n->n_out; j++)
			has_dy |= n->out[j] >= 0 && ad.grad[n->out[j]] >= 0;
		for (int j = 0; j < n->n_in; j++)
			needs_dx |= ft_ad_requires(&ad, n->in[j]);
		if (!has_dy || !needs_dx)
			continue;
		ad.cur = i;
		st = run_rule(&ad, i);
		if (st)
			goto out_free;
	}
	for (int k = 0; k < n_wrt; k++)
		grads[k] = ad.grad[wrt[k]];
out_free:
	free(ad.grad);
	free(ad.requires);
	return st;
}
