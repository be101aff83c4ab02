/* grad_train.c - gradient rules of the training core ops. */
#include "grad.h"

ft_status ft_grad_softmax_cross_entropy(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dloss = ft_ad_grad(ad, fwd.out[0]);
	if (dloss < 0 || !ft_ad_requires(ad, fwd.in[0]))
		return FT_OK;
	int in[3] = { dloss, fwd.out[1], fwd.in[1] }, dx;
	ft_node *n = ft_ad_begin(ad, FT_OP_SOFTMAX_CROSS_ENTROPY_GRAD, 3, in, 1);
	ft_node_set_float(ad->g, n, "label_smoothing", ft_attr_float(&fwd, "label_smoothing", 0.0f));
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}
