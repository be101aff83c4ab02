/* einsum.c - parsing and shape inference of Einsum (see einsum.h). */
#include "einsum.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

ft_status ft_import_einsum(ft_graph *g, ft_node *n)
{
	const char *eq = ft_attr_string(n, "equation", NULL);
	if (!eq || !eq[0])
		return ft_node_error(g, n, FT_EBADINPUT, "has no equation attribute");
	return FT_OK;
}

/* letter id of c (0..51), -1 if not a letter */
static int letter_id(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return 26 + (c - 'A');
	return -1;
}

int ft_einsum_split(const char *eq, char *buf, char *implied, size_t cap, char **terms, const char **out)
{
	size_t len = 0;
	for (const char *p = eq; *p && len + 1 < cap; p++)
		if (!isspace((unsigned char)*p))
			buf[len++] = *p;
	buf[len] = 0;
	char *arrow = strstr(buf, "->");
	if (arrow)
		*arrow = 0;
	int n_terms = 0, count[256] = { 0 };
	bool ell = false;
	for (char *t = buf, *next; t; t = next) {
		next = strchr(t, ',');
		if (next)
			*next++ = 0;
		if (n_terms == FT_EINSUM_MAX_INPUTS)
			return -1;
		terms[n_terms++] = t;
		ell |= strstr(t, "...") != NULL;
		for (const char *p = t; *p; p++)
			count[(unsigned char)*p]++;
	}
	if (arrow) {
		*out = arrow + 2;
		return n_terms;
	}
	size_t k = (size_t)snprintf(implied, cap, "%s", ell ? "..." : "");
	for (int c = 'A'; c <= 'z' && k + 1 < cap; c++) /* ASCII order: upper case first */
		if (letter_id((char)c) >= 0 && count[c] == 1)
			implied[k++] = (char)c;
	implied[k] = 0;
	*out = implied;
	return n_terms;
}

