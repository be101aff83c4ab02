/*
 * grad_norm.c - gradient rules of normalisation.
 *
 * Both backward ops read what the forward saved: BATCH_NORM_TRAIN's batch
 * mean and 1/std (outputs 1 and 2), LayerNormalization's Mean and InvStdDev
 * (outputs 1 and 2, which the training pass always makes). Gradients flow
 * from Y only: the saved statistics are not differentiated through (PyTorch
 * neither), and the running statistics are not trained.
 */
#include "grad.h"

#include <string.h>

/* dx, dscale, dbias = op(dy, x, scale, mean, invstd); the caller sets attributes through set */
static ft_status norm_rule(ft_autodiff *ad, int i, ft_op op)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]);
	int x = fwd.in[0], scale = fwd.in[1], bias = fwd.n_in > 2 ? fwd.in[2] : -1;

	if (dy < 0)
		return FT_OK;
	if (fwd.n_out < 3 || fwd.out[1] < 0 || fwd.out[2] < 0)
		return ft_node_error(g, &fwd, FT_EUNSUPPORTED,
				     "the gradient needs the saved mean and 1/std outputs, which this node lacks");
	/* a BatchNorm with its ReLU fused (train.c): its output, whose sign masks dy as ReluGrad did */
	bool relu = ft_attr_int(&fwd, "ft_relu", 0) != 0;
	int in[6] = { dy, x, scale, fwd.out[1], fwd.out[2], fwd.out[0] }, dx;
	ft_node *n = ft_ad_begin(ad, op, relu ? 6 : 5, in, 3);
	if (op == FT_OP_LAYER_NORM_GRAD)
		ft_node_set_int(g, n, "axis", ft_attr_int(&fwd, "axis", -1));
	if (ft_channels_last(&fwd)) /* dy, x and dx laid out as the forward's x (runtime/layout.c) */
		ft_node_set_int(g, n, "ft_channels_last", 1);
	if (relu)
		ft_node_set_int(g, n, "ft_relu", 1);
	FT_TRY(ft_ad_end(ad, n, &dx));
	const ft_node *gn = &g->nodes[g->n_nodes - 1];
	int dscale = gn->out[1], dbias = gn->out[2];
	if (ft_ad_requires(ad, x))
		FT_TRY(ft_ad_add_grad(ad, x, dx));
	if (ft_ad_requires(ad, scale))
		FT_TRY(ft_ad_add_grad(ad, scale, dscale));
	if (ft_ad_requires(ad, bias)) {
		/* dbias has scale's shape; a bias broadcast differently sums dy itself */
		const ft_tensor *tb = &g->tensors[bias], *ts = &g->tensors[scale];
		bool same = tb->rank == ts->rank && memcmp(tb->dims, ts->dims, sizeof(int64_t) * (size_t)tb->rank) == 0;
		if (!same && relu) /* (BatchNorm's bias is (C), as its scale: check_batch_norm) */
			return ft_node_error(g, &fwd, FT_EUNSUPPORTED, "a fused ReLU with a bias shaped unlike the scale");
		if (!same)
			FT_TRY(ft_ad_reduce_to(ad, dy, bias, &dbias));
		FT_TRY(ft_ad_add_grad(ad, bias, dbias));
	}
	return FT_OK;
}

/* BATCH_NORM_TRAIN (x, scale, B, running mean, running var) -> (y, saved_mean, saved_invstd) */
ft_status ft_grad_batch_norm(ft_autodiff *ad, int i)
{
	return norm_rule(ad, i, FT_OP_BATCH_NORM_GRAD);
}

/* LayerNormalization (x, scale[, B]) -> (y, mean, invstd) */
ft_status ft_grad_layer_norm(ft_autodiff *ad, int i)
{
	return norm_rule(ad, i, FT_OP_LAYER_NORM_GRAD);
}
