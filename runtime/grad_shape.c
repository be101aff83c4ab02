/*
 * grad_shape.c - gradient rules of shapes and data movement.
 *
 * Most are data movement again: Reshape's gradient is a reshape, Transpose's
 * the inverse transpose, Concat's a slice per input, Split's a concat, Expand's
 * a sum over the broadcast axes, constant Pad's a Pad by the negated pads. Two
 * need their own op: Slice (dy scattered into zeros: SLICE_GRAD) and Gather
 * (dy added at the gathered rows, repeated indices summing: GATHER_GRAD).
 *
 * Rules copy the forward node and read tensors by id: emitting nodes and
 * tensors moves g->nodes and g->tensors.
 */
#include "grad.h"
#include "cpu/shape.h"

#include <string.h>

/* the forward node's x = in[0] and its dy = grad of out[0]; false when there is nothing to do */
static bool want_dx(ft_autodiff *ad, const ft_node *fwd, int *dy)
{
	*dy = ft_ad_grad(ad, fwd->out[0]);
	return *dy >= 0 && ft_ad_requires(ad, fwd->in[0]);
}

/* Reshape, Flatten, Squeeze, Unsqueeze: dy in x's shape */
ft_status ft_grad_reshape(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, dx;

	if (!want_dx(ad, &fwd, &dy))
		return FT_OK;
	FT_TRY(ft_ad_reshape_to(ad, dy, fwd.in[0], &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* dx = transpose(dy, inverse perm) */
ft_status ft_grad_transpose(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int perm[FT_MAX_RANK], rank = g->tensors[fwd.in[0]].rank, dy, dx;
	int64_t inv[FT_MAX_RANK];

	if (!want_dx(ad, &fwd, &dy))
		return FT_OK;
	FT_TRY(ft_transpose_perm(g, &fwd, rank, perm));
	for (int k = 0; k < rank; k++)
		inv[perm[k]] = k;
	ft_node *n = ft_ad_begin(ad, FT_OP_TRANSPOSE, 1, &dy, 1);
	ft_node_set_ints(g, n, "perm", inv, rank);
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* input j's gradient is dy's slice [offset, offset + its size) on the axis */
ft_status ft_grad_concat(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]), axis;
	int64_t off = 0;

	if (dy < 0)
		return FT_OK;
	FT_TRY(ft_norm_axis(g, &fwd, ft_attr_int(&fwd, "axis", 0), g->tensors[fwd.in[0]].rank, &axis));
	for (int j = 0; j < fwd.n_in; j++) {
		int64_t size = g->tensors[fwd.in[j]].dims[axis], start = off, end = off + size, ax = axis;
		off = end;
		if (!ft_ad_requires(ad, fwd.in[j]))
			continue;
		int in[4] = { dy, ft_ad_const_i64(ad, &start, 1), ft_ad_const_i64(ad, &end, 1),
			      ft_ad_const_i64(ad, &ax, 1) }, dx;
		FT_TRY(ft_ad_end(ad, ft_ad_begin(ad, FT_OP_SLICE, 4, in, 1), &dx));
		FT_TRY(ft_ad_add_grad(ad, fwd.in[j], dx));
	}
	return FT_OK;
}

/* dx = concat of the outputs' gradients (zeros where an output has none) */
ft_status ft_grad_split(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int axis, dx, *parts;

	if (!ft_ad_requires(ad, fwd.in[0]))
		return FT_OK;
	FT_TRY(ft_norm_axis(g, &fwd, ft_attr_int(&fwd, "axis", 0), g->tensors[fwd.in[0]].rank, &axis));
	parts = FT_ARENA_NEW(g->arena, int, fwd.n_out);
	for (int j = 0; j < fwd.n_out; j++) {
		parts[j] = ft_ad_grad(ad, fwd.out[j]);
		if (parts[j] >= 0)
			continue;
		const ft_tensor *y = &g->tensors[fwd.out[j]];
		if (y->dtype != FT_F32)
			return ft_node_error(g, &fwd, FT_EUNSUPPORTED, "gradient in dtype %s not supported",
					     ft_dtype_name(y->dtype));
		int64_t dims[FT_MAX_RANK];
		int rank = y->rank;
		memcpy(dims, y->dims, sizeof(dims));
		int shape = ft_ad_const_i64(ad, dims, rank);
		FT_TRY(ft_ad_emit(ad, FT_OP_CONSTANT_OF_SHAPE, 1, &shape, &parts[j])); /* float32 zeros */
	}
	ft_node *n = ft_ad_begin(ad, FT_OP_CONCAT, fwd.n_out, parts, 1);
	ft_node_set_int(g, n, "axis", axis);
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* dx = zeros of x's shape with dy written where the slice read */
ft_status ft_grad_slice(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	ft_slice_params p;
	int64_t shape[FT_MAX_RANK];
	int dy, dx;

	if (!want_dx(ad, &fwd, &dy))
		return FT_OK;
	FT_TRY(ft_slice_params_get(g, &fwd, &p));
	memcpy(shape, g->tensors[fwd.in[0]].dims, sizeof(shape));
	ft_node *n = ft_ad_begin(ad, FT_OP_SLICE_GRAD, 1, &dy, 1);
	ft_node_set_ints(g, n, "shape", shape, p.rank);
	ft_node_set_ints(g, n, "starts", p.start, p.rank);
	ft_node_set_ints(g, n, "steps", p.step, p.rank);
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* dx = zeros of data's shape, dy added at the gathered positions */
ft_status ft_grad_gather(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int64_t shape[FT_MAX_RANK];
	int dy, dx, axis, rank = g->tensors[fwd.in[0]].rank;

	if (!want_dx(ad, &fwd, &dy))
		return FT_OK;
	FT_TRY(ft_norm_axis(g, &fwd, ft_attr_int(&fwd, "axis", 0), rank, &axis));
	memcpy(shape, g->tensors[fwd.in[0]].dims, sizeof(shape));
	int in[2] = { dy, fwd.in[1] };
	ft_node *n = ft_ad_begin(ad, FT_OP_GATHER_GRAD, 2, in, 1);
	ft_node_set_ints(g, n, "shape", shape, rank);
	ft_node_set_int(g, n, "axis", axis);
	FT_TRY(ft_ad_end(ad, n, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* dx = dy summed over the broadcast axes */
ft_status ft_grad_expand(ft_autodiff *ad, int i)
{
	ft_node fwd = ad->g->nodes[i];
	int dy, dx;

	if (!want_dx(ad, &fwd, &dy))
		return FT_OK;
	FT_TRY(ft_ad_reduce_to(ad, dy, fwd.in[0], &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}

/* constant mode: dx = Pad(dy, -pads), which crops what was padded and zero-fills what was cropped */
ft_status ft_grad_pad(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	ft_pad_params p;
	int64_t pads[2 * FT_MAX_RANK];
	int dy, dx;

	if (!want_dx(ad, &fwd, &dy))
		return FT_OK;
	FT_TRY(ft_pad_params_get(g, &fwd, &p));
	if (p.mode != FT_PAD_CONSTANT)
		return ft_node_error(g, &fwd, FT_EUNSUPPORTED, "gradient of mode \"%s\" not supported",
				     ft_attr_string(&fwd, "mode", "constant"));
	for (int k = 0; k < p.rank; k++) {
		pads[k] = -p.begin[k];
		pads[k + p.rank] = -p.end[k];
	}
	int in[2] = { dy, ft_ad_const_i64(ad, pads, 2 * p.rank) };
	FT_TRY(ft_ad_emit(ad, FT_OP_PAD, 2, in, &dx));
	return ft_ad_add_grad(ad, fwd.in[0], dx);
}
