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

/* Einsum equations: one attribute setter each */
#define EQ(fn, text)                                          \
	static void fn(ft_graph *g, ft_node *n)               \
	{                                                     \
		ft_node_set_string(g, n, "equation", text);   \
	}
EQ(eq_bmm, "bij,bjk->bik")
EQ(eq_attn, "bhid, bhjd -> bhij")
EQ(eq_transpose, "ij->ji")
EQ(eq_rowsum, "ij->i")
EQ(eq_private, "ij,jk->k")
EQ(eq_dot, "i,i->")
EQ(eq_outer, "i,j->ij")
EQ(eq_chain, "ij,jk,kl->il")
EQ(eq_implicit, "ij,jk")
EQ(eq_ell_lead, "...ij,jk->...ik")
EQ(eq_ell_bcast, "...ij,...jk->...ik")
EQ(eq_ell_mid, "b...d,d->b...")
EQ(eq_maxvit_qk, "B G H I D, B G H J D -> B G H I J") /* torchvision's maxvit_t, as exported */
EQ(eq_maxvit_pv, "B G H I J, B G H J D -> B G H I D")
EQ(eq_diag, "ii->i")
EQ(eq_ell_summed, "...ij->ij")
EQ(eq_ell_rowsum, "...ij->...i")
EQ(eq_ell_private_both, "...i,j->...")
EQ(eq_full_sum, "ij->")
EQ(eq_implicit_upper, "ij,jK")
EQ(eq_scalar, "i,->i")
EQ(eq_ell_fewer_middle, "i...,...->i...")
#undef EQ

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
	/* Einsum: batched products, a transpose, sums over one operand's own letters (a row sum, and a
	   letter private to the first of two operands), a dot and an outer product, three operands, the
	   implicit output, and ellipses: leading on one side, broadcast from 1 on both, in the middle */
	{ "einsum_bmm", FT_OP_EINSUM, 2, { P(3, 2, 3, 4), P(3, 2, 4, 5) }, 1, 0, eq_bmm, 0 },
	{ "einsum_attention", FT_OP_EINSUM, 2, { P(4, 2, 2, 3, 4), P(4, 2, 2, 5, 4) }, 1, 0, eq_attn, 0 },
	{ "einsum_transpose", FT_OP_EINSUM, 1, { P(2, 3, 4) }, 1, 0, eq_transpose, 0 },
	{ "einsum_rowsum", FT_OP_EINSUM, 1, { P(2, 3, 4) }, 1, 0, eq_rowsum, 0 },
	{ "einsum_private", FT_OP_EINSUM, 2, { P(2, 3, 4), P(2, 4, 5) }, 1, 0, eq_private, 0 },
	{ "einsum_dot", FT_OP_EINSUM, 2, { P(1, 5), P(1, 5) }, 1, 0, eq_dot, 0 },
	{ "einsum_outer", FT_OP_EINSUM, 2, { P(1, 3), P(1, 4) }, 1, 0, eq_outer, 0 },
	{ "einsum_chain", FT_OP_EINSUM, 3, { P(2, 3, 4), P(2, 4, 5), P(2, 5, 2) }, 1, 0, eq_chain, 0 },
	{ "einsum_implicit", FT_OP_EINSUM, 2, { P(2, 3, 4), P(2, 4, 5) }, 1, 0, eq_implicit, 0 },
	{ "einsum_ellipsis_lead", FT_OP_EINSUM, 2, { P(3, 2, 3, 4), P(2, 4, 5) }, 1, 0, eq_ell_lead, 0 },
	{ "einsum_ellipsis_broadcast", FT_OP_EINSUM, 2, { P(3, 1, 3, 4), P(3, 2, 4, 5) }, 1, 0, eq_ell_bcast, 0 },
	{ "einsum_ellipsis_fewer", FT_OP_EINSUM, 2, { P(2, 3, 4), P(3, 2, 4, 5) }, 1, 0, eq_ell_bcast, 0 },
	{ "einsum_ellipsis_middle", FT_OP_EINSUM, 2, { P(3, 2, 3, 4), P(1, 4) }, 1, 0, eq_ell_mid, 0 },
	{ "einsum_maxvit_qk", FT_OP_EINSUM, 2, { P(5, 2, 2, 2, 3, 4), P(5, 2, 2, 2, 5, 4) }, 1, 0, eq_maxvit_qk, 0 },
	{ "einsum_maxvit_pv", FT_OP_EINSUM, 2, { P(5, 2, 2, 2, 3, 5), P(5, 2, 2, 2, 5, 4) }, 1, 0, eq_maxvit_pv, 0 },
	/* private letters next to an ellipsis (the row sum with batch axes; both operands' own letters),
	   everything summed, upper case in the implicit output (it comes first), a scalar operand, and
	   an ellipsis of no axes that the output drops */
	{ "einsum_ellipsis_rowsum", FT_OP_EINSUM, 1, { P(3, 2, 3, 4) }, 1, 0, eq_ell_rowsum, 0 },
	{ "einsum_ellipsis_private_both", FT_OP_EINSUM, 2, { P(3, 2, 3, 4), P(1, 5) }, 1, 0, eq_ell_private_both, 0 },
	{ "einsum_full_sum", FT_OP_EINSUM, 1, { P(2, 3, 4) }, 1, 0, eq_full_sum, 0 },
	{ "einsum_implicit_upper", FT_OP_EINSUM, 2, { P(2, 3, 4), P(2, 4, 5) }, 1, 0, eq_implicit_upper, 0 },
	{ "einsum_scalar_operand", FT_OP_EINSUM, 2, { P(1, 4), P(0, 0) }, 1, 0, eq_scalar, 0 },
	{ "einsum_ellipsis_empty", FT_OP_EINSUM, 1, { P(2, 3, 4) }, 1, 0, eq_ell_summed, 0 },
};
const int gc_n_matmul = (int)FT_ARRAY_LEN(gc_cases_matmul);

/* Einsum gradients not written: refused with the node's name and the reason */
const gc_refusal gc_refusals_matmul[] = {
	{ { "einsum_refused_diagonal", FT_OP_EINSUM, 1, { P(2, 3, 3) }, 1, 0, eq_diag, 0 }, "its letter 'i' repeats" },
	{ { "einsum_refused_ellipsis_summed", FT_OP_EINSUM, 1, { P(3, 2, 3, 4) }, 1, 0, eq_ell_summed, 0 },
	  "the output sums its ellipsis away" },
	{ { "einsum_refused_ellipsis_fewer_middle", FT_OP_EINSUM, 2, { P(2, 2, 3), P(2, 4, 3) }, 1, 0, eq_ell_fewer_middle,
	    0 }, "is not at the front of its term" },
};
const int gc_n_refusals_matmul = (int)FT_ARRAY_LEN(gc_refusals_matmul);
