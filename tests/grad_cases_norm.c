/* gradient checks of the norm family: one gc_case per rule and attribute variant (see gradcheck.h) */
#include "gradcheck.h"

static void axis1(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "axis", 1);
}

/*
 * A BatchNorm with its ReLU fused (train.c's fuse_bn_relu): y = max(bn(x), 0); channels last
 * too. The kink lies where bn(x) = 0, which the generators cannot keep inputs away from as they
 * do for a plain ReLU (AWAY): these draws (the harness's fixed seed) have no output within the
 * finite-difference step of it; shapes (3, 4, 2, 3) and (2, 4, 2, 2) do, and fail there by 4 to
 * 8%, as a ReLU drawn next to 0 would. (The fused gradients are byte for byte those of the
 * BatchNorm and ReLU pair on resnet50: tests/fusion.sh.)
 */
static void fused_relu(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "ft_relu", 1);
}

static void fused_relu_nhwc(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "ft_relu", 1);
	ft_node_set_int(g, n, "ft_channels_last", 1);
}

#define P(r, ...) { GC_PARAM, r, { __VA_ARGS__ }, -1, 1, NULL }
/* running statistics: constants, variance positive */
#define MEAN(c) { GC_CONST_F, 1, { c }, -0.5f, 0.5f, NULL }
#define VAR(c) { GC_CONST_F, 1, { c }, 0.5f, 1.5f, NULL }

/* BATCH_NORM_TRAIN makes (y, saved_mean, saved_invstd); LayerNormalization (y, mean, invstd); only y is seeded */
const gc_case gc_cases_norm[] = {
	{ "batch_norm_train_nchw", FT_OP_BATCH_NORM_TRAIN, 5,
	  { P(4, 3, 4, 3, 3), P(1, 4), P(1, 4), MEAN(4), VAR(4) }, 3, 1, NULL, 0 },
	{ "batch_norm_train_nc", FT_OP_BATCH_NORM_TRAIN, 5,
	  { P(2, 6, 3), P(1, 3), P(1, 3), MEAN(3), VAR(3) }, 3, 1, NULL, 0 },
	{ "batch_norm_train_relu", FT_OP_BATCH_NORM_TRAIN, 5,
	  { P(4, 2, 4, 3, 3), P(1, 4), P(1, 4), MEAN(4), VAR(4) }, 3, 1, fused_relu, 0 },
	{ "batch_norm_train_relu_nhwc", FT_OP_BATCH_NORM_TRAIN, 5,
	  { P(4, 3, 3, 3, 4), P(1, 4), P(1, 4), MEAN(4), VAR(4) }, 3, 1, fused_relu_nhwc, 0 },
	{ "layer_norm_axis_m1", FT_OP_LAYER_NORM, 3, { P(3, 2, 3, 8), P(1, 8), P(1, 8) }, 3, 1, NULL, 0 },
	{ "layer_norm_axis1", FT_OP_LAYER_NORM, 3, { P(3, 2, 3, 4), P(2, 3, 4), P(2, 3, 4) }, 3, 1, axis1, 0 },
	{ "layer_norm_axis1_broadcast_scale", FT_OP_LAYER_NORM, 3, { P(3, 2, 3, 4), P(1, 4), P(2, 3, 4) }, 3, 1,
	  axis1, 0 },
	{ "layer_norm_no_bias", FT_OP_LAYER_NORM, 2, { P(2, 4, 6), P(1, 6) }, 3, 1, NULL, 0 },
};
const int gc_n_norm = (int)FT_ARRAY_LEN(gc_cases_norm);
