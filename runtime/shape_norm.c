/*
 * shape_norm.c - shape inference of BatchNormalization and LayerNormalization.
 */
#include "ir.h"

#include <stdio.h>

static bool is_f32_or_f64(ft_dtype t)
{
	return t == FT_F32 || t == FT_F64;
}

/* BatchNorm's channels: X's axis 1, or its last of a channels-last node's (N, H, W, C) */
static int64_t bn_channels(const ft_node *n, const ft_tensor *x)
{
	return ft_channels_last(n) && x->rank == 4 ? x->dims[3] : x->dims[1];
}

/*
 * BatchNormalization: X is (N, C, spatial...); scale, B, mean, var are (C).
 * Outputs: Y like X; in training mode running_mean and running_var like mean
 * and var. Outputs 3 and 4, when a pass adds them (the old opset 9 saved_mean
 * and saved_var slots), receive the batch mean and 1/sqrt(var + epsilon) the
 * backward needs; they are (C) in mean's dtype.
 */
/* the checks BatchNormalization and BATCH_NORM_TRAIN share */
static ft_status check_batch_norm(ft_graph *g, ft_node *n)
{
	static const char *names[] = { "X", "scale", "B", "input_mean", "input_var" };
	const ft_tensor *x = ft_in(g, n, 0);
	char bx[128], bp[128];
	/* X may be fp16/bf16 with float32 parameters and statistics (AMP, as cuDNN's batch norm takes it) */
	if (!is_f32_or_f64(x->dtype) && x->dtype != FT_F16 && x->dtype != FT_BF16)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	if (x->rank < 2)
		return ft_node_error(g, n, FT_EBADINPUT, "X %s must have rank >= 2 (N, C, ...)",
				     ft_shape_str(x, bx, sizeof(bx)));
	int64_t c = bn_channels(n, x);
	for (int i = 1; i < 5; i++) {
		const ft_tensor *p = ft_in(g, n, i);
		if (!is_f32_or_f64(p->dtype))
			return ft_node_error(g, n, FT_EUNSUPPORTED, "%s dtype %s not supported", names[i],
					     ft_dtype_name(p->dtype));
		if (p->rank != 1 || p->dims[0] != c)
			return ft_node_error(g, n, FT_EBADINPUT, "%s %s must have %lld elements, the channels of X %s",
					     names[i], ft_shape_str(p, bp, sizeof(bp)), (long long)c,
					     ft_shape_str(x, bx, sizeof(bx)));
	}
	return FT_OK;
}

ft_status ft_infer_batch_norm(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *mean = ft_in(g, n, 3), *var = ft_in(g, n, 4);
	FT_TRY(check_batch_norm(g, n));
	FT_TRY(ft_set_out(g, n, 0, x->dtype, x->rank, x->dims));
	FT_TRY(ft_set_out(g, n, 1, mean->dtype, 1, mean->dims));
	FT_TRY(ft_set_out(g, n, 2, var->dtype, 1, var->dims));
	FT_TRY(ft_set_out(g, n, 3, mean->dtype, 1, mean->dims));
	return ft_set_out(g, n, 4, mean->dtype, 1, mean->dims);
}

/*
 * BATCH_NORM_TRAIN (made from BatchNormalization by the training pass): the
 * same inputs; outputs Y, saved_mean and saved_invstd, both (C) in the
 * dtype of input_mean. See ft_cpu_batch_norm_train for the running stats.
 */
ft_status ft_infer_batch_norm_train(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *mean = ft_in(g, n, 3);
	FT_TRY(check_batch_norm(g, n));
	FT_TRY(ft_set_out(g, n, 0, x->dtype, x->rank, x->dims));
	FT_TRY(ft_set_out(g, n, 1, mean->dtype, 1, mean->dims));
	return ft_set_out(g, n, 2, mean->dtype, 1, mean->dims);
}

/*
 * BATCH_NORM_APPLY (x, scale, B, saved_mean, saved_invstd) -> Y: a training forward's Y again
 * from the statistics it saved (runtime/remat.c). x is (N, C, ...); the rest (C).
 */
