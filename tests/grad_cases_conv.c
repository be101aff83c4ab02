/* gradient checks of the conv family: one gc_case per rule and attribute variant (see gradcheck.h) */
#include "gradcheck.h"

#include <string.h>

/* a string attribute (ir.h has setters for numbers only): make the slot, then retype it */
static void set_string(ft_graph *g, ft_node *n, const char *name, const char *v)
{
	ft_node_set_int(g, n, name, 0);
	for (int k = 0; k < n->n_attrs; k++)
		if (strcmp(n->attrs[k].name, name) == 0) {
			n->attrs[k].kind = FT_ATTR_STRING;
			n->attrs[k].s = v;
		}
}

static void pads1(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "pads", (const int64_t[]){ 1, 1, 1, 1 }, 4);
}

static void stride2_pads(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "strides", (const int64_t[]){ 2, 2 }, 2);
	ft_node_set_ints(g, n, "pads", (const int64_t[]){ 1, 0, 2, 1 }, 4);
}

static void dilation2(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "dilations", (const int64_t[]){ 2, 2 }, 2);
	ft_node_set_ints(g, n, "pads", (const int64_t[]){ 2, 1, 2, 1 }, 4);
}

static void group2(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "group", 2);
	pads1(g, n);
}

static void group4(ft_graph *g, ft_node *n)
{
	ft_node_set_int(g, n, "group", 4);
	pads1(g, n);
}

static void same_upper_s2(ft_graph *g, ft_node *n)
{
	set_string(g, n, "auto_pad", "SAME_UPPER");
	ft_node_set_ints(g, n, "strides", (const int64_t[]){ 2, 2 }, 2);
}

static void conv1d(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "strides", (const int64_t[]){ 2 }, 1);
	ft_node_set_ints(g, n, "pads", (const int64_t[]){ 2, 1 }, 2);
}

static void mp_k3_s2_p1(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "kernel_shape", (const int64_t[]){ 3, 3 }, 2);
	ft_node_set_ints(g, n, "strides", (const int64_t[]){ 2, 2 }, 2);
	ft_node_set_ints(g, n, "pads", (const int64_t[]){ 1, 1, 1, 1 }, 4);
}

static void mp_k2_s2_ceil(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "kernel_shape", (const int64_t[]){ 2, 2 }, 2);
	ft_node_set_ints(g, n, "strides", (const int64_t[]){ 2, 2 }, 2);
	ft_node_set_int(g, n, "ceil_mode", 1);
}

static void mp_k3_s1_dil2(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "kernel_shape", (const int64_t[]){ 3, 2 }, 2);
	ft_node_set_ints(g, n, "dilations", (const int64_t[]){ 2, 1 }, 2);
	ft_node_set_ints(g, n, "pads", (const int64_t[]){ 0, 1, 1, 0 }, 4);
}

static void ap_k3_s2_p1_excl(ft_graph *g, ft_node *n)
{
	mp_k3_s2_p1(g, n);
	ft_node_set_int(g, n, "count_include_pad", 0);
}

static void ap_k3_s2_p1_incl(ft_graph *g, ft_node *n)
{
	mp_k3_s2_p1(g, n);
	ft_node_set_int(g, n, "count_include_pad", 1);
}

static void ap_k3_s2_ceil_incl(ft_graph *g, ft_node *n)
{
	ft_node_set_ints(g, n, "kernel_shape", (const int64_t[]){ 3, 3 }, 2);
	ft_node_set_ints(g, n, "strides", (const int64_t[]){ 2, 2 }, 2);
	ft_node_set_ints(g, n, "pads", (const int64_t[]){ 1, 0, 1, 0 }, 4);
	ft_node_set_int(g, n, "ceil_mode", 1);
	ft_node_set_int(g, n, "count_include_pad", 1);
}

#define P(r, ...) { GC_PARAM, r, { __VA_ARGS__ }, -1, 1, NULL }
#define PERM(r, ...) { GC_PARAM_PERM, r, { __VA_ARGS__ }, 0, 0, NULL }

