/*
 * shape_reduce.c - shape inference for ReduceMean/Sum/Max/Min, Softmax and
 * LogSoftmax.
 */
#include "ir.h"

#include "cpu/reduce.h"

static bool reduce_dtype_ok(ft_dtype t)
{
	return t == FT_F32 || t == FT_F64 || t == FT_I32 || t == FT_I64;
}

ft_status ft_infer_reduce(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	bool mask[FT_MAX_RANK], noop;

	if (!reduce_dtype_ok(x->dtype))
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	FT_TRY(ft_reduce_axes(g, n, x, mask, &noop));
	bool keep = ft_attr_int(n, "keepdims", 1) != 0;

	// y keeps x's unreduced dims; reduced ones become 1 (keepdims) or go
	int64_t dims[FT_MAX_RANK];
	int rank = 0;
	for (int d = 0; d < x->rank; d++) {
		if (!mask[d])
			dims[rank++] = x->dims[d];
		else if (keep)
			dims[rank++] = 1;
	}
	return ft_set_out(g, n, 0, x->dtype, rank, dims);
}

ft_status ft_infer_softmax(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t outer = 1, len = 1, inner = 1;

	if (x->dtype != FT_F32 && x->dtype != FT_F64)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	FT_TRY(ft_softmax_view(g, n, x, &outer, &len, &inner));
	return ft_set_out(g, n, 0, x->dtype, x->rank, x->dims);
}
