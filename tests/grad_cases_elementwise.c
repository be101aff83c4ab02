/* gradient checks of the elementwise family: one gc_case per rule and attribute variant (see gradcheck.h) */
#include "gradcheck.h"

/* X(kind, lo, hi, rank, dims...) */
#define X(k, lo, hi, r, ...) { k, r, { __VA_ARGS__ }, lo, hi, NULL }
#define P(lo, hi, r, ...) X(GC_PARAM, lo, hi, r, __VA_ARGS__)
#define AWAY(lo, hi, r, ...) X(GC_PARAM_AWAY, lo, hi, r, __VA_ARGS__)
#define POS(lo, hi, r, ...) X(GC_PARAM_POS, lo, hi, r, __VA_ARGS__)
#define CF(v) X(GC_CONST_F, v, v, 0, 0) /* a float scalar constant v */
#define B(r, v, ...) { GC_CONST_B, r, { __VA_ARGS__ }, 0, 0, v }
#define ABSENT { GC_ABSENT, 0, { 0 }, 0, 0, NULL }
#define P234 P(-1, 1, 3, 2, 3, 4)

static const int64_t cond_234[] = { 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1 };
static const int64_t cond_214[] = { 1, 0, 0, 1, 0, 1, 1, 0 };
static const int64_t yes[] = { 1 }, no[] = { 0 };

static void alpha_01(ft_graph *g, ft_node *n)
{
	ft_node_set_float(g, n, "alpha", 0.1f);
}

static void hsig_custom(ft_graph *g, ft_node *n)
{
	ft_node_set_float(g, n, "alpha", 0.5f);
	ft_node_set_float(g, n, "beta", 0.6f);
}

static void clip_attrs_0_6(ft_graph *g, ft_node *n)
{
	ft_node_set_float(g, n, "min", 0.0f);
	ft_node_set_float(g, n, "max", 6.0f);
}

static void to_float(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "to", 1);
}