const gc_case gc_cases_conv[] = {
	{ "conv_bias_pads", FT_OP_CONV, 3, { P(4, 2, 4, 6, 6), P(4, 6, 4, 3, 3), P(1, 6) }, 1, 0, pads1, 0 },
	{ "conv_nobias", FT_OP_CONV, 2, { P(4, 2, 3, 6, 5), P(4, 4, 3, 3, 3) }, 1, 0, NULL, 0 },
	{ "conv_stride2_asym_pads", FT_OP_CONV, 3, { P(4, 1, 3, 7, 8), P(4, 4, 3, 3, 3), P(1, 4) }, 1, 0,
	  stride2_pads, 0 },
	{ "conv_dilation2", FT_OP_CONV, 2, { P(4, 1, 3, 8, 7), P(4, 4, 3, 3, 3) }, 1, 0, dilation2, 0 },
	{ "conv_groups2", FT_OP_CONV, 3, { P(4, 2, 4, 5, 5), P(4, 6, 2, 3, 3), P(1, 6) }, 1, 0, group2, 0 },
	{ "conv_depthwise", FT_OP_CONV, 3, { P(4, 2, 4, 5, 5), P(4, 4, 1, 3, 3), P(1, 4) }, 1, 0, group4, 0 },
	{ "conv_1x1", FT_OP_CONV, 2, { P(4, 2, 4, 3, 3), P(4, 5, 4, 1, 1) }, 1, 0, NULL, 0 },
	{ "conv_same_upper_stride2", FT_OP_CONV, 3, { P(4, 1, 3, 7, 6), P(4, 4, 3, 4, 3), P(1, 4) }, 1, 0,
	  same_upper_s2, 0 },
	{ "conv_1d", FT_OP_CONV, 3, { P(3, 2, 3, 11), P(3, 4, 3, 4), P(1, 4) }, 1, 0, conv1d, 0 },
	{ "conv_weight_const_x_only", FT_OP_CONV, 2,
	  { P(4, 1, 2, 5, 5), { GC_CONST_F, 4, { 3, 2, 3, 3 }, -1, 1, NULL } }, 1, 0, pads1, 0 },
	{ "max_pool_k3_s2_pads", FT_OP_MAX_POOL, 1, { PERM(4, 2, 3, 6, 6) }, 1, 0, mp_k3_s2_p1, 0 },
	{ "max_pool_k2_s2_ceil", FT_OP_MAX_POOL, 1, { PERM(4, 2, 2, 7, 7) }, 1, 0, mp_k2_s2_ceil, 0 },
	{ "max_pool_dilated_overlap", FT_OP_MAX_POOL, 1, { PERM(4, 1, 2, 7, 6) }, 1, 0, mp_k3_s1_dil2, 0 },
	{ "average_pool_pads_exclude", FT_OP_AVERAGE_POOL, 1, { P(4, 2, 3, 6, 6) }, 1, 0, ap_k3_s2_p1_excl, 0 },
	{ "average_pool_pads_include", FT_OP_AVERAGE_POOL, 1, { P(4, 2, 3, 6, 6) }, 1, 0, ap_k3_s2_p1_incl, 0 },
	{ "average_pool_ceil_include", FT_OP_AVERAGE_POOL, 1, { P(4, 1, 2, 8, 6) }, 1, 0, ap_k3_s2_ceil_incl, 0 },
	{ "global_average_pool", FT_OP_GLOBAL_AVERAGE_POOL, 1, { P(4, 2, 3, 4, 5) }, 1, 0, NULL, 0 },
	{ "global_max_pool", FT_OP_GLOBAL_MAX_POOL, 1, { PERM(4, 2, 3, 4, 5) }, 1, 0, NULL, 0 },
};
const int gc_n_conv = (int)FT_ARRAY_LEN(gc_cases_conv);
