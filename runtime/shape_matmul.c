/*
 * shape_matmul.c - shape inference for MatMul and Gemm.
 *
 * MatMul follows numpy.matmul: a 1-D operand is promoted to a matrix (A to
 * (1,K), B to (K,1)) and the promoted dim is removed from the result; the
 * dims before the last two are batch dims and broadcast against each other.
 * Gemm is the plain 2-D product Y = alpha * op(A) op(B) + beta * C, with C
 * broadcast to (M,N). MATMUL_T (gradients) is MatMul with the last two axes
 * of A and/or B transposed and a scale alpha; its operands have rank >= 2.
 */
#include "ir.h"

#include <stdio.h>

/* dtypes the CPU reference kernels compute in */
static bool matmul_dtype_ok(ft_dtype t)
{
	return t == FT_F32 || t == FT_F64 || t == FT_F16 || t == FT_BF16 || t == FT_I32 || t == FT_I64;
}

static ft_status check_dtypes(ft_graph *g, ft_node *n, const ft_tensor *a, const ft_tensor *b)
{
	if (a->dtype != b->dtype)
		return ft_node_error(g, n, FT_EBADINPUT, "A is %s but B is %s", ft_dtype_name(a->dtype),
				     ft_dtype_name(b->dtype));
	if (!matmul_dtype_ok(a->dtype))
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(a->dtype));
	return FT_OK;
}

/*
 * y = op(A) op(B), numpy.matmul style; ta/tb read the last two axes of A/B
 * transposed (MATMUL_T, where both operands have rank >= 2).
 */
static ft_status infer_product(ft_graph *g, ft_node *n, bool ta, bool tb)
{
	const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1);
	char sa[128], sb[128];

	FT_TRY(check_dtypes(g, n, a, b));
	int min_rank = ta || tb ? 2 : 1;
	if (a->rank < min_rank || b->rank < min_rank)
		return ft_node_error(g, n, FT_EBADINPUT, "operands must have rank >= %d, got A %s and B %s", min_rank,
				     ft_shape_str(a, sa, sizeof(sa)), ft_shape_str(b, sb, sizeof(sb)));

	// op(A) is (...,M,K) or (K); op(B) is (...,K,N) or (K)
	int64_t ka = a->dims[a->rank - (ta ? 2 : 1)];
	int64_t kb = b->rank >= 2 ? b->dims[b->rank - (tb ? 1 : 2)] : b->dims[0];
	if (ka != kb)
		return ft_node_error(g, n, FT_EBADINPUT,
				     "inner dims differ: A %s%s has K=%lld, B %s%s has K=%lld",
				     ft_shape_str(a, sa, sizeof(sa)), ta ? " (transposed)" : "", (long long)ka,
				     ft_shape_str(b, sb, sizeof(sb)), tb ? " (transposed)" : "", (long long)kb);

	// batch dims broadcast numpy-style, right-aligned
	int abr = a->rank > 2 ? a->rank - 2 : 0, bbr = b->rank > 2 ? b->rank - 2 : 0;
	int br = abr > bbr ? abr : bbr;
	int64_t dims[FT_MAX_RANK + 2];
	for (int d = 0; d < br; d++) {
		int64_t x = d - (br - abr) >= 0 ? a->dims[d - (br - abr)] : 1;
		int64_t y = d - (br - bbr) >= 0 ? b->dims[d - (br - bbr)] : 1;
		if (x != y && x != 1 && y != 1)
			return ft_node_error(g, n, FT_EBADINPUT, "batch dims of A %s and B %s do not broadcast",
					     ft_shape_str(a, sa, sizeof(sa)), ft_shape_str(b, sb, sizeof(sb)));
		dims[d] = x == 1 ? y : x;
	}
	int rank = br;
	if (a->rank >= 2)
		dims[rank++] = a->dims[a->rank - (ta ? 1 : 2)];
	if (b->rank >= 2)
		dims[rank++] = b->dims[b->rank - (tb ? 2 : 1)];
	return ft_set_out(g, n, 0, a->dtype, rank, dims);
}

ft_status ft_infer_matmul(ft_graph *g, ft_node *n)
{
	return infer_product(g, n, false, false);
}

/* MATMUL_T: y = alpha * op(A) op(B), attributes transA, transB (0/1), alpha (default 1) */
ft_status ft_infer_matmul_t(ft_graph *g, ft_node *n)
{
	return infer_product(g, n, ft_attr_int(n, "transA", 0) != 0, ft_attr_int(n, "transB", 0) != 0);
}

ft_status ft_infer_gemm(ft_graph *g, ft_node *n)
{
	const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1), *c = ft_in(g, n, 2);
	char sa[128], sb[128];

	FT_TRY(check_dtypes(g, n, a, b));
	if (a->rank != 2 || b->rank != 2)
		return ft_node_error(g, n, FT_EBADINPUT, "A and B must be 2-D, got A %s and B %s",
				     ft_shape_str(a, sa, sizeof(sa)), ft_shape_str(b, sb, sizeof(sb)));
	bool ta = ft_attr_int(n, "transA", 0) != 0, tb = ft_attr_int(n, "transB", 0) != 0;

	// op(A) is (M,K), op(B) is (K,N)
	int64_t m = ta ? a->dims[1] : a->dims[0], ka = ta ? a->dims[0] : a->dims[1];
	int64_t kb = tb ? b->dims[1] : b->dims[0], nn = tb ? b->dims[0] : b->dims[1];
	if (ka != kb)
		return ft_node_error(g, n, FT_EBADINPUT,
				     "inner dims differ: A %s (transA=%d) has K=%lld, B %s (transB=%d) has K=%lld",
				     ft_shape_str(a, sa, sizeof(sa)), ta, (long long)ka, ft_shape_str(b, sb, sizeof(sb)),
				     tb, (long long)kb);
	if (c) {
		// C broadcasts unidirectionally to (M,N)
		if (c->dtype != a->dtype)
			return ft_node_error(g, n, FT_EBADINPUT, "C is %s but A is %s", ft_dtype_name(c->dtype),
					     ft_dtype_name(a->dtype));
		const int64_t want[2] = {m, nn};
		bool ok = c->rank <= 2;
		for (int d = 0; ok && d < c->rank; d++) {
			int64_t x = c->dims[d], y = want[2 - c->rank + d];
			ok = x == y || x == 1;
		}
		if (!ok)
			return ft_node_error(g, n, FT_EBADINPUT, "C %s does not broadcast to the output (%lld,%lld)",
					     ft_shape_str(c, sa, sizeof(sa)), (long long)m, (long long)nn);
	}
	const int64_t dims[2] = {m, nn};
	return ft_set_out(g, n, 0, a->dtype, 2, dims);
}