const gc_case gc_cases_elementwise[] = {
	/* binary arithmetic, same shape and broadcast both ways */
	{ "add_same", FT_OP_ADD, 2, { P234, P234 }, 1, 0, NULL, 0 },
	{ "add_bcast", FT_OP_ADD, 2, { P(-1, 1, 3, 2, 1, 4), P(-1, 1, 2, 3, 1) }, 1, 0, NULL, 0 },
	{ "add_bcast_scalar", FT_OP_ADD, 2, { P(-1, 1, 0, 0), P234 }, 1, 0, NULL, 0 },
	{ "sub_same", FT_OP_SUB, 2, { P234, P234 }, 1, 0, NULL, 0 },
	{ "sub_bcast", FT_OP_SUB, 2, { P(-1, 1, 3, 2, 1, 4), P(-1, 1, 2, 3, 1) }, 1, 0, NULL, 0 },
	{ "sub_const_a", FT_OP_SUB, 2, { X(GC_CONST_F, -1, 1, 1, 4), P234 }, 1, 0, NULL, 0 },
	{ "mul_same", FT_OP_MUL, 2, { P234, P234 }, 1, 0, NULL, 0 },
	{ "mul_bcast", FT_OP_MUL, 2, { P(-1, 1, 3, 2, 1, 4), P(-1, 1, 2, 3, 1) }, 1, 0, NULL, 0 },
	{ "mul_bcast_channel", FT_OP_MUL, 2, { P(-1, 1, 4, 2, 3, 2, 2), P(-1, 1, 3, 3, 1, 1) }, 1, 0, NULL, 0 },
	{ "div_same", FT_OP_DIV, 2, { P234, AWAY(0.5f, 1.5f, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "div_bcast", FT_OP_DIV, 2, { P(-1, 1, 3, 2, 1, 4), AWAY(0.5f, 1.5f, 2, 3, 1) }, 1, 0, NULL, 0 },
	{ "div_bcast_a", FT_OP_DIV, 2, { P(-1, 1, 1, 4), AWAY(0.5f, 1.5f, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "pow_same", FT_OP_POW, 2, { POS(0.5f, 2, 3, 2, 3, 4), P(-1.5f, 2, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "pow_bcast", FT_OP_POW, 2, { POS(0.5f, 2, 3, 2, 1, 4), P(-1.5f, 2, 2, 3, 1) }, 1, 0, NULL, 0 },
	{ "pow_bcast_exponent", FT_OP_POW, 2, { POS(0.5f, 2, 3, 2, 3, 4), P(-1.5f, 2, 1, 1) }, 1, 0, NULL, 0 },
	{ "pow_const_2", FT_OP_POW, 2, { P234, CF(2) }, 1, 0, NULL, 0 },
	{ "pow_const_3", FT_OP_POW, 2, { P234, CF(3) }, 1, 0, NULL, 0 },
	{ "pow_const_1", FT_OP_POW, 2, { P234, CF(1) }, 1, 0, NULL, 0 },
	{ "pow_const_half", FT_OP_POW, 2, { POS(0.5f, 2, 3, 2, 3, 4), CF(0.5f) }, 1, 0, NULL, 0 },
	{ "pow_int_exponent", FT_OP_POW, 2, { P234, { GC_CONST_I, 0, { 0 }, 0, 0, (const int64_t[]){ 3 } } }, 1, 0,
	  NULL, 0 },
	{ "neg", FT_OP_NEG, 1, { P234 }, 1, 0, NULL, 0 },
	/* activations; the kinked ones drawn away from their kinks */
	{ "relu", FT_OP_RELU, 1, { AWAY(0.05f, 1, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "leaky_relu_default", FT_OP_LEAKY_RELU, 1, { AWAY(0.05f, 1, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "leaky_relu_alpha", FT_OP_LEAKY_RELU, 1, { AWAY(0.05f, 1, 3, 2, 3, 4) }, 1, 0, alpha_01, 0 },
	{ "sigmoid", FT_OP_SIGMOID, 1, { P(-3, 3, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "tanh", FT_OP_TANH, 1, { P(-2, 2, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "erf", FT_OP_ERF, 1, { P(-2, 2, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "hard_sigmoid_linear", FT_OP_HARD_SIGMOID, 1, { P(-2.3f, 2.3f, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "hard_sigmoid_saturated", FT_OP_HARD_SIGMOID, 1, { AWAY(2.7f, 4, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "hard_sigmoid_alpha_beta", FT_OP_HARD_SIGMOID, 1, { P(-1.1f, 0.7f, 3, 2, 3, 4) }, 1, 0, hsig_custom, 0 },
	{ "hard_swish_middle", FT_OP_HARD_SWISH, 1, { P(-2.5f, 2.5f, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "hard_swish_outside", FT_OP_HARD_SWISH, 1, { AWAY(3.5f, 5, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "silu", FT_OP_SILU, 1, { P(-4, 4, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "gelu", FT_OP_GELU, 1, { P(-4, 4, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "clip_relu6", FT_OP_CLIP, 3, { AWAY(0.05f, 1, 3, 2, 3, 4), CF(0), CF(6) }, 1, 0, NULL, 0 },
	{ "clip_inside", FT_OP_CLIP, 3, { P(-0.4f, 0.4f, 3, 2, 3, 4), CF(-0.5f), CF(0.5f) }, 1, 0, NULL, 0 },
	{ "clip_all_clipped", FT_OP_CLIP, 3, { AWAY(0.6f, 1.5f, 3, 2, 3, 4), CF(-0.5f), CF(0.5f) }, 1, 0, NULL, 0 },
	{ "clip_max_only", FT_OP_CLIP, 3, { AWAY(0.6f, 1.5f, 3, 2, 3, 4), ABSENT, CF(0.0f) }, 1, 0, NULL, 0 },
	{ "clip_min_only", FT_OP_CLIP, 2, { AWAY(0.05f, 1, 3, 2, 3, 4), CF(0.0f) }, 1, 0, NULL, 0 },
	{ "clip6_attributes", FT_OP_CLIP, 1, { AWAY(0.05f, 1, 3, 2, 3, 4) }, 1, 0, clip_attrs_0_6, 6 },
	{ "abs", FT_OP_ABS, 1, { AWAY(0.05f, 1, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	/* maths functions */
	{ "sqrt", FT_OP_SQRT, 1, { POS(0.5f, 2, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "exp", FT_OP_EXP, 1, { P(-2, 1, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "log", FT_OP_LOG, 1, { POS(0.5f, 2, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "reciprocal", FT_OP_RECIPROCAL, 1, { POS(0.5f, 2, 3, 2, 3, 4) }, 1, 0, NULL, 0 },
	/* selection and data movement */
	{ "where_same", FT_OP_WHERE, 3, { B(3, cond_234, 2, 3, 4), P234, P234 }, 1, 0, NULL, 0 },
	{ "where_bcast", FT_OP_WHERE, 3, { B(3, cond_214, 2, 1, 4), P234, P(-1, 1, 2, 3, 1) }, 1, 0, NULL, 0 },
	{ "where_bcast_x", FT_OP_WHERE, 3, { B(3, cond_234, 2, 3, 4), P(-1, 1, 1, 4), X(GC_CONST_F, -1, 1, 0, 0) },
	  1, 0, NULL, 0 },
	{ "cast_float", FT_OP_CAST, 1, { P234 }, 1, 0, to_float, 0 },
	{ "identity", FT_OP_IDENTITY, 1, { P234 }, 1, 0, NULL, 0 },
	{ "dropout_training", FT_OP_DROPOUT, 3, { P234, CF(0.3f), B(0, yes, 0) }, 2, 1, NULL, 0 },
	{ "dropout_training_no_mask_output", FT_OP_DROPOUT, 3, { P234, CF(0.3f), B(0, yes, 0) }, 1, 1, NULL, 0 },
	{ "dropout_inference", FT_OP_DROPOUT, 3, { P234, CF(0.3f), B(0, no, 0) }, 2, 1, NULL, 0 },
	{ "dropout_no_training_mode", FT_OP_DROPOUT, 1, { P234 }, 1, 0, NULL, 0 },
};
const int gc_n_elementwise = (int)FT_ARRAY_LEN(gc_cases_elementwise);
