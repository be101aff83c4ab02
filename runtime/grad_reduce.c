/*
 * grad_reduce.c - gradient rules of ReduceSum, ReduceMean, Softmax and
 * LogSoftmax.
 *
 * A sum's gradient is dy copied back over the reduced axes, a mean's the same
 * divided by the count: one REDUCE_GRAD node, which also undoes keepdims=0.
 * Softmax and LogSoftmax need only their output y:
 *   softmax:     dx = y * (dy - sum_axis(dy * y))
 *   log_softmax: dx = dy - exp(y) * sum_axis(dy)
 * SOFTMAX_GRAD / LOG_SOFTMAX_GRAD take the forward's axis and opset, so they
 * see the input as the forward did (before opset 13, coerced to 2-D at axis).
 *
 * Rules copy the forward node and read tensors by id: emitting nodes and
 * tensors moves g->nodes and g->tensors.
 */
#include "grad.h"
#include "cpu/reduce.h"

static ft_status reduce_rule(ft_autodiff *ad, int i, bool mean)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int x = fwd.in[0], dy = ft_ad_grad(ad, fwd.out[0]), dx;
	bool mask[FT_MAX_RANK], noop;
	int64_t axes[FT_MAX_RANK], shape[FT_MAX_RANK], count = 1;
	int na = 0;

	if (dy < 0 || !ft_ad_requires(ad, x))
		return FT_OK;
	ft_tensor tx = g->tensors[x];
	FT_TRY(ft_reduce_axes(g, &fwd, &tx, mask, &noop));
	if (noop) // noop_with_empty_axes: y = x
		return ft_ad_add_grad(ad, x, dy);
	for (int d = 0; d < tx.rank; d++) {
		shape[d] = tx.dims[d];
		if (mask[d]) {
			axes[na++] = d;
			count *= tx.dims[d];
		}
	}
	// dx (x's shape) = dy broadcast over the reduced axes, / count for a mean
	ft_node *n = ft_ad_begin(ad, FT_OP_REDUCE_GRAD, 1, &dy, 1);
	ft_node_set_ints(g, n, "shape", shape, tx.rank);
	ft_node_set_ints(g, n, "axes", axes, na);
	ft_node_set_int(g, n, "keepdims", ft_attr_int(&fwd, "keepdims", 1) != 0);
	if (mean && count > 0)
		ft_node_set_float(g, n, "scale", (float)(1.0 / (double)count));
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, x, dx);
}

ft_status ft_grad_reduce_sum(ft_autodiff *ad, int i)
{
	return reduce_rule(ad, i, false);
}

ft_status ft_grad_reduce_mean(ft_autodiff *ad, int i)
{
	return reduce_rule(ad, i, true);
}

/* dx from (dy, y) by op, which sees y through the forward's axis and opset */
static ft_status softmax_rule(ft_autodiff *ad, int i, ft_op op)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int x = fwd.in[0], dy = ft_ad_grad(ad, fwd.out[0]), dx;

	if (dy < 0 || !ft_ad_requires(ad, x))
		return FT_OK;
	int in[2] = { dy, fwd.out[0] };
	ft_node *n = ft_ad_begin(ad, op, 2, in, 1);
	n->opset = fwd.opset;
	ft_node_set_int(g, n, "axis", ft_attr_int(&fwd, "axis", fwd.opset < 13 ? 1 : -1));
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, x, dx);
}

ft_status ft_grad_softmax(ft_autodiff *ad, int i)
{
	return softmax_rule(ad, i, FT_OP_SOFTMAX_GRAD);
}

ft_status ft_grad_log_softmax(ft_autodiff *ad, int i)
{
	return softmax_rule(ad, i, FT_OP_LOG_SOFTMAX_GRAD);
}
