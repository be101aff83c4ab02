/*
 * grad_elementwise.c - gradient rules of the elementwise family.
 *
 * Binary ops broadcast, so each input's gradient is computed in the output's
 * shape and summed back to the input's with ft_ad_reduce_to(). Activations
 * whose derivative is cheapest from what the forward already has use a fused
 * internal op reading the saved input or output (RELU_GRAD(dy, y),
 * ERF_GRAD(dy, x)...); the rest compose existing ops (Exp's dy * y is a Mul).
 * The formulas, and the values chosen at kinks, are PyTorch's.
 *
 * Rules copy the forward node and read tensors by id: emitting nodes and
 * tensors moves g->nodes and g->tensors.
 */
#include "grad.h"

#include <stdio.h>

/* out = op(a) */
static ft_status emit1(ft_autodiff *ad, ft_op op, int a, int *out)
{
	return ft_ad_emit(ad, op, 1, &a, out);
}

/* out = op(a, b) */
static ft_status emit2(ft_autodiff *ad, ft_op op, int a, int b, int *out)
{
	int in[2] = { a, b };
	return ft_ad_emit(ad, op, 2, in, out);
}

/* Adds g, summed over the axes broadcast to reach t, to the gradient of t. */
static ft_status add_reduced(ft_autodiff *ad, int t, int gid)
{
	int r;
	FT_TRY(ft_ad_reduce_to(ad, gid, t, &r));
	return ft_ad_add_grad(ad, t, r);
}

/* the forward node's dy = grad of out[0]; false when there is nothing to do for input j */
static bool want(ft_autodiff *ad, const ft_node *fwd, int j, int *dy)
{
	*dy = ft_ad_grad(ad, fwd->out[0]);
	return *dy >= 0 && j < fwd->n_in && ft_ad_requires(ad, fwd->in[j]);
}

/* rules that make float32 constants (or use float32-only kernels) need a float32 tensor */
static ft_status need_f32(ft_autodiff *ad, const ft_node *fwd, int t)
{
	const ft_tensor *x = &ad->g->tensors[t];
	if (x->dtype == FT_F32)
		return FT_OK;
	return ft_node_error(ad->g, fwd, FT_EUNSUPPORTED, "gradient in dtype %s not supported",
			     ft_dtype_name(x->dtype));
}

/* rules that emit only ft.*Grad nodes: float32, or fp16/bf16 under AMP (the CPU backend widens) */
static ft_status need_float(ft_autodiff *ad, const ft_node *fwd, int t)
{
	ft_dtype d = ad->g->tensors[t].dtype;
	if (d == FT_F16 || d == FT_BF16)
		return FT_OK;
	return need_f32(ad, fwd, t);
}

/* ---- arithmetic ---- */

/* dA = dy, dB = dy */
ft_status ft_grad_add(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]);

	for (int j = 0; j < 2; j++)
		if (ft_ad_requires(ad, fwd.in[j]))
			FT_TRY(add_reduced(ad, fwd.in[j], dy));
	return FT_OK;
}

/* dA = dy, dB = -dy (negated after the reduction: fewer elements) */
ft_status ft_grad_sub(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]), r, neg;

	if (ft_ad_requires(ad, fwd.in[0]))
		FT_TRY(add_reduced(ad, fwd.in[0], dy));
	if (!ft_ad_requires(ad, fwd.in[1]))
		return FT_OK;
	FT_TRY(ft_ad_reduce_to(ad, dy, fwd.in[1], &r));
	FT_TRY(emit1(ad, FT_OP_NEG, r, &neg));
	return ft_ad_add_grad(ad, fwd.in[1], neg);
}

/* dA = dy * B, dB = dy * A */
ft_status ft_grad_mul(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]), t;

	for (int j = 0; j < 2; j++) {
		if (!ft_ad_requires(ad, fwd.in[j]))
			continue;
		FT_TRY(emit2(ad, FT_OP_MUL, dy, fwd.in[1 - j], &t));
		FT_TRY(add_reduced(ad, fwd.in[j], t));
	}
	return FT_OK;
}

