/*
 * op_conv.c - import-time checks of Conv, MaxPool and AveragePool attributes.
 *
 * Only what can be judged without shapes is checked here (known auto_pad,
 * positive kernel/strides/dilations, non-negative pads of matching lengths);
 * ft_conv_geometry() checks them against the input shapes later.
 */
#include "ir.h"

#include <string.h>

static ft_status check_ints(ft_graph *g, ft_node *n, const char *name, int64_t min, int *count)
{
	const int64_t *v;
	int k = ft_attr_ints(n, name, &v);
	*count = k;
	if (k < 0) {
		if (ft_attr_find(n, name))
			return ft_node_error(g, n, FT_EBADINPUT, "attribute %s must be a list of ints", name);
		return FT_OK;
	}
	for (int i = 0; i < k; i++)
		if (v[i] < min)
			return ft_node_error(g, n, FT_EBADINPUT, "%s[%d] is %lld, must be >= %lld", name, i,
					     (long long)v[i], (long long)min);
	return FT_OK;
}

static ft_status check_flag(ft_graph *g, ft_node *n, const char *name)
{
	int64_t v = ft_attr_int(n, name, 0);
	if (v != 0 && v != 1)
		return ft_node_error(g, n, FT_EBADINPUT, "%s is %lld, must be 0 or 1", name, (long long)v);
	return FT_OK;
}

/* the attributes Conv and the pools share */
static ft_status check_window(ft_graph *g, ft_node *n, bool need_kernel)
{
	const char *auto_pad = ft_attr_string(n, "auto_pad", "NOTSET");
	if (strcmp(auto_pad, "NOTSET") && strcmp(auto_pad, "SAME_UPPER") && strcmp(auto_pad, "SAME_LOWER") &&
	    strcmp(auto_pad, "VALID"))
		return ft_node_error(g, n, FT_EBADINPUT,
				     "auto_pad \"%s\" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", auto_pad);
	int nk, ns, nd, np;
	FT_TRY(check_ints(g, n, "kernel_shape", 1, &nk));
	FT_TRY(check_ints(g, n, "strides", 1, &ns));
	FT_TRY(check_ints(g, n, "dilations", 1, &nd));
	FT_TRY(check_ints(g, n, "pads", 0, &np));
	if (need_kernel && nk < 0)
		return ft_node_error(g, n, FT_EBADINPUT, "kernel_shape is required");
	if (nk == 0)
		return ft_node_error(g, n, FT_EBADINPUT, "kernel_shape is empty");
	/* lengths against each other; against the input rank in ft_conv_geometry() */
	if (nk > 0 && ((ns >= 0 && ns != nk) || (nd >= 0 && nd != nk) || (np >= 0 && np != 2 * nk)))
		return ft_node_error(g, n, FT_EBADINPUT,
				     "kernel_shape has %d values but strides %d, dilations %d, pads %d "
				     "(expected %d, %d, %d)", nk, ns, nd, np, nk, nk, 2 * nk);
	return FT_OK;
}

ft_status ft_import_conv(ft_graph *g, ft_node *n)
{
	FT_TRY(check_window(g, n, false));
	if (ft_attr_int(n, "group", 1) < 1)
		return ft_node_error(g, n, FT_EBADINPUT, "group %lld must be >= 1", (long long)ft_attr_int(n, "group", 1));
	return FT_OK;
}

ft_status ft_import_pool(ft_graph *g, ft_node *n)
{
	FT_TRY(check_window(g, n, true));
	FT_TRY(check_flag(g, n, "ceil_mode"));
	if (n->op == FT_OP_AVERAGE_POOL)
		return check_flag(g, n, "count_include_pad");
	FT_TRY(check_flag(g, n, "storage_order"));
	return FT_OK;
}
