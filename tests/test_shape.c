/*
 * test_shape.c - the data movement kernels against naive loops written here
 * independently, on random shapes, permutations, slices and pads of every
 * element size; and the index checks that only run at run time (Gather and
 * ScatterND with indices that are not constants).
 *
 * Every output buffer has sentinel bytes after its end: a kernel that writes
 * past its output fails. Data movement is exact, so outputs must match
 * byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amp.h"
#include "exec.h"
#include "ir.h"
#include "cpu/util.h"

#define SENTINEL 64

static int failures;
static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int64_t irand(int64_t lo, int64_t hi) /* in [lo, hi] */
{
	return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1));
}

static const ft_dtype dtypes[] = { FT_U8, FT_F16, FT_F32, FT_F64, FT_BOOL, FT_I64 };

/* a tensor with data; kind CONST makes it a constant input (shape, axes...) */
static int new_tensor(ft_graph *g, const char *name, ft_dtype dt, int rank, const int64_t *dims, bool is_const)
{
	int id = ft_graph_new_tensor(g, name);
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, dt, rank, dims);
	size_t bytes = ft_tensor_bytes(t);
	t->data = ft_graph_own(g, ft_aligned_alloc(bytes + SENTINEL));
	unsigned char *p = t->data;
	for (size_t i = 0; i < bytes; i++)
		p[i] = dt == FT_BOOL ? (unsigned char)(next() & 1) : (unsigned char)next();
	t->kind = is_const ? FT_TK_CONST : FT_TK_INPUT;
	return id;
}

static int new_ints(ft_graph *g, const char *name, int count, const int64_t *v)
{
	int64_t d = count;
	int id = new_tensor(g, name, FT_I64, 1, &d, true);
	memcpy(g->tensors[id].data, v, sizeof(int64_t) * (size_t)count);
	return id;
}

static ft_node *new_node(ft_graph *g, ft_op op, int n_in, const int *in, int n_out)
{
	ft_node *n = ft_graph_add_node(g, op, ft_op_table[op].name, n_in, n_out);
	for (int i = 0; i < n_in; i++)
		n->in[i] = in[i];
	for (int i = 0; i < n_out; i++) {
		char name[32];
		snprintf(name, sizeof(name), "y%d", i);
		n->out[i] = ft_graph_new_tensor(g, name);
	}
	return n;
}

/* infers and runs n; allocates outputs with sentinels. Returns the status. */
static ft_status run(ft_graph *g, ft_node *n)
{
	ft_status st = ft_op_table[n->op].infer(g, n);
	if (st != FT_OK)
		return st;
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *y = ft_out(g, n, i);
		size_t bytes = ft_tensor_bytes(y);
		y->data = ft_graph_own(g, ft_aligned_alloc(bytes + SENTINEL));
		memset(y->data, 0xa5, bytes + SENTINEL);
	}
	return ft_op_table[n->op].cpu(g, n);
}

static bool sentinels_ok(const ft_tensor *y)
{
	const unsigned char *p = (const unsigned char *)y->data + ft_tensor_bytes(y);
	for (int i = 0; i < SENTINEL; i++)
		if (p[i] != 0xa5)
			return false;
	return true;
}

static void check(bool ok, const char *what, const char *fmt_case, int k)
{
	if (!ok) {
		failures++;
		fprintf(stderr, "FAIL %s (case %d): %s\n", what, k, fmt_case);
	}
}

/* row-major offset of multi-index idx in dims */
static int64_t offset(int rank, const int64_t *dims, const int64_t *idx)
{
	int64_t o = 0;
	for (int i = 0; i < rank; i++)
		o = o * dims[i] + idx[i];
	return o;
}

/* steps idx through dims in row-major order; false after the last */
static bool step_index(int rank, const int64_t *dims, int64_t *idx)
{
	for (int i = rank - 1; i >= 0; i--) {
		if (++idx[i] < dims[i])
			return true;
		idx[i] = 0;
	}
	return false;
}

static void random_dims(int rank, int64_t *dims, int64_t max)
{
	for (int i = 0; i < rank; i++)
		dims[i] = irand(1, max);
}

/* ---- Transpose ---- */