/* y = A / B: dA = dy / B, dB = -(dy / B) * y */
ft_status ft_grad_div(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]), q, t, r, neg;

	if (!ft_ad_requires(ad, fwd.in[0]) && !ft_ad_requires(ad, fwd.in[1]))
		return FT_OK;
	FT_TRY(emit2(ad, FT_OP_DIV, dy, fwd.in[1], &q));
	if (ft_ad_requires(ad, fwd.in[0]))
		FT_TRY(add_reduced(ad, fwd.in[0], q));
	if (!ft_ad_requires(ad, fwd.in[1]))
		return FT_OK;
	FT_TRY(emit2(ad, FT_OP_MUL, q, fwd.out[0], &t));
	FT_TRY(ft_ad_reduce_to(ad, t, fwd.in[1], &r));
	FT_TRY(emit1(ad, FT_OP_NEG, r, &neg));
	return ft_ad_add_grad(ad, fwd.in[1], neg);
}

/*
 * y = A^B: dA = dy * B * A^(B-1); a constant scalar exponent is folded in
 * (x^2 becomes dy * x * 2). dB = dy * y * log(A) where A > 0, else 0 (PyTorch
 * masks A = 0; A < 0 has no real logarithm).
 */
ft_status ft_grad_pow(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int a = fwd.in[0], b = fwd.in[1], dy = ft_ad_grad(ad, fwd.out[0]), t, u;

	if (ft_ad_requires(ad, a)) {
		FT_TRY(need_f32(ad, &fwd, a));
		const ft_tensor *tb = &g->tensors[b];
		if (ft_tensor_is_const(tb) && tb->numel == 1) {
			double e = ft_tensor_float(tb, 0);
			if (e == 1) {
				t = dy;
			} else if (e == 2) {
				FT_TRY(emit2(ad, FT_OP_MUL, dy, a, &u));
				FT_TRY(emit2(ad, FT_OP_MUL, u, ft_ad_const_f32(ad, 2.0f), &t));
			} else {
				FT_TRY(emit2(ad, FT_OP_POW, a, ft_ad_const_f32(ad, (float)(e - 1)), &u));
				FT_TRY(emit2(ad, FT_OP_MUL, u, ft_ad_const_f32(ad, (float)e), &u));
				FT_TRY(emit2(ad, FT_OP_MUL, dy, u, &t));
			}
		} else {
			int bf = b;
			if (tb->dtype != FT_F32) { /* an integer exponent: B - 1 and B * ... in float */
				ft_node *n = ft_ad_begin(ad, FT_OP_CAST, 1, &b, 1);
				ft_node_set_int(g, n, "to", ft_dtype_to_onnx(FT_F32));
				FT_TRY(ft_ad_end(ad, n, &bf));
			}
			FT_TRY(emit2(ad, FT_OP_SUB, bf, ft_ad_const_f32(ad, 1.0f), &u));
			FT_TRY(emit2(ad, FT_OP_POW, a, u, &u));
			FT_TRY(emit2(ad, FT_OP_MUL, u, bf, &u));
			FT_TRY(emit2(ad, FT_OP_MUL, dy, u, &t));
		}
		FT_TRY(add_reduced(ad, a, t));
	}
	if (ft_ad_requires(ad, b)) {
		int lg, pos, zero = ft_ad_const_f32(ad, 0.0f);
		FT_TRY(need_f32(ad, &fwd, a));
		FT_TRY(emit2(ad, FT_OP_MUL, dy, fwd.out[0], &t));
		FT_TRY(emit1(ad, FT_OP_LOG, a, &lg));
		FT_TRY(emit2(ad, FT_OP_MUL, t, lg, &t));
		FT_TRY(emit2(ad, FT_OP_GREATER, a, zero, &pos));
		int in[3] = { pos, t, zero };
		FT_TRY(ft_ad_emit(ad, FT_OP_WHERE, 3, in, &t));
		FT_TRY(add_reduced(ad, b, t));
	}
	return FT_OK;
}

