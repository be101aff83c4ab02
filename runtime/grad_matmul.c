/*
 * grad_matmul.c - gradient rules of MatMul and Gemm.
 *
 * Both are products again: for y = op(A) op(B), dA and dB are products of dy
 * with the other operand, one of them transposed, which MATMUL_T computes
 * without materialising a transpose (sgemm's trans flags). MATMUL_T also
 * carries Gemm's alpha as an attribute, folded into sgemm's alpha for free;
 * Gemm's beta scales C's gradient by a Mul with a constant.
 *
 * MatMul broadcasts batch dims and promotes 1-D operands: the rule promotes
 * the operands and dy the same way (A (K) -> (1,K), B (K) -> (K,1)), takes
 * the product in the promoted shapes, sums over the batch dims an operand
 * was broadcast along (ft_ad_reduce_to) and reshapes back.
 *
 * Rules copy the forward node and read tensors by id: emitting nodes and
 * tensors moves g->nodes and g->tensors.
 */
#include "grad.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "einsum.h"

/* out = Reshape(t, dims) */
static ft_status reshape(ft_autodiff *ad, int t, int rank, const int64_t *dims, int *out)
{
	int in[2] = { t, ft_ad_const_i64(ad, dims, rank) };
	return ft_ad_emit(ad, FT_OP_RESHAPE, 2, in, out);
}

/* out = alpha * op(a) op(b), op transposing the last two axes where ta/tb */
static ft_status matmul_t(ft_autodiff *ad, int a, int b, bool ta, bool tb, float alpha, int *out)
{
	int in[2] = { a, b };
	ft_node *n = ft_ad_begin(ad, FT_OP_MATMUL_T, 2, in, 1);
	if (ta)
		ft_node_set_int(ad->g, n, "transA", 1);
	if (tb)
		ft_node_set_int(ad->g, n, "transB", 1);
	if (alpha != 1.0f)
		ft_node_set_float(ad->g, n, "alpha", alpha);
	return ft_ad_end(ad, n, out);
}

/* out = t * s */
static ft_status scale(ft_autodiff *ad, int t, float s, int *out)
{
	if (s == 1.0f) {
		*out = t;
		return FT_OK;
	}
	int in[2] = { t, ft_ad_const_f32(ad, s) };
	return ft_ad_emit(ad, FT_OP_MUL, 2, in, out);
}

/* adds g, summed over broadcast dims down to target2 and reshaped to x, to x's gradient */
static ft_status add_reduced(ft_autodiff *ad, int x, int target2, int g)
{
	int r, dx;
	FT_TRY(ft_ad_reduce_to(ad, g, target2, &r));
	FT_TRY(ft_ad_reshape_to(ad, r, x, &dx));
	return ft_ad_add_grad(ad, x, dx);
}

/* y = A B: dA = dy B^T, dB = A^T dy, in the promoted shapes, then back to A's and B's */
ft_status ft_grad_matmul(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int a = fwd.in[0], b = fwd.in[1], dy = ft_ad_grad(ad, fwd.out[0]);
	bool need_a = ft_ad_requires(ad, a), need_b = ft_ad_requires(ad, b);

	if (dy < 0 || (!need_a && !need_b))
		return FT_OK;
	ft_tensor ta = g->tensors[a], tb = g->tensors[b], ty = g->tensors[dy];
	int64_t m = ta.rank >= 2 ? ta.dims[ta.rank - 2] : 1, k = ta.dims[ta.rank - 1];
	int64_t n = tb.rank >= 2 ? tb.dims[tb.rank - 1] : 1;

	// A (K) -> (1,K) and B (K) -> (K,1); dy (batch...,[M],[N]) -> (batch...,M,N)
	int a2 = a, b2 = b, dy2 = dy;
	if (ta.rank == 1)
		FT_TRY(reshape(ad, a, 2, (const int64_t[]){ 1, k }, &a2));
	if (tb.rank == 1)
		FT_TRY(reshape(ad, b, 2, (const int64_t[]){ k, 1 }, &b2));
	if (ta.rank == 1 || tb.rank == 1) {
		int64_t dims[FT_MAX_RANK];
		int ybr = ty.rank - (ta.rank >= 2) - (tb.rank >= 2);
		memcpy(dims, ty.dims, sizeof(int64_t) * (size_t)ybr);
		dims[ybr] = m;
		dims[ybr + 1] = n;
		FT_TRY(reshape(ad, dy, ybr + 2, dims, &dy2));
	}
	int a2_rank = ta.rank > 2 ? ta.rank : 2, b2_rank = tb.rank > 2 ? tb.rank : 2;

	if (need_a) {
		// dA (batch...,M,K) = dy (batch...,M,N) x B^T (batch...,N,K)
		int da;
		FT_TRY(matmul_t(ad, dy2, b2, false, true, 1.0f, &da));
		FT_TRY(add_reduced(ad, a, a2, da));
	}
	if (need_b) {
		int db;
		if (b2_rank == 2 && a2_rank > 2) {
			// a Linear layer: B is shared by every batch matrix, so its gradient is one product
			// over all rows, dB (K,N) = A^T (K,rows) x dy (rows,N), with no (batch,K,N) partials
			int af, dyf;
			int64_t rows = ta.numel / (k ? k : 1);
			FT_TRY(reshape(ad, a2, 2, (const int64_t[]){ rows, k }, &af));
			FT_TRY(reshape(ad, dy2, 2, (const int64_t[]){ rows, n }, &dyf));
			FT_TRY(matmul_t(ad, af, dyf, true, false, 1.0f, &db));
		} else {
			// dB (batch...,K,N) = A^T (batch...,K,M) x dy (batch...,M,N)
			FT_TRY(matmul_t(ad, a2, dy2, true, false, 1.0f, &db));
		}
		FT_TRY(add_reduced(ad, b, b2, db));
	}
	return FT_OK;
}