static void test_transpose(int k, int rank, const int64_t *dims, const int *perm, ft_dtype dt)
{
	ft_graph *g = ft_graph_new("test_transpose");
	int x = new_tensor(g, "x", dt, rank, dims, false);
	ft_node *n = new_node(g, FT_OP_TRANSPOSE, 1, &x, 1);
	int64_t p64[FT_MAX_RANK];
	for (int i = 0; i < rank; i++)
		p64[i] = perm[i];
	ft_node_set_ints(g, n, "perm", p64, rank);
	ft_status st = run(g, n);
	check(st == FT_OK, "transpose runs", ft_last_error(), k);
	if (st == FT_OK) {
		const ft_tensor *xt = &g->tensors[x], *y = ft_out(g, n, 0);
		size_t es = ft_dtype_size(dt);
		int64_t idx[FT_MAX_RANK] = { 0 }, xi[FT_MAX_RANK];
		bool ok = true;
		if (y->numel > 0) {
			do {
				for (int i = 0; i < rank; i++)
					xi[perm[i]] = idx[i];
				ok = ok && memcmp((char *)y->data + offset(rank, y->dims, idx) * (int64_t)es,
						  (char *)xt->data + offset(rank, xt->dims, xi) * (int64_t)es, es) == 0;
			} while (step_index(rank, y->dims, idx));
		}
		char buf[160];
		check(ok && sentinels_ok(y), "transpose matches the naive loop", ft_shape_str(xt, buf, sizeof(buf)), k);
	}
	ft_graph_free(g);
}

static void random_perm(int rank, int *perm)
{
	for (int i = 0; i < rank; i++)
		perm[i] = i;
	for (int i = rank - 1; i > 0; i--) {
		int j = (int)irand(0, i), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

static void transposes(void)
{
	int perm[FT_MAX_RANK];
	int64_t dims[FT_MAX_RANK];
	for (int k = 0; k < 300; k++) {
		int rank = (int)irand(1, 6);
		random_dims(rank, dims, 7);
		if (k % 17 == 0)
			dims[irand(0, rank - 1)] = 0;
		random_perm(rank, perm);
		test_transpose(k, rank, dims, perm, dtypes[k % FT_ARRAY_LEN(dtypes)]);
	}
	/* big enough for the tiles and the threads: NCHW <-> NHWC, ViT's qkv split, 2-D */
	for (int k = 0; k < (int)FT_ARRAY_LEN(dtypes); k++) {
		test_transpose(1000 + k, 4, (int64_t[]){ 2, 67, 13, 71 }, (int[]){ 0, 2, 3, 1 }, dtypes[k]);
		test_transpose(1100 + k, 4, (int64_t[]){ 2, 13, 71, 67 }, (int[]){ 0, 3, 1, 2 }, dtypes[k]);
		test_transpose(1200 + k, 5, (int64_t[]){ 2, 17, 3, 4, 24 }, (int[]){ 2, 0, 3, 1, 4 }, dtypes[k]);
		test_transpose(1300 + k, 2, (int64_t[]){ 300, 257 }, (int[]){ 1, 0 }, dtypes[k]);
	}
}

/*
 * ---- Slice: Python's slice semantics, as CPython's PySlice_AdjustIndices
 * computes them, but for one case where the ONNX spec (and ONNX Runtime)
 * differ: a negative step from a start before the first element starts at
 * element 0 ("for negative stepping it is clamped to [0, dims-1]"), where
 * Python gives an empty slice ---- */

static int64_t onnx_slice(int64_t dim, int64_t start, int64_t stop, int64_t step, int64_t *first)
{
	*first = 0;
	if (dim == 0)
		return 0;
	if (start < 0) {
		start += dim;
		if (start < 0)
			start = 0;
	} else if (start >= dim) {
		start = step < 0 ? dim - 1 : dim;
	}
	if (stop < 0) {
		stop += dim;
		if (stop < 0)
			stop = step < 0 ? -1 : 0;
	} else if (stop >= dim) {
		stop = step < 0 ? dim - 1 : dim;
	}
	*first = start;
	int64_t len = 0;
	for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
		len++;
		if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step))
			break;
	}
	return len;
}

static int c_out(const ft_node *n)
{
	return n->out[0];
}