/* dx = -dy */
ft_status ft_grad_neg(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, dx;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(emit1(ad, FT_OP_NEG, dy, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* ---- activations with a fused gradient op ---- */

/*
 * dx = op(dy, saved) where saved is the forward's output (use_y) or input;
 * attributes named in attrs are copied from the forward node with their
 * defaults (alpha of LeakyRelu, alpha and beta of HardSigmoid).
 */
static ft_status fused(ft_autodiff *ad, int i, ft_op op, bool use_y, int n_attrs, const char *const *names,
		       const float *defs)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, dx;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(need_float(ad, &fwd, fwd.in[0]));
	int in[2] = { dy, use_y ? fwd.out[0] : fwd.in[0] };
	ft_node *n = ft_ad_begin(ad, op, 2, in, 1);
	for (int k = 0; k < n_attrs; k++)
		ft_node_set_float(ad->g, n, names[k], ft_attr_float(&fwd, names[k], defs[k]));
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

ft_status ft_grad_relu(ft_autodiff *ad, int i)
{
	return fused(ad, i, FT_OP_RELU_GRAD, true, 0, NULL, NULL);
}

ft_status ft_grad_leaky_relu(ft_autodiff *ad, int i)
{
	static const char *const names[] = { "alpha" };
	static const float defs[] = { 0.01f };
	return fused(ad, i, FT_OP_LEAKY_RELU_GRAD, false, 1, names, defs);
}

ft_status ft_grad_sigmoid(ft_autodiff *ad, int i)
{
	return fused(ad, i, FT_OP_SIGMOID_GRAD, true, 0, NULL, NULL);
}

ft_status ft_grad_tanh(ft_autodiff *ad, int i)
{
	return fused(ad, i, FT_OP_TANH_GRAD, true, 0, NULL, NULL);
}

ft_status ft_grad_erf(ft_autodiff *ad, int i)
{
	return fused(ad, i, FT_OP_ERF_GRAD, false, 0, NULL, NULL);
}

ft_status ft_grad_hard_sigmoid(ft_autodiff *ad, int i)
{
	static const char *const names[] = { "alpha", "beta" };
	static const float defs[] = { 0.2f, 0.5f };
	return fused(ad, i, FT_OP_HARD_SIGMOID_GRAD, false, 2, names, defs);
}

ft_status ft_grad_hard_swish(ft_autodiff *ad, int i)
{
	return fused(ad, i, FT_OP_HARD_SWISH_GRAD, false, 0, NULL, NULL);
}

/* ft.Silu keeps only x for its backward (Mul + Sigmoid kept x and Sigmoid(x)) */
ft_status ft_grad_silu(ft_autodiff *ad, int i)
{
	return fused(ad, i, FT_OP_SILU_GRAD, false, 0, NULL, NULL);
}

/* ft.Gelu keeps only x for its backward (its five-node form kept four tensors of x's size) */
ft_status ft_grad_gelu(ft_autodiff *ad, int i)
{
	return fused(ad, i, FT_OP_GELU_GRAD, false, 0, NULL, NULL);
}

/* CLIP_GRAD(dy, x, min, max): dy where min <= x <= max; opset < 11 bounds stay attributes */
ft_status ft_grad_clip(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, dx, in[4];

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(need_f32(ad, &fwd, fwd.in[0]));
	in[0] = dy;
	for (int j = 0; j < fwd.n_in; j++)
		in[1 + j] = fwd.in[j];
	ft_node *n = ft_ad_begin(ad, FT_OP_CLIP_GRAD, 1 + fwd.n_in, in, 1);
	if (ft_attr_find(&fwd, "min"))
		ft_node_set_float(ad->g, n, "min", ft_attr_float(&fwd, "min", 0));
	if (ft_attr_find(&fwd, "max"))
		ft_node_set_float(ad->g, n, "max", ft_attr_float(&fwd, "max", 0));
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* ---- maths functions, composed ---- */

/* y = sqrt(x): dx = dy * 0.5 / y */
ft_status ft_grad_sqrt(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, t, dx;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(need_f32(ad, &fwd, fwd.in[0]));
	FT_TRY(emit2(ad, FT_OP_DIV, dy, fwd.out[0], &t));
	FT_TRY(emit2(ad, FT_OP_MUL, t, ft_ad_const_f32(ad, 0.5f), &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* y = exp(x): dx = dy * y */
ft_status ft_grad_exp(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, dx;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(emit2(ad, FT_OP_MUL, dy, fwd.out[0], &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* dx = dy / x */
ft_status ft_grad_log(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, dx;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(emit2(ad, FT_OP_DIV, dy, fwd.in[0], &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* y = 1/x: dx = -dy * y^2 */
ft_status ft_grad_reciprocal(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, t, dx;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(emit2(ad, FT_OP_MUL, fwd.out[0], fwd.out[0], &t));
	FT_TRY(emit2(ad, FT_OP_MUL, dy, t, &t));
	FT_TRY(emit1(ad, FT_OP_NEG, t, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* dx = dy * sign(x), 0 at x = 0: Where(x < 0, -dy, Where(x > 0, dy, 0)) */
ft_status ft_grad_abs(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, neg, pos, ndy, t, dx, x = fwd.in[0];

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	FT_TRY(need_f32(ad, &fwd, x));
	int zero = ft_ad_const_f32(ad, 0.0f);
	FT_TRY(emit2(ad, FT_OP_GREATER, x, zero, &pos));
	int in1[3] = { pos, dy, zero };
	FT_TRY(ft_ad_emit(ad, FT_OP_WHERE, 3, in1, &t));
	FT_TRY(emit2(ad, FT_OP_LESS, x, zero, &neg));
	FT_TRY(emit1(ad, FT_OP_NEG, dy, &ndy));
	int in2[3] = { neg, ndy, t };
	FT_TRY(ft_ad_emit(ad, FT_OP_WHERE, 3, in2, &dx));
	return ft_ad_add_grad(ad, x, dx);
}

/* ---- selection and data movement ---- */

/* y = Where(c, A, B): dA = dy where c, dB = dy elsewhere; each summed to its input's shape */
ft_status ft_grad_where(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]), t;

	for (int j = 1; j < 3; j++) {
		if (!ft_ad_requires(ad, fwd.in[j]))
			continue;
		FT_TRY(need_f32(ad, &fwd, fwd.in[j]));
		int zero = ft_ad_const_f32(ad, 0.0f);
		int in[3] = { fwd.in[0], j == 1 ? dy : zero, j == 1 ? zero : dy };
		FT_TRY(ft_ad_emit(ad, FT_OP_WHERE, 3, in, &t));
		FT_TRY(add_reduced(ad, fwd.in[j], t));
	}
	return FT_OK;
}

/* dx = dy cast back to x's dtype */
ft_status ft_grad_cast(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int dy, dx;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	ft_dtype to = g->tensors[fwd.in[0]].dtype;
	if (g->tensors[dy].dtype == to)
		return ft_ad_add_grad(ad, fwd.in[0], dy);
	ft_node *n = ft_ad_begin(ad, FT_OP_CAST, 1, &dy, 1);
	ft_node_set_int(g, n, "to", ft_dtype_to_onnx(to));
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

ft_status ft_grad_identity(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	return ft_ad_add_grad(ad, fwd.in[0], dy);
}

/*
 * Dropout: in inference mode (no training_mode input, or false, or ratio 0)
 * the identity; in training mode dx = dy * mask / (1 - ratio) with the mask
 * the forward drew (made an output of the forward node if it was not one).
 * training_mode and ratio must then be constants: the gradient's form and
 * scale are fixed when the graph is built.
 */
ft_status ft_grad_dropout(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	const ft_tensor *tratio = ft_in(g, &fwd, 1), *ttrain = ft_in(g, &fwd, 2);
	double ratio = fwd.opset < 12 ? ft_attr_float(&fwd, "ratio", 0.5f) : 0.5;
	int dy, dx, mask;

	if (!want(ad, &fwd, 0, &dy))
		return FT_OK;
	if (!ttrain || ttrain->numel == 0)
		return ft_ad_add_grad(ad, fwd.in[0], dy);
	if (!ft_tensor_is_const(ttrain))
		return ft_node_error(g, &fwd, FT_EUNSUPPORTED, "gradient with a training_mode \"%s\" that is not a constant",
				     ttrain->name);
	if (!ft_tensor_int(ttrain, 0))
		return ft_ad_add_grad(ad, fwd.in[0], dy);
	if (tratio && tratio->numel > 0) {
		if (!ft_tensor_is_const(tratio))
			return ft_node_error(g, &fwd, FT_EUNSUPPORTED, "gradient with a ratio \"%s\" that is not a constant",
					     tratio->name);
		ratio = ft_tensor_float(tratio, 0);
	}
	if (ratio == 0)
		return ft_ad_add_grad(ad, fwd.in[0], dy);
	FT_TRY(need_f32(ad, &fwd, fwd.in[0]));
	if (fwd.n_out < 2 || fwd.out[1] < 0) {
		/* the backward needs the mask: make the optional output */
		char name[600];
		snprintf(name, sizeof(name), "%.500s/mask", fwd.name);
		int *out = FT_ARENA_NEW(g->arena, int, 2);
		out[0] = fwd.out[0];
		out[1] = ft_graph_new_tensor(g, name);
		g->tensors[out[1]].producer = i;
		ft_node *n = &g->nodes[i];
		n->out = out;
		n->n_out = 2;
		FT_TRY(ft_op_table[n->op].infer(g, n));
		fwd = *n;
	}
	mask = fwd.out[1];
	int in[2] = { dy, mask };
	ft_node *n = ft_ad_begin(ad, FT_OP_DROPOUT_GRAD, 2, in, 1);
	ft_node_set_float(g, n, "ratio", (float)ratio);
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}