/*
 * y = alpha op(A) op(B) + beta C, op(A) (M,K), op(B) (K,N):
 *   d op(A) = alpha dy op(B)^T, so dA = alpha dy op(B)^T, or its transpose op(B) dy^T with transA;
 *   d op(B) = alpha op(A)^T dy, so dB = alpha op(A)^T dy, or its transpose dy^T op(A) with transB;
 *   dC = beta * dy summed down to C's shape.
 * Each is one MATMUL_T whose flags say which operands to read transposed.
 */
ft_status ft_grad_gemm(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int a = fwd.in[0], b = fwd.in[1], c = fwd.n_in > 2 ? fwd.in[2] : -1, dy = ft_ad_grad(ad, fwd.out[0]);
	bool ta = ft_attr_int(&fwd, "transA", 0) != 0, tb = ft_attr_int(&fwd, "transB", 0) != 0;
	float alpha = ft_attr_float(&fwd, "alpha", 1.0f), beta = ft_attr_float(&fwd, "beta", 1.0f);

	if (dy < 0)
		return FT_OK;
	if (ft_ad_requires(ad, a)) {
		int da;
		if (!ta) // dA (M,K) = dy (M,N) x op(B)^T (N,K)
			FT_TRY(matmul_t(ad, dy, b, false, !tb, alpha, &da));
		else // dA (K,M) = op(B) (K,N) x dy^T (N,M)
			FT_TRY(matmul_t(ad, b, dy, tb, true, alpha, &da));
		FT_TRY(ft_ad_add_grad(ad, a, da));
	}
	if (ft_ad_requires(ad, b)) {
		int db;
		if (!tb) // dB (K,N) = op(A)^T (K,M) x dy (M,N)
			FT_TRY(matmul_t(ad, a, dy, !ta, false, alpha, &db));
		else // dB (N,K) = dy^T (N,M) x op(A) (M,K)
			FT_TRY(matmul_t(ad, dy, a, true, ta, alpha, &db));
		FT_TRY(ft_ad_add_grad(ad, b, db));
	}
	if (c >= 0 && ft_ad_requires(ad, c)) {
		int r, dc;
		FT_TRY(ft_ad_reduce_to(ad, dy, c, &r));
		FT_TRY(scale(ad, r, beta, &dc));
		FT_TRY(ft_ad_add_grad(ad, c, dc));
	}
	return FT_OK;
}

/* ---- Einsum ------------------------------------------------------------- */

/*
 * Y = Einsum(X_1..X_n): dX_k is the Einsum of dY and the other operands into
 * X_k's letters, "out,t_1,..,t_n->t_k" with t_k itself left out. A letter only
 * X_k has (an axis only it sums over) is left out of that Einsum and given
 * back as an axis of 1; then the result is summed down to X_k's shape where
 * X_k's ellipsis axes were broadcast (1, or fewer axes at the front) and
 * broadcast back along the private letters. Refused with the node's name, not
 * written: a letter repeated in X_k (a diagonal); an ellipsis of X_k that the
 * output sums away, or that has fewer axes than the others' anywhere but at
 * the front of t_k.
 */