/* SLICE_GRAD of the slice's output: dy scattered back into zeros of x's shape */
static void slice_grad(ft_graph *g, int k, int y, const int64_t *first, const int64_t *stp)
{
	int64_t dims[FT_MAX_RANK];
	int rank = g->tensors[y].rank;
	memcpy(dims, g->tensors[g->nodes[0].in[0]].dims, sizeof(dims));
	g->tensors[y].kind = FT_TK_INPUT;
	ft_node *n = new_node(g, FT_OP_SLICE_GRAD, 1, &y, 1);
	ft_node_set_ints(g, n, "shape", dims, rank);
	ft_node_set_ints(g, n, "starts", first, rank);
	ft_node_set_ints(g, n, "steps", stp, rank);
	ft_status st = run(g, n);
	check(st == FT_OK, "slice_grad runs", ft_last_error(), k);
	if (st != FT_OK)
		return;
	const ft_tensor *dy = &g->tensors[y], *dx = ft_out(g, n, 0);
	size_t es = ft_dtype_size(dx->dtype);
	unsigned char *want = calloc((size_t)dx->numel + 1, es);
	int64_t idx[FT_MAX_RANK] = { 0 }, xi[FT_MAX_RANK];
	if (dy->numel > 0) {
		do {
			for (int i = 0; i < rank; i++)
				xi[i] = first[i] + idx[i] * stp[i];
			memcpy(want + offset(rank, dims, xi) * (int64_t)es,
			       (char *)dy->data + offset(rank, dy->dims, idx) * (int64_t)es, es);
		} while (step_index(rank, dy->dims, idx));
	}
	check(memcmp(want, dx->data, ft_tensor_bytes(dx)) == 0 && sentinels_ok(dx), "slice_grad matches", "", k);
	free(want);
}

static int64_t edge_value(void)
{
	static const int64_t v[] = { INT64_MAX, INT64_MIN, INT64_MAX - 1, -INT64_MAX, 1 << 20, -(1 << 20) };
	return v[irand(0, FT_ARRAY_LEN(v) - 1)];
}

static void slices(void)
{
	for (int k = 0; k < 400; k++) {
		int rank = (int)irand(1, 5), na = (int)irand(1, rank);
		int64_t dims[FT_MAX_RANK], starts[FT_MAX_RANK], ends[FT_MAX_RANK], axes[FT_MAX_RANK],
			steps[FT_MAX_RANK];
		int perm[FT_MAX_RANK];
		ft_dtype dt = dtypes[k % FT_ARRAY_LEN(dtypes)];
		random_dims(rank, dims, 8);
		if (k % 23 == 0)
			dims[0] = 0;
		random_perm(rank, perm);
		for (int i = 0; i < na; i++) {
			axes[i] = irand(0, 1) ? perm[i] : perm[i] - rank;
			int64_t d = dims[perm[i]];
			starts[i] = irand(0, 7) ? irand(-d - 2, d + 2) : edge_value();
			ends[i] = irand(0, 7) ? irand(-d - 2, d + 2) : edge_value();
			steps[i] = irand(0, 9) ? irand(1, 3) * (irand(0, 1) ? 1 : -1) : edge_value();
			if (steps[i] == INT64_MIN)
				steps[i] = INT64_MIN + 1; /* Python's slices cannot step by it */
		}
		ft_graph *g = ft_graph_new("test_slice");
		int in[5] = { new_tensor(g, "x", dt, rank, dims, false), new_ints(g, "starts", na, starts),
			      new_ints(g, "ends", na, ends), new_ints(g, "axes", na, axes),
			      new_ints(g, "steps", na, steps) };
		ft_node *n = new_node(g, FT_OP_SLICE, 5, in, 1);
		ft_status st = run(g, n);
		check(st == FT_OK, "slice runs", ft_last_error(), k);
		if (st == FT_OK) {
			const ft_tensor *x = &g->tensors[in[0]], *y = ft_out(g, n, 0);
			int64_t first[FT_MAX_RANK], stp[FT_MAX_RANK], want[FT_MAX_RANK];
			for (int i = 0; i < rank; i++) {
				first[i] = 0;
				stp[i] = 1;
				want[i] = dims[i];
			}
			for (int i = 0; i < na; i++) {
				int a = perm[i];
				stp[a] = steps[i];
				want[a] = onnx_slice(dims[a], starts[i], ends[i], steps[i], &first[a]);
			}
			bool ok = y->rank == rank && memcmp(y->dims, want, sizeof(int64_t) * (size_t)rank) == 0;
			size_t es = ft_dtype_size(dt);
			int64_t idx[FT_MAX_RANK] = { 0 }, xi[FT_MAX_RANK];
			if (ok && y->numel > 0) {
				do {
					for (int i = 0; i < rank; i++)
						xi[i] = first[i] + idx[i] * stp[i];
					ok = ok && memcmp((char *)y->data + offset(rank, y->dims, idx) * (int64_t)es,
							  (char *)x->data + offset(rank, dims, xi) * (int64_t)es, es) == 0;
				} while (step_index(rank, y->dims, idx));
			}
			char buf[160];
			check(ok && sentinels_ok(y), "slice matches the spec", ft_shape_str(x, buf, sizeof(buf)), k);
			if (ok && ft_dtype_is_float(dt))
				slice_grad(g, k, c_out(n), first, stp);
		}
		ft_graph_free(g);
	}
}

