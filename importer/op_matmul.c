/*
 * op_matmul.c - import-time checks for Gemm (MatMul has no attributes).
 */
#include "ir.h"

ft_status ft_import_gemm(ft_graph *g, ft_node *n)
{
	static const char *const flags[] = {"transA", "transB"};
	for (size_t i = 0; i < FT_ARRAY_LEN(flags); i++) {
		const ft_attr *a = ft_attr_find(n, flags[i]);
		if (a && (a->kind != FT_ATTR_INT || (a->i != 0 && a->i != 1)))
			return ft_node_error(g, n, FT_EBADINPUT, "attribute %s must be 0 or 1", flags[i]);
	}
	static const char *const scales[] = {"alpha", "beta"};
	for (size_t i = 0; i < FT_ARRAY_LEN(scales); i++) {
		const ft_attr *a = ft_attr_find(n, scales[i]);
		if (a && a->kind != FT_ATTR_FLOAT && a->kind != FT_ATTR_INT)
			return ft_node_error(g, n, FT_EBADINPUT, "attribute %s must be a float", scales[i]);
	}
	// Gemm-6 and older broadcast C only with broadcast=1; without it C must be (M,N).
	// Both forms are accepted: unidirectional broadcasting covers the old exact shape.
	return FT_OK;
}
