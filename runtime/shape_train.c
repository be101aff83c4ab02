/* shape_train.c - shape inference of the training core ops (ops.h, "training core"). */
#include "ir.h"

/*
 * SGD_STEP_MULTI (lr, scale, found_inf, then per tensor param, grad, momentum) and
 * ADAMW_STEP_MULTI (lr, t, scale, found_inf, then param, grad, exp_avg, exp_avg_sq): the
 * scalars one float32 value each (scale and found_inf may be absent), every group float32 of
 * its param's size (a momentum may be absent)
 */
ft_status ft_infer_multi_step(ft_graph *g, ft_node *n)
{
	int head = n->op == FT_OP_SGD_STEP_MULTI ? 3 : 4, per = n->op == FT_OP_SGD_STEP_MULTI ? 3 : 4;
	if (n->n_in < head + per || (n->n_in - head) % per != 0)
		return ft_node_error(g, n, FT_EBADINPUT, "%d inputs: %d scalars, then groups of %d", n->n_in, head, per);
	for (int i = 0; i < head; i++) {
		const ft_tensor *t = ft_in(g, n, i);
		if ((t || i < head - 2) && (!t || t->dtype != FT_F32 || t->numel != 1))
			return ft_node_error(g, n, FT_EBADINPUT, "input %d must be a float32 scalar", i);
	}
	for (int i = head; i < n->n_in; i += per) {
		const ft_tensor *p = ft_in(g, n, i);
		for (int j = 0; j < per; j++) {
			const ft_tensor *t = ft_in(g, n, i + j);
			if (!t && j == 2 && per == 3)
				continue; /* SGD without momentum */
			if (!p)
				return ft_node_error(g, n, FT_EBADINPUT, "input %d (a parameter) is missing", i);
			if (!t || t->dtype != FT_F32 || t->numel != p->numel)
				return ft_node_error(g, n, FT_EBADINPUT, "input %d must be float32 with the %lld elements of "
						     "its parameter", i + j, (long long)p->numel);
		}
	}
	return FT_OK;
}

ft_status ft_infer_side_effect(ft_graph *g, ft_node *n)
{
	/* updates its first input in place; the other float inputs must match it */
	const ft_tensor *p = ft_in(g, n, 0);
	for (int i = 1; i < n->n_in; i++) {
		const ft_tensor *t = ft_in(g, n, i);
		if (t && t->rank > 0 && t->numel != p->numel)
			return ft_node_error(g, n, FT_EBADINPUT, "input %d has %lld elements, the updated tensor %lld", i,
					     (long long)t->numel, (long long)p->numel);
	}
	return FT_OK;
}

ft_status ft_infer_softmax_cross_entropy(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *y = ft_in(g, n, 1);
	char b1[128], b2[128];
	if (x->rank != 2 || !ft_dtype_is_float(x->dtype))
		return ft_node_error(g, n, FT_EBADINPUT,
				     "the loss needs logits of shape (N, classes); the model's first output \"%s\" is %s %s",
				     x->name, ft_dtype_name(x->dtype), ft_shape_str(x, b1, sizeof(b1)));
	if (y->rank != 1 || y->dims[0] != x->dims[0] || !ft_dtype_is_int(y->dtype))
		return ft_node_error(g, n, FT_EBADINPUT, "labels %s %s do not fit logits %s", ft_dtype_name(y->dtype),
				     ft_shape_str(y, b1, sizeof(b1)), ft_shape_str(x, b2, sizeof(b2)));
	FT_TRY(ft_set_out(g, n, 0, FT_F32, 0, NULL));
	return ft_set_out(g, n, 1, FT_F32, 2, x->dims);
}

ft_status ft_infer_softmax_cross_entropy_grad(ft_graph *g, ft_node *n)
{
	const ft_tensor *p = ft_in(g, n, 1);
	return ft_set_out(g, n, 0, FT_F32, p->rank, p->dims);
}

ft_status ft_infer_reduce_sum_to(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	const int64_t *shape;
	int rank = ft_attr_ints(n, "shape", &shape);
	if (rank < 0 || rank > x->rank)
		return ft_node_error(g, n, FT_EBADINPUT, "target rank %d does not fit input rank %d", rank, x->rank);
	int off = x->rank - rank;
	for (int i = 0; i < rank; i++)
		if (shape[i] != 1 && shape[i] != x->dims[off + i])
			return ft_node_error(g, n, FT_EBADINPUT, "axis %d: %lld cannot be reduced to %lld", i,
					     (long long)x->dims[off + i], (long long)shape[i]);
	return ft_set_out(g, n, 0, x->dtype, rank, shape);
}

/* one float32 scalar: GradNormSq's squared norm, AmpUnscale's found_inf */
ft_status ft_infer_scalar_f32(ft_graph *g, ft_node *n)
{
	return ft_set_out(g, n, 0, FT_F32, 0, NULL);
}
