/* gradient checks of the training core ops (kernels/cpu/train.c) */
#include "gradcheck.h"

static const int64_t labels4[] = { 0, 2, 1, 2 };

static void smoothing(ft_graph *g, ft_node *n)
{
	ft_node_set_float(g, n, "label_smoothing", 0.1f);
}

const gc_case gc_cases_train[] = {
	{ "softmax_cross_entropy", FT_OP_SOFTMAX_CROSS_ENTROPY, 2,
	  { { GC_PARAM, 2, { 4, 3 }, -2, 2, NULL }, { GC_CONST_I, 1, { 4 }, 0, 0, labels4 } }, 2, 1, NULL, 0 },
	{ "softmax_cross_entropy_smoothing", FT_OP_SOFTMAX_CROSS_ENTROPY, 2,
	  { { GC_PARAM, 2, { 4, 3 }, -2, 2, NULL }, { GC_CONST_I, 1, { 4 }, 0, 0, labels4 } }, 2, 1, smoothing, 0 },
};
const int gc_n_train = (int)FT_ARRAY_LEN(gc_cases_train);
