/* gradient checks of the reduce family: one gc_case per rule and attribute variant (see gradcheck.h) */
#include "gradcheck.h"

static const int64_t ax_m1[] = { -1 }, ax_0_m1[] = { 0, -1 }, ax_1[] = { 1 };

static void axes1_keep(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "axes", ax_1, 1);
}

static void axes02_nokeep(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "axes", (const int64_t[]){ 2, 0 }, 2);
	ft_node_set_int(g, n, "keepdims", 0);
}

static void nokeep(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "keepdims", 0);
}

static void noop_empty(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "noop_with_empty_axes", 1);
}

static void axis1(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "axis", 1);
}

static void axis_m1(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "axis", -1);
}

#define P(r, ...) { GC_PARAM, r, { __VA_ARGS__ }, -1, 1, NULL }
#define I(n, v) { GC_CONST_I, 1, { n }, 0, 0, v }
#define X3 P(3, 2, 3, 4)

const gc_case gc_cases_reduce[] = {
	/* ReduceMean: axes attribute to opset 17, input from 18 */
	{ "reduce_mean13_attr_axis1_keepdims", FT_OP_REDUCE_MEAN, 1, { X3 }, 1, 0, axes1_keep, 13 },
	{ "reduce_mean13_attr_axes20_nokeep", FT_OP_REDUCE_MEAN, 1, { X3 }, 1, 0, axes02_nokeep, 13 },
	{ "reduce_mean13_all_nokeep", FT_OP_REDUCE_MEAN, 1, { X3 }, 1, 0, nokeep, 13 },
	{ "reduce_mean18_input_m1_keepdims", FT_OP_REDUCE_MEAN, 2, { X3, I(1, ax_m1) }, 1, 0, NULL, 18 },
	{ "reduce_mean18_input_0m1_nokeep", FT_OP_REDUCE_MEAN, 2, { X3, I(2, ax_0_m1) }, 1, 0, nokeep, 18 },
	{ "reduce_mean18_no_axes_keepdims", FT_OP_REDUCE_MEAN, 1, { X3 }, 1, 0, NULL, 18 },
	{ "reduce_mean18_noop_empty_axes", FT_OP_REDUCE_MEAN, 1, { X3 }, 1, 0, noop_empty, 18 },
	/* ReduceSum: axes attribute before opset 13, input from 13 */
	{ "reduce_sum11_attr_axes20_nokeep", FT_OP_REDUCE_SUM, 1, { X3 }, 1, 0, axes02_nokeep, 11 },
	{ "reduce_sum13_input_1_keepdims", FT_OP_REDUCE_SUM, 2, { X3, I(1, ax_1) }, 1, 0, NULL, 13 },
	{ "reduce_sum13_input_0m1_nokeep", FT_OP_REDUCE_SUM, 2, { X3, I(2, ax_0_m1) }, 1, 0, nokeep, 13 },
	{ "reduce_sum13_all_nokeep", FT_OP_REDUCE_SUM, 1, { X3 }, 1, 0, nokeep, 13 },
	{ "reduce_sum13_noop_empty_axes", FT_OP_REDUCE_SUM, 1, { X3 }, 1, 0, noop_empty, 13 },
	/* Softmax and LogSoftmax along the last and a middle axis (inner > 1), and the 2-D coercion of opset 11 */
	{ "softmax_axis_m1", FT_OP_SOFTMAX, 1, { X3 }, 1, 0, axis_m1, 0 },
	{ "softmax_axis1", FT_OP_SOFTMAX, 1, { X3 }, 1, 0, axis1, 0 },
	{ "softmax11_coerced_axis1", FT_OP_SOFTMAX, 1, { X3 }, 1, 0, axis1, 11 },
	{ "log_softmax_axis_m1", FT_OP_LOG_SOFTMAX, 1, { X3 }, 1, 0, axis_m1, 0 },
	{ "log_softmax_axis1", FT_OP_LOG_SOFTMAX, 1, { X3 }, 1, 0, axis1, 0 },
	{ "log_softmax11_coerced_default_axis", FT_OP_LOG_SOFTMAX, 1, { X3 }, 1, 0, NULL, 11 },
};
const int gc_n_reduce = (int)FT_ARRAY_LEN(gc_cases_reduce);