ft_status ft_einsum_resolve(const ft_graph *g, const ft_node *n, ft_einsum *e)
{
	const char *eq = ft_attr_string(n, "equation", "");
	char buf[512], implied[512];
	memset(e, 0, sizeof(*e));
	e->n_in = n->n_in;
	if (n->n_in > FT_EINSUM_MAX_INPUTS)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "more than %d operands", FT_EINSUM_MAX_INPUTS);
	char *terms[FT_EINSUM_MAX_INPUTS];
	const char *out;
	int n_terms = ft_einsum_split(eq, buf, implied, sizeof(buf), terms, &out);
	if (n_terms < 0)
		return ft_node_error(g, n, FT_EBADINPUT, "equation \"%s\" has more terms than inputs", eq);
	/* the ellipsis rank: the largest input rank minus its letters */
	int map[52];
	for (int i = 0; i < 52; i++)
		map[i] = -1;
	int ell_rank = 0;
	if (n_terms != n->n_in)
		return ft_node_error(g, n, FT_EBADINPUT, "equation \"%s\" has %d terms for %d inputs", eq, n_terms,
				     n->n_in);
	for (int k = 0; k < n_terms; k++) {
		const ft_tensor *x = ft_in(g, n, k);
		int letters = 0;
		bool ell = false;
		for (const char *p = terms[k]; *p; p++) {
			if (p[0] == '.' && p[1] == '.' && p[2] == '.') {
				if (ell)
					return ft_node_error(g, n, FT_EBADINPUT, "two ellipses in one term of \"%s\"", eq);
				ell = true;
				p += 2;
			} else if (letter_id(*p) < 0) {
				return ft_node_error(g, n, FT_EBADINPUT, "equation \"%s\": unexpected '%c'", eq, *p);
			} else {
				letters++;
			}
		}
		int er = x->rank - letters;
		if (er < 0 || (!ell && er != 0))
			return ft_node_error(g, n, FT_EBADINPUT, "term %d of \"%s\" has %d letters for an input of rank %d", k,
					     eq, letters, x->rank);
		if (er > ell_rank)
			ell_rank = er;
	}
	e->n_letters = ell_rank;
	for (int i = 0; i < ell_rank; i++)
		e->extent[i] = 1;
	for (int k = 0; k < n_terms; k++) {
		const ft_tensor *x = ft_in(g, n, k);
		int axis = 0;
		int er = x->rank;
		for (const char *p = terms[k]; *p; p++)
			if (letter_id(*p) >= 0)
				er--;
		e->rank_in[k] = x->rank;
		for (const char *p = terms[k]; *p; p++) {
			if (*p == '.') {
				p += 2;
				for (int j = 0; j < er; j++, axis++) { /* right-aligned broadcast */
					int l = ell_rank - er + j;
					int64_t d = x->dims[axis];
					if (d != 1 && e->extent[l] != 1 && e->extent[l] != d)
						return ft_node_error(g, n, FT_EBADINPUT, "ellipsis axes of \"%s\" do not broadcast", eq);
					if (d != 1)
						e->extent[l] = d;
					e->in_letter[k][axis] = (int8_t)l;
				}
				continue;
			}
			int id = letter_id(*p);
			if (map[id] < 0) {
				if (e->n_letters == FT_EINSUM_MAX_LETTERS)
					return ft_node_error(g, n, FT_EUNSUPPORTED, "more than %d axes in \"%s\"",
							     FT_EINSUM_MAX_LETTERS, eq);
				map[id] = e->n_letters++;
				e->extent[map[id]] = x->dims[axis];
			} else if (e->extent[map[id]] != x->dims[axis]) {
				char b[128];
				return ft_node_error(g, n, FT_EBADINPUT, "'%c' is %lld and %lld in \"%s\" (input %d is %s)", *p,
						     (long long)e->extent[map[id]], (long long)x->dims[axis], eq, k,
						     ft_shape_str(x, b, sizeof(b)));
			}
			e->in_letter[k][axis++] = (int8_t)map[id];
		}
	}
	const char *p = out;
	bool out_ell = false, out_seen[FT_EINSUM_MAX_LETTERS] = { false };
	for (; *p; p++) {
		if (p[0] == '.' && p[1] == '.' && p[2] == '.') {
			if (out_ell)
				return ft_node_error(g, n, FT_EBADINPUT, "two ellipses in the output of \"%s\"", eq);
			if (e->rank_out + ell_rank > FT_MAX_RANK)
				return ft_node_error(g, n, FT_EUNSUPPORTED, "output rank above %d", FT_MAX_RANK);
			out_ell = true;
			for (int l = 0; l < ell_rank; l++)
				e->out_letter[e->rank_out++] = (int8_t)l;
			p += 2;
			continue;
		}
		int id = letter_id(*p);
		if (id < 0 || map[id] < 0)
			return ft_node_error(g, n, FT_EBADINPUT, "output letter '%c' of \"%s\" is not in any input", *p,
					     eq);
		if (out_seen[map[id]])
			return ft_node_error(g, n, FT_EBADINPUT, "output letter '%c' of \"%s\" appears twice", *p, eq);
		out_seen[map[id]] = true;
		if (e->rank_out == FT_MAX_RANK)
			return ft_node_error(g, n, FT_EUNSUPPORTED, "output rank above %d", FT_MAX_RANK);
		e->out_letter[e->rank_out++] = (int8_t)map[id];
	}
	return FT_OK;
}

ft_status ft_infer_einsum(ft_graph *g, ft_node *n)
{
	ft_einsum e;
	FT_TRY(ft_einsum_resolve(g, n, &e));
	const ft_tensor *x = ft_in(g, n, 0);
	for (int k = 1; k < n->n_in; k++)
		if (ft_in(g, n, k)->dtype != x->dtype)
			return ft_node_error(g, n, FT_EBADINPUT, "inputs have different dtypes");
	if (x->dtype != FT_F32 && x->dtype != FT_F64)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	int64_t dims[FT_MAX_RANK];
	for (int i = 0; i < e.rank_out; i++)
		dims[i] = e.extent[e.out_letter[i]];
	return ft_set_out(g, n, 0, x->dtype, e.rank_out, dims);
}
