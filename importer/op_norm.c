/*
 * op_norm.c - import-time checks of BatchNormalization and LayerNormalization.
 */
#include "ir.h"

#include <math.h>

ft_status ft_import_batch_norm(ft_graph *g, ft_node *n)
{
	float eps = ft_attr_float(n, "epsilon", 1e-5f);
	float momentum = ft_attr_float(n, "momentum", 0.9f);
	int64_t training = ft_attr_int(n, "training_mode", 0);
	if (!(eps >= 0.0f) || !isfinite(eps))
		return ft_node_error(g, n, FT_EBADINPUT, "epsilon %g must be a finite value >= 0", (double)eps);
	if (!isfinite(momentum))
		return ft_node_error(g, n, FT_EBADINPUT, "momentum %g must be finite", (double)momentum);
	if (training != 0 && training != 1)
		return ft_node_error(g, n, FT_EBADINPUT, "training_mode is %lld, must be 0 or 1", (long long)training);
	/* opset < 9: spatial=0 normalised each (C, spatial...) element separately */
	if (ft_attr_int(n, "spatial", 1) != 1)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "spatial=0 (per-activation statistics) is not supported");
	return FT_OK;
}

ft_status ft_import_layer_norm(ft_graph *g, ft_node *n)
{
	float eps = ft_attr_float(n, "epsilon", 1e-5f);
	int64_t stash = ft_attr_int(n, "stash_type", 1);
	if (!(eps >= 0.0f) || !isfinite(eps))
		return ft_node_error(g, n, FT_EBADINPUT, "epsilon %g must be a finite value >= 0", (double)eps);
	/* ONNX TensorProto.FLOAT = 1, DOUBLE = 11 */
	if (stash != 1 && stash != 11)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "stash_type %lld not supported (float or double only)",
				     (long long)stash);
	return FT_OK;
}
