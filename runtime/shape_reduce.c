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

/*
 * REDUCE_GRAD(dy): attributes shape (the forward input's), axes (normalised,
 * increasing), keepdims and scale. dy must be the forward output's shape:
 * shape with the axes set to 1 (keepdims) or removed. dx is shape.
 */
ft_status ft_infer_reduce_grad(ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0);
	const int64_t *shape, *axes;
	int rank = ft_attr_ints(n, "shape", &shape), na = ft_attr_ints(n, "axes", &axes);
	bool keep = ft_attr_int(n, "keepdims", 1) != 0, mask[FT_MAX_RANK] = { false };
	char sd[128];

	if (dy->dtype != FT_F32 && dy->dtype != FT_F64)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(dy->dtype));
	if (rank < 0 || rank > FT_MAX_RANK || na < 0)
		return ft_node_error(g, n, FT_EBADINPUT, "needs the attributes shape and axes");
	for (int i = 0; i < na; i++) {
		if (axes[i] < 0 || axes[i] >= rank || (i && axes[i] <= axes[i - 1]))
			return ft_node_error(g, n, FT_EBADINPUT, "axes must be increasing and in [0, %d)", rank);
		mask[axes[i]] = true;
	}
	// dy is shape with the reduced axes 1 or gone
	int k = 0;
	bool ok = true;
	for (int d = 0; d < rank && ok; d++) {
		if (mask[d] && !keep)
			continue;
		ok = k < dy->rank && dy->dims[k] == (mask[d] ? 1 : shape[d]);
		k++;
	}
	if (!ok || k != dy->rank)
		return ft_node_error(g, n, FT_EBADINPUT, "gradient %s does not match the reduction's output",
				     ft_shape_str(dy, sd, sizeof(sd)));
	return ft_set_out(g, n, 0, dy->dtype, rank, shape);
}
