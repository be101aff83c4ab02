/*
 * grad_conv.c - gradient rules of convolution and pooling.
 *
 * Conv's input gradient is CONV_GRAD_INPUT (a transposed convolution of dy
 * with the weights), its weight and bias gradients CONV_GRAD_WEIGHT (dy
 * correlated with x; the bias's is dy summed over N and space). The pools'
 * gradients are their own ops, which read x again: MaxPool's finds each
 * window's maximum anew rather than keeping an index tensor per activation.
 * Every gradient op carries the forward node's attributes, so it resolves
 * the same window geometry (ft_conv_geometry).
 *
 * Rules copy the forward node and read tensors by id: emitting nodes moves
 * g->nodes and g->tensors.
 */
#include "grad.h"

#include <string.h>

/* Starts a gradient node of op with a copy of the forward node's attributes. */
static ft_node *begin_like(ft_autodiff *ad, const ft_node *fwd, ft_op op, int n_in, const int *in, int n_out)
{
	ft_node *n = ft_ad_begin(ad, op, n_in, in, n_out);
	ft_node_copy_attrs(ad->g, n, fwd);
	return n;
}

/* shape of tensor t as an ints attribute of n */
static void set_shape_attr(ft_graph *g, ft_node *n, const char *name, int t)
{
	int64_t dims[FT_MAX_RANK];
	int rank = g->tensors[t].rank;
	memcpy(dims, g->tensors[t].dims, sizeof(dims));
	ft_node_set_ints(g, n, name, dims, rank);
}

/* Conv(x, w[, b]): dx = CONV_GRAD_INPUT(dy, w), (dw, db) = CONV_GRAD_WEIGHT(dy, x) */
ft_status ft_grad_conv(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]);
	int x = fwd.in[0], w = fwd.in[1], b = fwd.n_in > 2 ? fwd.in[2] : -1;
	bool want_b = ft_ad_requires(ad, b);

	if (dy < 0)
		return FT_OK;
	if (ft_ad_requires(ad, x)) {
		int in[2] = { dy, w }, dx;
		ft_node *n = begin_like(ad, &fwd, FT_OP_CONV_GRAD_INPUT, 2, in, 1);
		set_shape_attr(g, n, "x_shape", x);
		FT_TRY(ft_ad_end(ad, n, &dx));
		FT_TRY(ft_ad_add_grad(ad, x, dx));
	}
	if (ft_ad_requires(ad, w) || want_b) {
		int in[2] = { dy, x }, dw, db;
		ft_node *n = begin_like(ad, &fwd, FT_OP_CONV_GRAD_WEIGHT, 2, in, want_b ? 2 : 1);
		set_shape_attr(g, n, "w_shape", w);
		FT_TRY(ft_ad_end(ad, n, &dw));
		db = want_b ? g->nodes[g->n_nodes - 1].out[1] : -1;
		if (ft_ad_requires(ad, w))
			FT_TRY(ft_ad_add_grad(ad, w, dw));
		if (want_b)
			FT_TRY(ft_ad_add_grad(ad, b, db));
	}
	return FT_OK;
}

/* a pool's dx = op(dy, x[, extra]) with the forward's attributes (and mode, for the global ones) */
static ft_status pool_rule(ft_autodiff *ad, int i, ft_op op, const char *mode)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]), x = fwd.in[0], dx;

	if (dy < 0 || !ft_ad_requires(ad, x))
		return FT_OK;
	int in[2] = { dy, x };
	ft_node *n = begin_like(ad, &fwd, op, 2, in, 1);
	if (mode)
		ft_node_set_string(g, n, "mode", mode);
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, x, dx);
}

ft_status ft_grad_max_pool(ft_autodiff *ad, int i)
{
	return pool_rule(ad, i, FT_OP_MAX_POOL_GRAD, NULL);
}

ft_status ft_grad_average_pool(ft_autodiff *ad, int i)
{
	return pool_rule(ad, i, FT_OP_AVERAGE_POOL_GRAD, NULL);
}

ft_status ft_grad_global_average_pool(ft_autodiff *ad, int i)
{
	return pool_rule(ad, i, FT_OP_GLOBAL_POOL_GRAD, "avg");
}

ft_status ft_grad_global_max_pool(ft_autodiff *ad, int i)
{
	return pool_rule(ad, i, FT_OP_GLOBAL_POOL_GRAD, "max");
}
