/* gradient checks of the shape family: one gc_case per rule and attribute variant (see gradcheck.h) */
#include "gradcheck.h"

static const int64_t shape_4_m1[] = { 4, -1 };
static const int64_t ax1[] = { 1 };
static const int64_t ax0_m1[] = { 0, -1 };
static const int64_t split_241[] = { 2, 4, 1 };
static const int64_t sl_starts[] = { 4, 1 }, sl_ends[] = { INT64_MIN, 6 }, sl_axes[] = { 0, 2 }, sl_steps[] = { -2, 2 };
static const int64_t sl3_starts[] = { 1, -4 }, sl3_ends[] = { 4, 100 };
static const int64_t gidx[] = { 0, 3, 3, -1 }, gidx1[] = { 1 };
static const int64_t expand_234[] = { 2, 3, 4 };
static const int64_t pads_crop[] = { 0, 1, -1, 0, 2, 1 };

static void axis1(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "axis", 1);
}

static void axis2(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "axis", 2);
}

static void axis_m2(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "axis", -2);
}

static void perm_201(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "perm", (const int64_t[]){ 2, 0, 1 }, 3);
}

static void perm_0231(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "perm", (const int64_t[]){ 0, 2, 3, 1 }, 4);
}

static void three_outputs(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "axis", 1);
	ft_node_set_int(g, n, "num_outputs", 3);
}

#define P(r, ...) { GC_PARAM, r, { __VA_ARGS__ }, -1, 1, NULL }
#define I(n, v) { GC_CONST_I, 1, { n }, 0, 0, v }

const gc_case gc_cases_shape[] = {
	{ "reshape", FT_OP_RESHAPE, 2, { P(3, 2, 3, 4), I(2, shape_4_m1) }, 1, 0, NULL, 0 },
	{ "flatten_axis2", FT_OP_FLATTEN, 1, { P(4, 2, 3, 2, 2) }, 1, 0, axis2, 0 },
	{ "squeeze", FT_OP_SQUEEZE, 2, { P(3, 2, 1, 3), I(1, ax1) }, 1, 0, NULL, 0 },
	{ "unsqueeze", FT_OP_UNSQUEEZE, 2, { P(2, 2, 3), I(2, ax0_m1) }, 1, 0, NULL, 0 },
	{ "transpose_default", FT_OP_TRANSPOSE, 1, { P(3, 2, 3, 4) }, 1, 0, NULL, 0 },
	{ "transpose_201", FT_OP_TRANSPOSE, 1, { P(3, 2, 3, 4) }, 1, 0, perm_201, 0 },
	{ "transpose_nchw_nhwc", FT_OP_TRANSPOSE, 1, { P(4, 2, 3, 4, 5) }, 1, 0, perm_0231, 0 },
	{ "concat_axis1_const_middle", FT_OP_CONCAT, 3,
	  { P(2, 2, 3), { GC_CONST_F, 2, { 2, 1 }, -1, 1, NULL }, P(2, 2, 2) }, 1, 0, axis1, 0 },
	{ "concat_axis_m2", FT_OP_CONCAT, 2, { P(3, 2, 3, 2), P(3, 2, 1, 2) }, 1, 0, axis_m2, 0 },
	{ "split_all_seeded", FT_OP_SPLIT, 2, { P(2, 2, 7), I(3, split_241) }, 3, 3, axis1, 0 },
	{ "split_first_seeded", FT_OP_SPLIT, 2, { P(2, 2, 7), I(3, split_241) }, 3, 1, axis1, 0 },
	{ "split18_num_outputs", FT_OP_SPLIT, 1, { P(2, 2, 7) }, 3, 3, three_outputs, 18 },
	{ "slice_neg_step", FT_OP_SLICE, 5,
	  { P(3, 5, 3, 6), I(2, sl_starts), I(2, sl_ends), I(2, sl_axes), I(2, sl_steps) }, 1, 0, NULL, 0 },
	{ "slice_default_axes", FT_OP_SLICE, 3, { P(2, 5, 6), I(2, sl3_starts), I(2, sl3_ends) }, 1, 0, NULL, 0 },
	{ "gather_repeated_negative", FT_OP_GATHER, 2,
	  { P(2, 4, 3), { GC_CONST_I, 2, { 2, 2 }, 0, 0, gidx } }, 1, 0, NULL, 0 },
	{ "gather_axis1_scalar", FT_OP_GATHER, 2, { P(3, 2, 3, 4), { GC_CONST_I, 0, { 0 }, 0, 0, gidx1 } }, 1, 0,
	  axis1, 0 },
	{ "expand", FT_OP_EXPAND, 2, { P(2, 3, 1), I(3, expand_234) }, 1, 0, NULL, 0 },
	{ "pad_constant_crop", FT_OP_PAD, 3,
	  { P(3, 2, 3, 4), I(6, pads_crop), { GC_CONST_F, 0, { 0 }, -1, 1, NULL } }, 1, 0, NULL, 0 },
};
const int gc_n_shape = (int)FT_ARRAY_LEN(gc_cases_shape);