/* ---- Pad ---- */

static void pads(void)
{
	static const char *modes[] = { "constant", "reflect", "edge" };
	for (int k = 0; k < 300; k++) {
		int rank = (int)irand(1, 4), mode = k % 3;
		int64_t dims[FT_MAX_RANK], p[2 * FT_MAX_RANK];
		ft_dtype dt = dtypes[(k / 3) % FT_ARRAY_LEN(dtypes)];
		random_dims(rank, dims, 6);
		for (int i = 0; i < rank; i++) {
			/* reflect pads stay below the dim; crops keep the dim non-negative */
			int64_t hi = mode == 1 ? dims[i] - 1 : 4;
			p[i] = irand(-(dims[i] / 2), hi);
			p[i + rank] = irand(-(dims[i] / 2), hi);
		}
		ft_graph *g = ft_graph_new("test_pad");
		int in[3] = { new_tensor(g, "x", dt, rank, dims, false), new_ints(g, "pads", 2 * rank, p),
			      new_tensor(g, "value", dt, 0, dims, false) };
		ft_node *n = new_node(g, FT_OP_PAD, 3, in, 1);
		ft_node_set_string(g, n, "mode", modes[mode]);
		ft_status st = run(g, n);
		check(st == FT_OK, "pad runs", ft_last_error(), k);
		if (st == FT_OK) {
			const ft_tensor *x = &g->tensors[in[0]], *v = &g->tensors[in[2]], *y = ft_out(g, n, 0);
			size_t es = ft_dtype_size(dt);
			int64_t idx[FT_MAX_RANK] = { 0 }, xi[FT_MAX_RANK];
			bool ok = true;
			if (y->numel > 0) {
				do {
					bool outside = false;
					for (int i = 0; i < rank; i++) {
						int64_t c = idx[i] - p[i], d = dims[i];
						if (c < 0 || c >= d) {
							if (mode == 0)
								outside = true;
							else if (mode == 2)
								c = c < 0 ? 0 : d - 1;
							else
								c = c < 0 ? -c : 2 * d - 2 - c;
						}
						xi[i] = c;
					}
					const char *want = outside ? (const char *)v->data
								   : (const char *)x->data + offset(rank, dims, xi) * (int64_t)es;
					ok = ok && memcmp((char *)y->data + offset(rank, y->dims, idx) * (int64_t)es, want,
							  es) == 0;
				} while (step_index(rank, y->dims, idx));
			}
			char buf[160];
			check(ok && sentinels_ok(y), "pad matches the naive loop", ft_shape_str(x, buf, sizeof(buf)), k);
		}
		ft_graph_free(g);
	}
}

/* ---- Expand and Tile ---- */

static void expands_and_tiles(void)
{
	for (int k = 0; k < 200; k++) {
		int rank = (int)irand(1, 5), srank = (int)irand(1, 5);
		int64_t dims[FT_MAX_RANK], shape[FT_MAX_RANK], rep[FT_MAX_RANK];
		ft_dtype dt = dtypes[k % FT_ARRAY_LEN(dtypes)];
		random_dims(rank, dims, 4);
		for (int i = 0; i < rank; i++) {
			if (irand(0, 2) == 0)
				dims[i] = 1;
			rep[i] = irand(0, 9) ? irand(1, 3) : 0;
		}
		int out_rank = rank > srank ? rank : srank;
		for (int i = 0; i < srank; i++) {
			int xi = i + out_rank - srank - (out_rank - rank);
			int64_t d = xi >= 0 && xi < rank ? dims[xi] : 1;
			shape[i] = d == 1 ? irand(1, 3) : irand(0, 1) ? d : 1;
		}
		for (int op = 0; op < 2; op++) {
			ft_graph *g = ft_graph_new("test_expand");
			int in[2] = { new_tensor(g, "x", dt, rank, dims, false),
				      op ? new_ints(g, "repeats", rank, rep) : new_ints(g, "shape", srank, shape) };
			ft_node *n = new_node(g, op ? FT_OP_TILE : FT_OP_EXPAND, 2, in, 1);
			ft_status st = run(g, n);
			check(st == FT_OK, op ? "tile runs" : "expand runs", ft_last_error(), k);
			if (st == FT_OK) {
				const ft_tensor *x = &g->tensors[in[0]], *y = ft_out(g, n, 0);
				size_t es = ft_dtype_size(dt);
				int64_t idx[FT_MAX_RANK] = { 0 }, xi[FT_MAX_RANK];
				int off = y->rank - rank;
				bool ok = true;
				if (y->numel > 0) {
					do {
						for (int i = 0; i < rank; i++)
							xi[i] = idx[i + off] % dims[i]; /* broadcast (dim 1) or tiled */
						ok = ok && memcmp((char *)y->data + offset(y->rank, y->dims, idx) * (int64_t)es,
								  (char *)x->data + offset(rank, dims, xi) * (int64_t)es,
								  es) == 0;
					} while (step_index(y->rank, y->dims, idx));
				}
				char buf[160];
				check(ok && sentinels_ok(y), op ? "tile matches" : "expand matches",
				      ft_shape_str(x, buf, sizeof(buf)), k);
			}
			ft_graph_free(g);
		}
	}
}