ft_status ft_grad_einsum(ft_autodiff *ad, int i)
{
	ft_graph *g = ad->g;
	ft_node fwd = g->nodes[i];
	int dy = ft_ad_grad(ad, fwd.out[0]);
	if (dy < 0)
		return FT_OK;
	const char *eq0 = ft_attr_string(&fwd, "equation", "");
	char eq[512], implied[512], *term[FT_EINSUM_MAX_INPUTS];
	const char *rhs;
	int n_terms = ft_einsum_split(eq0, eq, implied, sizeof(eq), term, &rhs);
	FT_ASSERT(n_terms == fwd.n_in); /* (resolved when the node's shape was inferred) */
	int letters[FT_EINSUM_MAX_INPUTS], ell_rank = 0;
	for (int k = 0; k < n_terms; k++) {
		letters[k] = 0;
		for (const char *p = term[k]; *p; p++)
			letters[k] += isalpha((unsigned char)*p) != 0;
		int er = g->tensors[fwd.in[k]].rank - letters[k];
		ell_rank = er > ell_rank ? er : ell_rank;
	}
	for (int k = 0; k < n_terms; k++) {
		int x = fwd.in[k];
		if (!ft_ad_requires(ad, x))
			continue;
		const ft_tensor xt = g->tensors[x];
		const char *t = term[k];
		int er = xt.rank - letters[k];      /* X_k's ellipsis axes (0: as if it had none) */
		bool ell = strstr(t, "...") && er > 0;
		if (ell && !strstr(rhs, "..."))
			return ft_node_error(g, &fwd, FT_EUNSUPPORTED,
					     "no gradient for operand %d of \"%s\": the output sums its ellipsis away", k, eq0);
		if (ell && er < ell_rank && strncmp(t, "...", 3) != 0)
			return ft_node_error(g, &fwd, FT_EUNSUPPORTED,
					     "no gradient for operand %d of \"%s\": its ellipsis has fewer axes than another's "
					     "and is not at the front of its term", k, eq0);
		if ((ell ? ell_rank : 0) + letters[k] > FT_MAX_RANK)
			return ft_node_error(g, &fwd, FT_EUNSUPPORTED,
					     "no gradient for operand %d of \"%s\": it would have more than %d axes", k, eq0,
					     FT_MAX_RANK);
		char kept[64];
		size_t nk = 0;
		int64_t shape1[FT_MAX_RANK]; /* X_k's shape with 1 along its private letters */
		int axis = 0, n_private = 0;
		for (const char *p = t; *p; p++) {
			if (*p == '.') {
				p += 2;
				for (int j = 0; j < er; j++, axis++)
					shape1[axis] = xt.dims[axis];
				if (ell)
					nk += (size_t)snprintf(kept + nk, sizeof(kept) - nk, "...");
				continue;
			}
			if (strchr(p + 1, *p) || memchr(t, *p, (size_t)(p - t)))
				return ft_node_error(g, &fwd, FT_EUNSUPPORTED,
						     "no gradient for operand %d of \"%s\": its letter '%c' repeats (a diagonal)",
						     k, eq0, *p);
			bool private = !strchr(rhs, *p);
			for (int j = 0; j < n_terms && private; j++)
				private = j == k || !strchr(term[j], *p);
			shape1[axis] = private ? 1 : xt.dims[axis];
			axis++;
			if (private)
				n_private++;
			else
				kept[nk++] = *p;
		}
		kept[nk] = 0;
		char geq[512];
		int gl = snprintf(geq, sizeof(geq), "%s", rhs);
		int in[FT_EINSUM_MAX_INPUTS], n_in = 0;
		in[n_in++] = dy;
		for (int j = 0; j < n_terms; j++)
			if (j != k) {
				gl += snprintf(geq + gl, sizeof(geq) - (size_t)gl, ",%s", term[j]);
				in[n_in++] = fwd.in[j];
			}
		snprintf(geq + gl, sizeof(geq) - (size_t)gl, "->%s", kept);
		ft_node *n = ft_ad_begin(ad, FT_OP_EINSUM, n_in, in, 1);
		ft_node_set_string(g, n, "equation", geq);
		int dx;
		FT_TRY(ft_ad_end(ad, n, &dx));
		if (n_private) { /* the private letters back as axes of 1, summed down, then broadcast along them */
			const ft_tensor *d = &g->tensors[dx];
			int64_t full[FT_MAX_RANK]; /* the Einsum's shape with those 1s put in, in t_k's order */
			int n_full = 0, src = 0;
			for (const char *p = t; *p; p++) {
				if (*p == '.') {
					p += 2;
					for (int j = 0; ell && j < ell_rank; j++)
						full[n_full++] = d->dims[src++];
				} else {
					full[n_full++] = strchr(kept, *p) ? d->dims[src++] : 1;
				}
			}
			FT_ASSERT(src == d->rank);
			FT_TRY(reshape(ad, dx, n_full, full, &dx));
			ft_node *r = ft_ad_begin(ad, FT_OP_REDUCE_SUM_TO, 1, &dx, 1);
			ft_node_set_ints(g, r, "shape", shape1, xt.rank);
			FT_TRY(ft_ad_end(ad, r, &dx));
			int e_in[2] = { dx, ft_ad_const_i64(ad, xt.dims, xt.rank) };
			FT_TRY(ft_ad_emit(ad, FT_OP_EXPAND, 2, e_in, &dx));
		} else {
			FT_TRY(ft_ad_reduce_to(ad, dx, x, &dx));
		}
		FT_TRY(ft_ad_add_grad(ad, x, dx));
	}
	return FT_OK;
}
