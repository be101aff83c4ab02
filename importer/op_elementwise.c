/*
 * importer/op_elementwise.c - import-time checks of the elementwise family's
 * attributes (Mod's fmod, Clip's old min/max, Cast's target type, Dropout's
 * ratio). Input shapes are not known yet; the rest is checked by the infer
 * functions in runtime/shape_elementwise.c.
 */
#include "ir.h"

ft_status ft_import_mod(ft_graph *g, ft_node *n)
{
	int64_t fmod = ft_attr_int(n, "fmod", 0);

	if (fmod != 0 && fmod != 1)
		return ft_node_error(g, n, FT_EBADINPUT, "fmod must be 0 or 1, not %lld", (long long)fmod);
	return FT_OK;
}

/* a float attribute, if present, must be a float (or an int, which reads as one) */
static ft_status ew_float_attr(ft_graph *g, ft_node *n, const char *name)
{
	const ft_attr *a = ft_attr_find(n, name);

	if (a && a->kind != FT_ATTR_FLOAT && a->kind != FT_ATTR_INT)
		return ft_node_error(g, n, FT_EBADINPUT, "attribute %s must be a float", name);
	return FT_OK;
}

/* Clip: min/max are attributes before opset 11 and optional inputs from it on */
ft_status ft_import_clip(ft_graph *g, ft_node *n)
{
	FT_TRY(ew_float_attr(g, n, "min"));
	FT_TRY(ew_float_attr(g, n, "max"));
	if (n->opset < 11 && n->n_in > 1)
		return ft_node_error(g, n, FT_EBADINPUT, "Clip before opset 11 takes min/max as attributes, "
				     "not inputs (%d inputs)", n->n_in);
	return FT_OK;
}

/* the names of the ONNX types ftrun has no dtype for, for messages */
static const char *ew_onnx_type_name(int64_t t)
{
	switch (t) {
	case 8: return "string";
	case 14: return "complex64";
	case 15: return "complex128";
	case 17: return "float8e4m3fn";
	case 18: return "float8e4m3fnuz";
	case 19: return "float8e5m2";
	case 20: return "float8e5m2fnuz";
	case 21: return "uint4";
	case 22: return "int4";
	default: return "unknown";
	}
}

ft_status ft_import_cast(ft_graph *g, ft_node *n)
{
	const ft_attr *to = ft_attr_find(n, "to");

	if (!to || to->kind != FT_ATTR_INT)
		return ft_node_error(g, n, FT_EBADINPUT, "Cast needs an int attribute 'to'");
	if (to->i < 0 || to->i > 1000 || ft_dtype_from_onnx((int)to->i) == FT_UNDEF)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "cast to %s (ONNX type %lld) not supported",
				     ew_onnx_type_name(to->i), (long long)to->i);
	return FT_OK;
}

/* Dropout: ratio is an attribute before opset 12 and an optional input from it on */
ft_status ft_import_dropout(ft_graph *g, ft_node *n)
{
	FT_TRY(ew_float_attr(g, n, "ratio"));
	if (ft_attr_find(n, "ratio")) {
		float r = ft_attr_float(n, "ratio", 0.5f);
		if (!(r >= 0 && r < 1))
			return ft_node_error(g, n, FT_EBADINPUT, "ratio %g is not in [0, 1)", (double)r);
	}
	if (n->opset < 12 && n->n_in > 1)
		return ft_node_error(g, n, FT_EBADINPUT, "Dropout before opset 12 has one input, not %d", n->n_in);
	return FT_OK;
}