/* ---- Concat then Split gives back the inputs ---- */

static void concat_split(void)
{
	for (int k = 0; k < 100; k++) {
		int rank = (int)irand(1, 4), ni = (int)irand(1, 5), axis = (int)irand(0, rank - 1);
		int64_t dims[FT_MAX_RANK], sizes[8];
		ft_dtype dt = dtypes[k % FT_ARRAY_LEN(dtypes)];
		random_dims(rank, dims, 5);
		ft_graph *g = ft_graph_new("test_concat");
		int in[8];
		for (int i = 0; i < ni; i++) {
			int64_t d[FT_MAX_RANK];
			memcpy(d, dims, sizeof(d));
			d[axis] = sizes[i] = irand(0, 4);
			char name[16];
			snprintf(name, sizeof(name), "x%d", i);
			in[i] = new_tensor(g, name, dt, rank, d, false);
		}
		ft_node *c = new_node(g, FT_OP_CONCAT, ni, in, 1);
		ft_node_set_int(g, c, "axis", axis - (k % 2 ? rank : 0));
		ft_status st = run(g, c);
		check(st == FT_OK, "concat runs", ft_last_error(), k);
		if (st == FT_OK) {
			int sin[2] = { c->out[0], new_ints(g, "split", ni, sizes) };
			g->tensors[sin[0]].kind = FT_TK_INPUT;
			ft_node *s = new_node(g, FT_OP_SPLIT, 2, sin, ni);
			ft_node_set_int(g, s, "axis", axis);
			st = run(g, s);
			check(st == FT_OK, "split runs", ft_last_error(), k);
			bool ok = st == FT_OK && sentinels_ok(ft_out(g, c, 0));
			for (int i = 0; ok && i < ni; i++) {
				const ft_tensor *x = &g->tensors[in[i]], *y = ft_out(g, s, i);
				ok = y->numel == x->numel && sentinels_ok(y) &&
				     memcmp(x->data, y->data, ft_tensor_bytes(x)) == 0;
			}
			check(ok, "split undoes concat", "", k);
		}
		ft_graph_free(g);
	}
}

/* ---- GATHER_GRAD: repeated indices sum, in index order ---- */

