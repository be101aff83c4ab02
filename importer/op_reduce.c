/*
 * op_reduce.c - import-time checks for the reductions and softmax.
 *
 * The axes of a reduction moved from an attribute to an optional second input
 * (ReduceSum in opset 13, ReduceMean/Max/Min in 18); both forms are accepted,
 * whichever the node uses, and resolved at shape inference (ft_reduce_axes).
 */
#include "ir.h"

static ft_status check_flag(ft_graph *g, ft_node *n, const char *name)
{
	const ft_attr *a = ft_attr_find(n, name);
	if (a && (a->kind != FT_ATTR_INT || (a->i != 0 && a->i != 1)))
		return ft_node_error(g, n, FT_EBADINPUT, "attribute %s must be 0 or 1", name);
	return FT_OK;
}

ft_status ft_import_reduce(ft_graph *g, ft_node *n)
{
	FT_TRY(check_flag(g, n, "keepdims"));
	FT_TRY(check_flag(g, n, "noop_with_empty_axes"));
	const ft_attr *axes = ft_attr_find(n, "axes");
	if (axes && axes->kind != FT_ATTR_INTS)
		return ft_node_error(g, n, FT_EBADINPUT, "attribute axes must be a list of ints");
	if (axes && ft_in(g, n, 1))
		return ft_node_error(g, n, FT_EBADINPUT, "axes given both as an attribute and as input 1");
	return FT_OK;
}

ft_status ft_import_softmax(ft_graph *g, ft_node *n)
{
	const ft_attr *axis = ft_attr_find(n, "axis");
	if (axis && axis->kind != FT_ATTR_INT)
		return ft_node_error(g, n, FT_EBADINPUT, "attribute axis must be an int");
	return FT_OK;
}
