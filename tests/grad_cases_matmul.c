/* gradient checks of the matmul family: one gc_case per rule and attribute variant (see gradcheck.h) */
#include "gradcheck.h"

/* Gemm's four transA/transB combinations, with alpha and beta away from 1 */
static void gemm_attrs(ft_graph *g, ft_node *n, int ta, int tb)
{
	ft_node_set_int(g, n, "transA", ta);
	ft_node_set_int(g, n, "transB", tb);
	ft_node_set_float(g, n, "alpha", 0.7f);
	ft_node_set_float(g, n, "beta", -1.3f);
}

static void gemm_nn(ft_graph *g, ft_node *n)
{
	gemm_attrs(g, n, 0, 0);
}

static void gemm_tn(ft_graph *g, ft_node *n)
{
	gemm_attrs(g, n, 1, 0);
}

static void gemm_nt(ft_graph *g, ft_node *n)
{
	gemm_attrs(g, n, 0, 1);
}

static void gemm_tt(ft_graph *g, ft_node *n)
{
	gemm_attrs(g, n, 1, 1);
}

#define P(r, ...) { GC_PARAM, r, { __VA_ARGS__ }, -1, 1, NULL }
#define ABSENT { GC_ABSENT, 0, { 0 }, 0, 0, NULL }

/* op(A) is (3,4) and op(B) (4,5): A is (3,4) or (4,3), B (4,5) or (5,4) */
#define A_N P(2, 3, 4)
#define A_T P(2, 4, 3)
#define B_N P(2, 4, 5)
#define B_T P(2, 5, 4)
#define GEMM(name, a, b, attrs)                                                               \
	{ "gemm_" name "_c_n", FT_OP_GEMM, 3, { a, b, P(1, 5) }, 1, 0, attrs, 0 },            \
	{ "gemm_" name "_c_1n", FT_OP_GEMM, 3, { a, b, P(2, 1, 5) }, 1, 0, attrs, 0 },        \
	{ "gemm_" name "_c_mn", FT_OP_GEMM, 3, { a, b, P(2, 3, 5) }, 1, 0, attrs, 0 },        \
	{ "gemm_" name "_c_absent", FT_OP_GEMM, 2, { a, b }, 1, 0, attrs, 0 },                \
	{ "gemm_" name "_c_absent_optional", FT_OP_GEMM, 3, { a, b, ABSENT }, 1, 0, attrs, 0 }

const gc_case gc_cases_matmul[] = {
	{ "matmul_2d", FT_OP_MATMUL, 2, { P(2, 3, 4), P(2, 4, 5) }, 1, 0, NULL, 0 },
	{ "matmul_batched", FT_OP_MATMUL, 2, { P(3, 2, 3, 4), P(3, 2, 4, 5) }, 1, 0, NULL, 0 },
	{ "matmul_broadcast_batch_linear", FT_OP_MATMUL, 2, { P(3, 2, 3, 4), P(2, 4, 5) }, 1, 0, NULL, 0 },
	{ "matmul_broadcast_batch_a2d", FT_OP_MATMUL, 2, { P(2, 3, 4), P(3, 2, 4, 5) }, 1, 0, NULL, 0 },
	{ "matmul_broadcast_batch_both", FT_OP_MATMUL, 2, { P(4, 2, 1, 3, 4), P(3, 3, 4, 2) }, 1, 0, NULL, 0 },
	{ "matmul_vector_a", FT_OP_MATMUL, 2, { P(1, 4), P(3, 2, 4, 5) }, 1, 0, NULL, 0 },
	{ "matmul_vector_b", FT_OP_MATMUL, 2, { P(3, 2, 3, 4), P(1, 4) }, 1, 0, NULL, 0 },
	{ "matmul_vector_b_2d", FT_OP_MATMUL, 2, { P(2, 3, 4), P(1, 4) }, 1, 0, NULL, 0 },
	{ "matmul_vector_vector", FT_OP_MATMUL, 2, { P(1, 4), P(1, 4) }, 1, 0, NULL, 0 },
	{ "matmul_const_b", FT_OP_MATMUL, 2, { P(3, 2, 3, 4), { GC_CONST_F, 2, { 4, 5 }, -1, 1, NULL } }, 1, 0,
	  NULL, 0 },
	GEMM("nn", A_N, B_N, gemm_nn),
	GEMM("tn", A_T, B_N, gemm_tn),
	GEMM("nt", A_N, B_T, gemm_nt),
	GEMM("tt", A_T, B_T, gemm_tt),
	{ "gemm_nt_c_scalar", FT_OP_GEMM, 3, { A_N, B_T, P(0, 0) }, 1, 0, gemm_nt, 0 },
	{ "gemm_tn_c_m1", FT_OP_GEMM, 3, { A_T, B_N, P(2, 3, 1) }, 1, 0, gemm_tn, 0 },
};
const int gc_n_matmul = (int)FT_ARRAY_LEN(gc_cases_matmul);