static void gather_grads(void)
{
	for (int k = 0; k < 100; k++) {
		int rank = (int)irand(1, 4), qrank = (int)irand(0, 2), axis = (int)irand(0, rank - 1);
		int64_t dims[FT_MAX_RANK], qdims[2], dydims[2 * FT_MAX_RANK];
		ft_dtype dt = k % 2 ? FT_F64 : FT_F32;
		random_dims(rank, dims, 5);
		random_dims(qrank, qdims, 4);
		int dyr = 0;
		for (int i = 0; i < axis; i++)
			dydims[dyr++] = dims[i];
		for (int i = 0; i < qrank; i++)
			dydims[dyr++] = qdims[i];
		for (int i = axis + 1; i < rank; i++)
			dydims[dyr++] = dims[i];
		if (dyr > FT_MAX_RANK)
			continue;
		ft_graph *g = ft_graph_new("test_gather_grad");
		int in[2] = { new_tensor(g, "dy", dt, dyr, dydims, false), new_tensor(g, "i", FT_I64, qrank, qdims, false) };
		ft_tensor *dy = &g->tensors[in[0]], *idx = &g->tensors[in[1]];
		for (int64_t j = 0; j < dy->numel; j++) {
			if (dt == FT_F32)
				((float *)dy->data)[j] = (float)irand(-1000, 1000) / 7.0f;
			else
				((double *)dy->data)[j] = (double)irand(-1000, 1000) / 7.0;
		}
		for (int64_t j = 0; j < idx->numel; j++)
			((int64_t *)idx->data)[j] = irand(-dims[axis], dims[axis] - 1);
		ft_node *n = new_node(g, FT_OP_GATHER_GRAD, 2, in, 1);
		ft_node_set_ints(g, n, "shape", dims, rank);
		ft_node_set_int(g, n, "axis", axis);
		ft_status st = run(g, n);
		check(st == FT_OK, "gather_grad runs", ft_last_error(), k);
		if (st == FT_OK) {
			const ft_tensor *dx = ft_out(g, n, 0);
			int64_t outer = 1, inner = 1, ni = idx->numel, dim = dims[axis];
			for (int i = 0; i < axis; i++)
				outer *= dims[i];
			for (int i = axis + 1; i < rank; i++)
				inner *= dims[i];
			double *want = calloc((size_t)dx->numel + 1, sizeof(double));
			bool ok = true;
			for (int64_t o = 0; o < outer; o++)
				for (int64_t j = 0; j < ni; j++) {
					int64_t v = ((int64_t *)idx->data)[j];
					v = v < 0 ? v + dim : v;
					for (int64_t e = 0; e < inner; e++) {
						int64_t w = (o * dim + v) * inner + e, r = (o * ni + j) * inner + e;
						if (dt == FT_F32)
							want[w] = (float)((float)want[w] + ((float *)dy->data)[r]);
						else
							want[w] += ((double *)dy->data)[r];
					}
				}
			for (int64_t j = 0; j < dx->numel; j++)
				ok = ok && (dt == FT_F32 ? ((float *)dx->data)[j] == (float)want[j]
							  : ((double *)dx->data)[j] == want[j]);
			check(ok && sentinels_ok(dx), "gather_grad matches the naive sum", "", k);
			free(want);
		}
		ft_graph_free(g);
	}
}

/* ---- index checks at run time ---- */

static void runtime_index_errors(void)
{
	ft_graph *g = ft_graph_new("test_gather");
	int64_t dims[2] = { 4, 3 }, nidx = 3;
	int in[2] = { new_tensor(g, "x", FT_F32, 2, dims, false), new_tensor(g, "i", FT_I64, 1, &nidx, false) };
	int64_t *iv = g->tensors[in[1]].data;
	ft_node *n = new_node(g, FT_OP_GATHER, 2, in, 1);
	iv[0] = 0, iv[1] = -4, iv[2] = 3;
	check(run(g, n) == FT_OK, "gather with indices in range runs", ft_last_error(), 0);
	iv[1] = 4;
	check(run(g, n) == FT_EBADINPUT && strstr(ft_last_error(), "index 4 is out of range"),
	      "gather index 4 of 4 is a node error", ft_last_error(), 0);
	iv[1] = -5;
	check(run(g, n) == FT_EBADINPUT, "gather index -5 of 4 is a node error", ft_last_error(), 0);
	ft_graph_free(g);

	g = ft_graph_new("test_scatter_nd");
	int64_t idims[2] = { 2, 1 }, udims[2] = { 2, 3 };
	int sin[3] = { new_tensor(g, "x", FT_F32, 2, dims, false), new_tensor(g, "i", FT_I64, 2, idims, false),
		       new_tensor(g, "u", FT_F32, 2, udims, false) };
	iv = g->tensors[sin[1]].data;
	n = new_node(g, FT_OP_SCATTER_ND, 3, sin, 1);
	iv[0] = 3, iv[1] = -4;
	check(run(g, n) == FT_OK, "scatter_nd with indices in range runs", ft_last_error(), 0);
	const float *x = g->tensors[sin[0]].data, *u = g->tensors[sin[2]].data, *y = ft_out(g, n, 0)->data;
	check(memcmp(y + 9, u, 12) == 0 && memcmp(y, u + 3, 12) == 0 && memcmp(y + 3, x + 3, 24) == 0,
	      "scatter_nd writes the updated rows only", "", 0);
	iv[0] = 4;
	check(run(g, n) == FT_EBADINPUT && strstr(ft_last_error(), "out of range"),
	      "scatter_nd index 4 of 4 is a node error", ft_last_error(), 0);
	ft_graph_free(g);
}

/* the memory plan gives a view (Reshape, Flatten, Squeeze, Unsqueeze, Identity) its input's place
 * (runtime/plan.c): an activation's view shares it and keeps it alive to the view's last use; a
 * graph input's view, and a tensor a node updates in place, get places of their own */