ft_status ft_infer_batch_norm_apply(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	if (!x || x->rank < 2)
		return ft_node_error(g, n, FT_EBADINPUT, "X must have rank >= 2");
	for (int i = 1; i < 5; i++) {
		const ft_tensor *p = ft_in(g, n, i);
		if (!p || p->rank != 1 || p->dims[0] != bn_channels(n, x) || !ft_dtype_is_float(p->dtype))
			return ft_node_error(g, n, FT_EBADINPUT, "input %d must be a float (C) = (%lld) vector", i,
					     (long long)bn_channels(n, x));
	}
	return ft_set_out(g, n, 0, x->dtype, x->rank, x->dims);
}

/*
 * LayerNormalization: X is (d0, ..., d_{r-1}); statistics over axes
 * [axis, r). Scale and B broadcast (numpy rules, from the right) to
 * X.dims[axis:]. Outputs: Y like X; Mean and InvStdDev are
 * (d0, ..., d_{axis-1}, 1, ..., 1) in the stash type.
 */
ft_status ft_infer_layer_norm(ft_graph *g, ft_node *n)
{
	static const char *names[] = { "X", "Scale", "B" };
	const ft_tensor *x = ft_in(g, n, 0);
	char bx[128], bp[128];
	if (!is_f32_or_f64(x->dtype))
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	if (x->rank < 1)
		return ft_node_error(g, n, FT_EBADINPUT, "X must have rank >= 1");
	int axis;
	FT_TRY(ft_norm_axis(g, n, ft_attr_int(n, "axis", -1), x->rank, &axis));
	int nrank = x->rank - axis;
	for (int i = 1; i < 3; i++) {
		const ft_tensor *p = ft_in(g, n, i);
		if (!p)
			continue;
		if (p->dtype != x->dtype)
			return ft_node_error(g, n, FT_EBADINPUT, "%s is %s but X is %s", names[i],
					     ft_dtype_name(p->dtype), ft_dtype_name(x->dtype));
		bool ok = p->rank <= nrank;
		for (int k = 0; ok && k < p->rank; k++) {
			int64_t d = p->dims[p->rank - 1 - k], xd = x->dims[x->rank - 1 - k];
			ok = d == xd || d == 1;
		}
		if (!ok)
			return ft_node_error(g, n, FT_EBADINPUT,
					     "%s %s does not broadcast to the normalised axes %d.. of X %s", names[i],
					     ft_shape_str(p, bp, sizeof(bp)), axis, ft_shape_str(x, bx, sizeof(bx)));
	}
	FT_TRY(ft_set_out(g, n, 0, x->dtype, x->rank, x->dims));
	int64_t sdims[FT_MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		sdims[i] = i < axis ? x->dims[i] : 1;
	ft_dtype st = ft_attr_int(n, "stash_type", 1) == 11 ? FT_F64 : FT_F32;
	FT_TRY(ft_set_out(g, n, 1, st, x->rank, sdims));
	return ft_set_out(g, n, 2, st, x->rank, sdims);
}

/*
 * BATCH_NORM_GRAD and LAYER_NORM_GRAD (dy, x, scale, mean, invstd[, y]) -> dx like
 * x, dscale and dbias like scale. BatchNorm: scale, mean, invstd are (C).
 * LayerNorm (attribute axis): mean and invstd hold one value per row (the
 * product of x.dims[:axis]); scale broadcasts to x.dims[axis:]. BatchNorm's y, when given,
 * is the output of its fused ReLU (train.c), like x.
 */
ft_status ft_infer_norm_grad(ft_graph *g, ft_node *n)
{
	static const char *names[] = { "dy", "X", "scale", "mean", "invstd" };
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1), *scale = ft_in(g, n, 2);
	char bx[128], bp[128];
	bool low = x->dtype == FT_F16 || x->dtype == FT_BF16; /* AMP: float32 scale and statistics */
	if (!is_f32_or_f64(x->dtype) && !low)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	bool same = dy->dtype == x->dtype && dy->rank == x->rank;
	for (int i = 0; same && i < x->rank; i++)
		same = dy->dims[i] == x->dims[i];
	if (!same || scale->dtype != (low ? FT_F32 : x->dtype))
		return ft_node_error(g, n, FT_EBADINPUT, "dy %s and scale must match X %s in dtype (and dy in shape)",
				     ft_shape_str(dy, bp, sizeof(bp)), ft_shape_str(x, bx, sizeof(bx)));
	int64_t stats = 1; /* values in mean and invstd */
	if (n->op == FT_OP_BATCH_NORM_GRAD) {
		if (x->rank < 2)
			return ft_node_error(g, n, FT_EBADINPUT, "X %s must have rank >= 2 (N, C, ...)",
					     ft_shape_str(x, bx, sizeof(bx)));
		stats = bn_channels(n, x);
		if (scale->rank != 1 || scale->dims[0] != stats)
			return ft_node_error(g, n, FT_EBADINPUT, "scale %s must have the %lld channels of X %s",
					     ft_shape_str(scale, bp, sizeof(bp)), (long long)stats,
					     ft_shape_str(x, bx, sizeof(bx)));
	} else {
		int axis;
		FT_TRY(ft_norm_axis(g, n, ft_attr_int(n, "axis", -1), x->rank, &axis));
		for (int i = 0; i < axis; i++)
			stats *= x->dims[i];
		bool ok = scale->rank <= x->rank - axis;
		for (int k = 0; ok && k < scale->rank; k++) {
			int64_t d = scale->dims[scale->rank - 1 - k];
			ok = d == x->dims[x->rank - 1 - k] || d == 1;
		}
		if (!ok)
			return ft_node_error(g, n, FT_EBADINPUT,
					     "scale %s does not broadcast to the normalised axes %d.. of X %s",
					     ft_shape_str(scale, bp, sizeof(bp)), axis, ft_shape_str(x, bx, sizeof(bx)));
	}
	const ft_tensor *ry = n->op == FT_OP_BATCH_NORM_GRAD ? ft_in(g, n, 5) : NULL; /* a fused ReLU's output */
	bool ry_ok = !ry || (ry->dtype == x->dtype && ry->rank == x->rank);
	for (int i = 0; ry && ry_ok && i < x->rank; i++)
		ry_ok = ry->dims[i] == x->dims[i];
	if (!ry_ok)
		return ft_node_error(g, n, FT_EBADINPUT, "the ReLU output %s must match X %s in dtype and shape",
				     ft_shape_str(ry, bp, sizeof(bp)), ft_shape_str(x, bx, sizeof(bx)));
	for (int i = 3; i < 5; i++) {
		const ft_tensor *p = ft_in(g, n, i);
		if (!is_f32_or_f64(p->dtype) || p->numel != stats)
			return ft_node_error(g, n, FT_EBADINPUT, "%s %s (%s) must hold %lld float values for X %s",
					     names[i], ft_shape_str(p, bp, sizeof(bp)), ft_dtype_name(p->dtype),
					     (long long)stats, ft_shape_str(x, bx, sizeof(bx)));
	}
	FT_TRY(ft_set_out(g, n, 0, x->dtype, x->rank, x->dims));
	FT_TRY(ft_set_out(g, n, 1, scale->dtype, scale->rank, scale->dims));
	return ft_set_out(g, n, 2, scale->dtype, scale->rank, scale->dims);
}

/*
 * IMAGE_NORMALIZE (the input pipeline, runtime/loader.h): X uint8 (N,C,H,W)
 * to float32 (N,C,H,W), attributes mean and std with C values each.
 */
ft_status ft_infer_image_normalize(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	const float *mean, *std;
	char bx[128];
	if (x->dtype != FT_U8 || x->rank != 4)
		return ft_node_error(g, n, FT_EBADINPUT, "X must be uint8 images (N,C,H,W), got %s %s",
				     ft_dtype_name(x->dtype), ft_shape_str(x, bx, sizeof(bx)));
	int nm = ft_attr_floats(n, "mean", &mean), ns = ft_attr_floats(n, "std", &std);
	if (nm != x->dims[1] || ns != x->dims[1])
		return ft_node_error(g, n, FT_EBADINPUT, "mean and std need %lld values (the channels), have %d and %d",
				     (long long)x->dims[1], nm, ns);
	for (int c = 0; c < ns; c++)
		if (!(std[c] > 0) || mean[c] != mean[c])
			return ft_node_error(g, n, FT_EBADINPUT, "channel %d: mean %g, std %g", c, mean[c], std[c]);
	return ft_set_out(g, n, 0, FT_F32, x->rank, x->dims);
}