static void views_share_memory(void)
{
	ft_graph *g = ft_graph_new("views");
	int64_t d2[2] = { 4, 6 }, d1[1] = { 24 };
	int x = ft_graph_new_tensor(g, "x"); /* a graph input without data: planned */
	ft_tensor_set_shape(&g->tensors[x], FT_F32, 2, d2);
	g->tensors[x].kind = FT_TK_INPUT;
	int shape1 = new_ints(g, "shape1", 1, d1), shape2 = new_ints(g, "shape2", 2, d2);
	int in[2] = { x, -1 };
	ft_node *n = new_node(g, FT_OP_RELU, 1, in, 1); /* a = Relu(x) */
	int a = n->out[0];
	in[0] = a, in[1] = shape1;
	int b = new_node(g, FT_OP_RESHAPE, 2, in, 1)->out[0]; /* b = Reshape(a): a's place */
	in[0] = b;
	int c = new_node(g, FT_OP_RELU, 1, in, 1)->out[0]; /* c = Relu(b): reads b, a must stay */
	in[0] = x, in[1] = shape1;
	int v = new_node(g, FT_OP_RESHAPE, 2, in, 1)->out[0]; /* a view of the graph input: its own */
	in[0] = c, in[1] = shape2;
	int e = new_node(g, FT_OP_RESHAPE, 2, in, 1)->out[0]; /* updated in place below: its own */
	in[0] = b;
	int f = new_node(g, FT_OP_RELU, 1, in, 1)->out[0]; /* b read again, after c was made */
	int scale_id = new_tensor(g, "scale", FT_F32, 0, NULL, true);
	int un[2] = { scale_id, e };
	int found = new_node(g, FT_OP_AMP_UNSCALE, 2, un, 1)->out[0];
	int outs[3] = { v, f, found };
	g->outputs = ft_graph_own(g, ft_xmalloc(sizeof(outs)));
	memcpy(g->outputs, outs, sizeof(outs));
	g->n_outputs = 3;
	for (int i = 0; i < g->n_nodes; i++)
		if (ft_op_table[g->nodes[i].op].infer(g, &g->nodes[i]) != FT_OK) {
			check(false, "views", "infer", i);
			fprintf(stderr, "  %s\n", ft_last_error());
		}
	ft_plan p;
	check(ft_plan_build(g, &p) == FT_OK, "views", "plan", 0);
	bool apart = p.offset[c] >= p.offset[a] + 128 || p.offset[a] >= p.offset[c] + 128; /* 96 bytes, aligned */
	check(p.offset[b] == p.offset[a], "views", "a Reshape of an activation takes its place", 0);
	check(apart, "views", "the place stays the view's while it is read (c must not reuse it)", 0);
	check(p.offset[v] != p.offset[x], "views", "a graph input's view has its own place", 0);
	check(p.offset[e] != p.offset[c], "views", "a tensor updated in place has its own place", 0);
	ft_plan_free(&p);
	ft_graph_free(g);
}

/* Einsum equations that would index past the output's axes are refused, named (runtime/einsum.c) */
static void einsum_bad_equations(void)
{
	static const struct {
		const char *eq;
		int rank0, rank1; /* the operands' ranks (0: no second operand) */
		const char *why;
	} cases[] = {
		{ "ij->ii", 2, 0, "appears twice" },
		{ "...->......", 8, 0, "two ellipses in the output" },
		{ "abcde...,...->abcde...", 5, 8, "output rank above 8" },
		{ "ab,bc->ab", 2, 2, NULL }, /* (a good one: the cases run) */
	};
	for (size_t k = 0; k < FT_ARRAY_LEN(cases); k++) {
		ft_graph *g = ft_graph_new("test_einsum");
		int64_t dims[FT_MAX_RANK] = { 2, 2, 2, 2, 2, 2, 2, 2 };
		int in[2] = { new_tensor(g, "a", FT_F32, cases[k].rank0, dims, false), -1 };
		if (cases[k].rank1)
			in[1] = new_tensor(g, "b", FT_F32, cases[k].rank1, dims, false);
		ft_node *n = new_node(g, FT_OP_EINSUM, cases[k].rank1 ? 2 : 1, in, 1);
		ft_node_set_string(g, n, "equation", cases[k].eq);
		ft_status st = ft_op_table[n->op].infer(g, n);
		if (cases[k].why)
			check(st != FT_OK && strstr(ft_last_error(), cases[k].why) && strstr(ft_last_error(), "Einsum"),
			      "a bad Einsum equation is a node error", cases[k].eq, (int)k);
		else
			check(st == FT_OK, "a good Einsum equation infers", cases[k].eq, (int)k);
		ft_graph_free(g);
	}
}

/* ReduceSumTo (the gradient of a broadcast) in float64: a model that casts to double and broadcasts,
   trained, once ended on an assertion */
static void reduce_sum_to_f64(void)
{
	ft_graph *g = ft_graph_new("test_reduce_sum_to");
	int64_t dims[2] = { 2, 3 }, to[2] = { 1, 3 };
	int x = new_tensor(g, "x", FT_F64, 2, dims, false);
	double *xv = g->tensors[x].data;
	for (int i = 0; i < 6; i++)
		xv[i] = 0.25 * (i + 1);
	ft_node *n = new_node(g, FT_OP_REDUCE_SUM_TO, 1, &x, 1);
	ft_node_set_ints(g, n, "shape", to, 2);
	bool ok = run(g, n) == FT_OK;
	const double *y = ok ? ft_out(g, n, 0)->data : NULL;
	check(ok && ft_out(g, n, 0)->dtype == FT_F64 && y[0] == 1.25 && y[1] == 1.75 && y[2] == 2.25 &&
		      sentinels_ok(ft_out(g, n, 0)),
	      "ReduceSumTo sums float64 rows", ft_last_error(), 0);
	ft_graph_free(g);
}

/*
 * The autocast pass on Div(MatMul(a, b), 8): the one-element divisor meets a bfloat16 operand and
 * takes its type, as does the constant b the MatMul reads. Both casts of constants are made once
 * into bfloat16 constants, not Cast nodes run every step; the input's cast and the output's
 * stay nodes.
 */
static void amp_const_casts(void)
{
	ft_graph *g = ft_graph_new("test_amp_consts");
	int64_t ad[2] = { 2, 3 }, bd[2] = { 3, 4 }, one[1] = { 1 };
	int a = new_tensor(g, "a", FT_F32, 2, ad, false), b = new_tensor(g, "b", FT_F32, 2, bd, true);
	int s = new_tensor(g, "scale", FT_F32, 1, one, true);
	*(float *)g->tensors[s].data = 8.0f;
	float *bv = g->tensors[b].data;
	for (int i = 0; i < 12; i++)
		bv[i] = 1.0f + (float)i / 3.0f; /* (most not exact in bfloat16: rounded once, here) */
	int in[2] = { a, b };
	ft_node *mm = new_node(g, FT_OP_MATMUL, 2, in, 1);
	bool ok = ft_op_table[FT_OP_MATMUL].infer(g, mm) == FT_OK;
	int din[2] = { mm->out[0], s };
	ft_node *dv = new_node(g, FT_OP_DIV, 2, din, 1);
	ok = ok && ft_op_table[FT_OP_DIV].infer(g, dv) == FT_OK;
	int *ios = FT_ARENA_NEW(g->arena, int, 2);
	ios[0] = a;
	ios[1] = g->nodes[1].out[0];
	g->inputs = ios;
	g->n_inputs = 1;
	g->outputs = ios + 1;
	g->n_outputs = 1;
	ok = ok && ft_graph_toposort(g) == FT_OK && ft_amp_pass(g, FT_BF16) == FT_OK;
	int casts = 0, const_casts = 0;
	const ft_tensor *ds = NULL, *mb = NULL;
	for (int i = 0; ok && i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		if (n->op == FT_OP_CAST) {
			casts++;
			const_casts += ft_in(g, n, 0)->kind == FT_TK_CONST;
		}
		if (n->op == FT_OP_DIV)
			ds = ft_in(g, n, 1);
		if (n->op == FT_OP_MATMUL)
			mb = ft_in(g, n, 1);
	}
	ok = ok && casts == 2 && const_casts == 0 && ds && ds->kind == FT_TK_CONST && ds->dtype == FT_BF16 &&
	     ds->data && *(const uint16_t *)ds->data == ft_f32_to_bf16(8.0f) && mb && mb->kind == FT_TK_CONST &&
	     mb->dtype == FT_BF16 && mb->data;
	for (int i = 0; ok && i < 12; i++)
		ok = ((const uint16_t *)mb->data)[i] == ft_f32_to_bf16(bv[i]);
	check(ok, "AMP makes the casts of constants constants (2 Cast nodes left, the input's and the output's)",
	      ft_last_error(), casts);
	ft_graph_free(g);
}

int main(void)
{
	amp_const_casts();
	einsum_bad_equations();
	reduce_sum_to_f64();
	views_share_memory();
	transposes();
	slices();
	pads();
	expands_and_tiles();
	concat_split();
	gather_grads();
	runtime_index_errors();
	if (failures) {
		fprintf(stderr, "test_shape: %d failures\n", failures);
		return 1;
	}
	printf("test_shape: all passed\n");
	return 0;
}
