/*
 * shape_shape.c - shape inference for shapes and data movement: Constant,
 * Shape, ConstantOfShape, Range, Reshape, Flatten, Squeeze, Unsqueeze,
 * Transpose, Concat, Split, Slice, Gather, Expand, Tile, Pad, ScatterND.
 *
 * Many of these take their output shape from the values of an input (Reshape's
 * shape, Slice's starts/ends). ftrun needs static shapes, so those inputs must
 * be constants by the time inference runs; the specialisation pass folds the
 * Shape->Gather->Concat chains exporters emit into constants first. Every
 * number read from data is checked: a hostile model gets a message, never a
 * crash or a huge allocation.
 */
#include "ir.h"
#include "cpu/shape.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "[5,-1]" into buf */
static const char *dims_str(int rank, const int64_t *dims, char *buf, size_t len)
{
	size_t o = 0;
	o += (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < rank && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "," : "", (long long)dims[i]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
	return buf;
}

/*
 * The axes of Squeeze/Unsqueeze: the "axes" attribute (before opset 13) or
 * constant input 1 (opset 13 on). *given is false when there are none.
 */
static ft_status get_axes(const ft_graph *g, const ft_node *n, int64_t *axes, int *count, bool *given)
{
	const int64_t *a;
	int k = ft_attr_ints(n, "axes", &a);
	*given = true;
	if (k >= 0) {
		if (k > FT_MAX_RANK)
			return ft_node_error(g, n, FT_EBADINPUT, "axes has %d values, at most %d expected", k,
					     FT_MAX_RANK);
		memcpy(axes, a, sizeof(*a) * (size_t)k);
		*count = k;
		return FT_OK;
	}
	if (ft_in(g, n, 1))
		return ft_const_ints(g, n, 1, "axes", axes, FT_MAX_RANK, count);
	*given = false;
	*count = 0;
	return FT_OK;
}

/* ---- Constant ---- */

ft_status ft_infer_constant(ft_graph *g, ft_node *n)
{
	const ft_attr *a;
	int64_t len;

	if ((a = ft_attr_find(n, "value")) && a->kind == FT_ATTR_TENSOR) {
		if (a->i < 0 || a->i >= g->n_tensors)
			return ft_node_error(g, n, FT_EBADINPUT, "value refers to no tensor");
		const ft_tensor *t = &g->tensors[a->i];
		return ft_set_out(g, n, 0, t->dtype, t->rank, t->dims);
	}
	if ((a = ft_attr_find(n, "value_float")))
		return ft_set_out(g, n, 0, FT_F32, 0, &len);
	if ((a = ft_attr_find(n, "value_int")))
		return ft_set_out(g, n, 0, FT_I64, 0, &len);
	if ((a = ft_attr_find(n, "value_floats"))) {
		len = a->n;
		return ft_set_out(g, n, 0, FT_F32, 1, &len);
	}
	if ((a = ft_attr_find(n, "value_ints"))) {
		len = a->n;
		return ft_set_out(g, n, 0, FT_I64, 1, &len);
	}
	return ft_node_error(g, n, FT_EBADINPUT, "has no value (value, value_float(s) or value_int(s))");
}

/* ---- Shape ---- */

ft_status ft_infer_shape(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t start, end;

	ft_shape_range(n, x->rank, &start, &end);
	int64_t len = end - start;
	return ft_set_out(g, n, 0, FT_I64, 1, &len);
}

/* ---- ConstantOfShape ---- */

ft_status ft_infer_constant_of_shape(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	const ft_attr *a = ft_attr_find(n, "value");
	ft_dtype dtype = FT_F32;
	int64_t dims[FT_MAX_RANK];
	int rank;

	if (a) {
		if (a->kind != FT_ATTR_TENSOR || a->i < 0 || a->i >= g->n_tensors)
			return ft_node_error(g, n, FT_EBADINPUT, "value must be a tensor");
		const ft_tensor *v = &g->tensors[a->i];
		if (v->numel != 1 || !v->data)
			return ft_node_error(g, n, FT_EBADINPUT, "value must hold exactly one element, not %lld",
					     (long long)v->numel);
		dtype = v->dtype;
	}
	if (x->rank != 1)
		return ft_node_error(g, n, FT_EBADINPUT, "the shape input must be 1-D, not rank %d", x->rank);
	FT_TRY(ft_const_ints(g, n, 0, "shape", dims, FT_MAX_RANK, &rank));
	return ft_set_out(g, n, 0, dtype, rank, dims);
}

/* ---- Range ---- */

ft_status ft_infer_range(ft_graph *g, ft_node *n)
{
	static const char *what[3] = { "start", "limit", "delta" };
	const ft_tensor *t[3];
	ft_dtype dt = ft_in(g, n, 0)->dtype;
	int64_t count;

	if (dt != FT_F32 && dt != FT_F64 && dt != FT_I16 && dt != FT_I32 && dt != FT_I64)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(dt));
	for (int i = 0; i < 3; i++) {
		t[i] = ft_in(g, n, i);
		if (t[i]->dtype != dt)
			return ft_node_error(g, n, FT_EBADINPUT, "%s is %s but start is %s", what[i],
					     ft_dtype_name(t[i]->dtype), ft_dtype_name(dt));
		if (t[i]->numel != 1)
			return ft_node_error(g, n, FT_EBADINPUT, "%s must be a scalar, it has %lld elements", what[i],
					     (long long)t[i]->numel);
		if (!ft_tensor_is_const(t[i]))
			return ft_node_error(g, n, FT_EUNSUPPORTED,
					     "%s (input %d, \"%s\") is not a constant after shape specialisation; "
					     "ftrun needs static shapes", what[i], i, t[i]->name);
	}
	if (ft_dtype_is_float(dt)) {
		double s = ft_tensor_float(t[0], 0), l = ft_tensor_float(t[1], 0), d = ft_tensor_float(t[2], 0);
		if (!isfinite(s) || !isfinite(l) || !isfinite(d) || d == 0)
			return ft_node_error(g, n, FT_EBADINPUT, "start %g, limit %g, delta %g make no range", s, l,
					     d);
		double c = ceil((l - s) / d);
		if (!(c <= (double)((int64_t)1 << 40)))
			return ft_node_error(g, n, FT_EBADINPUT, "start %g, limit %g, delta %g make too many elements",
					     s, l, d);
		count = c > 0 ? (int64_t)c : 0;
	} else {
		__extension__ __int128 s = ft_tensor_int(t[0], 0), l = ft_tensor_int(t[1], 0),
				       d = ft_tensor_int(t[2], 0), c = 0;
		if (d == 0)
			return ft_node_error(g, n, FT_EBADINPUT, "delta is 0");
		if (d > 0 && l > s)
			c = (l - s + d - 1) / d;
		else if (d < 0 && l < s)
			c = (s - l - d - 1) / -d;
		if (c > ((int64_t)1 << 40))
			return ft_node_error(g, n, FT_EBADINPUT, "start %lld, limit %lld, delta %lld make too many elements",
					     (long long)s, (long long)l, (long long)d);
		count = (int64_t)c;
	}
	return ft_set_out(g, n, 0, dt, 1, &count);
}

/* ---- Reshape and friends: the data is copied as is ---- */

ft_status ft_infer_reshape(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	bool allowzero = ft_attr_int(n, "allowzero", 0) != 0;
	int64_t shape[FT_MAX_RANK], dims[FT_MAX_RANK], known = 1;
	int rank, infer_at = -1;
	char b1[160], b2[160];

	FT_TRY(ft_const_ints(g, n, 1, "shape", shape, FT_MAX_RANK, &rank));
#define RESHAPE_ERR(why)                                                                                \
	ft_node_error(g, n, FT_EBADINPUT, "cannot reshape %s into %s: %s", ft_shape_str(x, b1, sizeof(b1)), \
		      dims_str(rank, shape, b2, sizeof(b2)), why)
	for (int i = 0; i < rank; i++) {
		int64_t v = shape[i];
		if (v == 0 && !allowzero) {
			if (i >= x->rank)
				return RESHAPE_ERR("0 copies an input dim the input does not have");
			v = x->dims[i];
		} else if (v == -1) {
			if (infer_at >= 0)
				return RESHAPE_ERR("more than one -1");
			infer_at = i;
			dims[i] = 1;
			continue;
		} else if (v < 0) {
			return RESHAPE_ERR("negative dim");
		}
		dims[i] = v;
		if (!ft_mul_ok(known, v, &known))
			return RESHAPE_ERR("too many elements");
	}
	if (infer_at >= 0) {
		if (known == 0)
			return RESHAPE_ERR("-1 is ambiguous with a zero-size dim");
		if (x->numel % known)
			return RESHAPE_ERR("element counts differ");
		dims[infer_at] = x->numel / known;
		known = x->numel;
	}
	if (known != x->numel)
		return RESHAPE_ERR("element counts differ");
#undef RESHAPE_ERR
	return ft_set_out(g, n, 0, x->dtype, rank, dims);
}

ft_status ft_infer_flatten(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t axis = ft_attr_int(n, "axis", 1), dims[2] = { 1, 1 };

	if (axis < -x->rank || axis > x->rank)
		return ft_node_error(g, n, FT_EBADINPUT, "axis %lld is out of range for rank %d", (long long)axis,
				     x->rank);
	if (axis < 0)
		axis += x->rank;
	for (int i = 0; i < x->rank; i++)
		dims[i >= axis] *= x->dims[i];
	return ft_set_out(g, n, 0, x->dtype, 2, dims);
}

ft_status ft_infer_squeeze(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t axes[FT_MAX_RANK], dims[FT_MAX_RANK];
	bool drop[FT_MAX_RANK] = { false }, given;
	int k, rank = 0;
	char b[160];

	FT_TRY(get_axes(g, n, axes, &k, &given));
	for (int i = 0; i < k; i++) {
		int a;
		FT_TRY(ft_norm_axis(g, n, axes[i], x->rank, &a));
		if (x->rank == 0 || x->dims[a] != 1)
			return ft_node_error(g, n, FT_EBADINPUT, "cannot squeeze axis %lld of %s: its size is not 1",
					     (long long)axes[i], ft_shape_str(x, b, sizeof(b)));
		drop[a] = true;
	}
	for (int i = 0; i < x->rank; i++)
		if (!(given ? drop[i] : x->dims[i] == 1))
			dims[rank++] = x->dims[i];
	return ft_set_out(g, n, 0, x->dtype, rank, dims);
}

ft_status ft_infer_unsqueeze(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t axes[FT_MAX_RANK], dims[FT_MAX_RANK];
	bool ins[FT_MAX_RANK] = { false }, given;
	int k;

	FT_TRY(get_axes(g, n, axes, &k, &given));
	if (!given)
		return ft_node_error(g, n, FT_EBADINPUT, "has no axes");
	int rank = x->rank + k;
	if (rank > FT_MAX_RANK)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "the output would have rank %d (at most %d supported)",
				     rank, FT_MAX_RANK);
	for (int i = 0; i < k; i++) {
		int a;
		FT_TRY(ft_norm_axis(g, n, axes[i], rank, &a));
		if (ins[a])
			return ft_node_error(g, n, FT_EBADINPUT, "axis %lld is repeated", (long long)axes[i]);
		ins[a] = true;
	}
	for (int i = 0, j = 0; i < rank; i++)
		dims[i] = ins[i] ? 1 : x->dims[j++];
	return ft_set_out(g, n, 0, x->dtype, rank, dims);
}

/* ---- Transpose ---- */

ft_status ft_transpose_perm(const ft_graph *g, const ft_node *n, int rank, int *perm)
{
	const int64_t *p;
	int k = ft_attr_ints(n, "perm", &p);
	bool seen[FT_MAX_RANK] = { false };

	if (k < 0) {
		for (int i = 0; i < rank; i++)
			perm[i] = rank - 1 - i;
		return FT_OK;
	}
	if (k != rank)
		return ft_node_error(g, n, FT_EBADINPUT, "perm has %d values but the input has rank %d", k, rank);
	for (int i = 0; i < k; i++) {
		if (p[i] < 0 || p[i] >= rank || seen[p[i]])
			return ft_node_error(g, n, FT_EBADINPUT, "perm is not a permutation of 0..%d", rank - 1);
		seen[p[i]] = true;
		perm[i] = (int)p[i];
	}
	return FT_OK;
}

ft_status ft_infer_transpose(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int perm[FT_MAX_RANK];
	int64_t dims[FT_MAX_RANK];

	FT_TRY(ft_transpose_perm(g, n, x->rank, perm));
	for (int i = 0; i < x->rank; i++)
		dims[i] = x->dims[perm[i]];
	return ft_set_out(g, n, 0, x->dtype, x->rank, dims);
}

/* ---- Concat and Split ---- */

ft_status ft_infer_concat(ft_graph *g, ft_node *n)
{
	const ft_tensor *x0 = ft_in(g, n, 0);
	const ft_attr *aa = ft_attr_find(n, "axis");
	int64_t dims[FT_MAX_RANK];
	int axis;
	char b1[160], b2[160];

	if (!aa || aa->kind != FT_ATTR_INT)
		return ft_node_error(g, n, FT_EBADINPUT, "has no axis attribute");
	if (x0->rank == 0)
		return ft_node_error(g, n, FT_EBADINPUT, "cannot concatenate scalars");
	FT_TRY(ft_norm_axis(g, n, aa->i, x0->rank, &axis));
	memcpy(dims, x0->dims, sizeof(dims[0]) * (size_t)x0->rank);
	dims[axis] = 0;
	for (int i = 0; i < n->n_in; i++) {
		const ft_tensor *x = ft_in(g, n, i);
		if (!x)
			return ft_node_error(g, n, FT_EBADINPUT, "input %d is missing", i);
		if (x->dtype != x0->dtype)
			return ft_node_error(g, n, FT_EBADINPUT, "input %d is %s but input 0 is %s", i,
					     ft_dtype_name(x->dtype), ft_dtype_name(x0->dtype));
		bool ok = x->rank == x0->rank;
		for (int d = 0; ok && d < x->rank; d++)
			ok = d == axis || x->dims[d] == x0->dims[d];
		if (!ok)
			return ft_node_error(g, n, FT_EBADINPUT, "cannot concatenate %s and %s on axis %d",
					     ft_shape_str(x0, b1, sizeof(b1)), ft_shape_str(x, b2, sizeof(b2)), axis);
		dims[axis] += x->dims[axis];
	}
	return ft_set_out(g, n, 0, x0->dtype, x0->rank, dims);
}

#define FT_MAX_SPLIT 1024

ft_status ft_infer_split(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t sizes[FT_MAX_SPLIT], dims[FT_MAX_RANK], total = 0;
	const int64_t *a;
	int axis, k = ft_attr_ints(n, "split", &a), nout = n->n_out;
	char b[160];

	if (x->rank == 0)
		return ft_node_error(g, n, FT_EBADINPUT, "cannot split a scalar");
	if (nout < 1)
		return ft_node_error(g, n, FT_EBADINPUT, "has no outputs");
	for (int i = 0; i < nout; i++)
		if (!ft_out(g, n, i)) /* the kernel steps over each output's part */
			return ft_node_error(g, n, FT_EBADINPUT, "output %d has no name", i);
	FT_TRY(ft_norm_axis(g, n, ft_attr_int(n, "axis", 0), x->rank, &axis));
	int64_t d = x->dims[axis];
	if (k >= 0) { /* before opset 13 */
		if (k > FT_MAX_SPLIT)
			return ft_node_error(g, n, FT_EBADINPUT, "split has %d values", k);
		memcpy(sizes, a, sizeof(*a) * (size_t)k);
	} else if (ft_in(g, n, 1)) { /* opset 13 on */
		FT_TRY(ft_const_ints(g, n, 1, "split", sizes, FT_MAX_SPLIT, &k));
	} else {
		/* equal parts; opset 18's num_outputs lets the last one be smaller */
		int64_t num = ft_attr_int(n, "num_outputs", nout);
		if (num != nout)
			return ft_node_error(g, n, FT_EBADINPUT, "num_outputs is %lld but the node has %d outputs",
					     (long long)num, nout);
		int64_t chunk = ft_attr_find(n, "num_outputs") ? (d + num - 1) / num : d / num;
		if (!ft_attr_find(n, "num_outputs") && d % num)
			return ft_node_error(g, n, FT_EBADINPUT, "axis %d of %s does not split into %d equal parts",
					     axis, ft_shape_str(x, b, sizeof(b)), nout);
		k = nout;
		for (int i = 0; i < k; i++)
			sizes[i] = i < k - 1 ? chunk : d - chunk * (k - 1);
	}
	if (k != nout)
		return ft_node_error(g, n, FT_EBADINPUT, "split has %d sizes but the node has %d outputs", k, nout);
	for (int i = 0; i < k; i++) {
		if (sizes[i] < 0 || sizes[i] > d)
			return ft_node_error(g, n, FT_EBADINPUT, "split size %lld is invalid for axis %d of %s",
					     (long long)sizes[i], axis, ft_shape_str(x, b, sizeof(b)));
		total += sizes[i];
	}
	if (total != d)
		return ft_node_error(g, n, FT_EBADINPUT, "split sizes add up to %lld, not %lld (axis %d of %s)",
				     (long long)total, (long long)d, axis, ft_shape_str(x, b, sizeof(b)));
	memcpy(dims, x->dims, sizeof(dims[0]) * (size_t)x->rank);
	for (int i = 0; i < k; i++) {
		dims[axis] = sizes[i];
		FT_TRY(ft_set_out(g, n, i, x->dtype, x->rank, dims));
	}
	return FT_OK;
}

/* ---- Slice ---- */

/* Slice's starts, ends, axes, steps as constant inputs (opset 10 on) */
static ft_status slice_inputs(const ft_graph *g, const ft_node *n, int r, int64_t *starts, int64_t *ends,
			      int64_t *axes, int64_t *steps, int *count)
{
	int k, ke, ka, ks;

	if (!ft_in(g, n, 2))
		return ft_node_error(g, n, FT_EBADINPUT, "has no ends");
	FT_TRY(ft_const_ints(g, n, 1, "starts", starts, FT_MAX_RANK, &k));
	FT_TRY(ft_const_ints(g, n, 2, "ends", ends, FT_MAX_RANK, &ke));
	if (ke != k)
		return ft_node_error(g, n, FT_EBADINPUT, "%d starts but %d ends", k, ke);
	if (ft_in(g, n, 3)) {
		FT_TRY(ft_const_ints(g, n, 3, "axes", axes, FT_MAX_RANK, &ka));
		if (ka != k)
			return ft_node_error(g, n, FT_EBADINPUT, "%d starts but %d axes", k, ka);
	} else {
		if (k > r)
			return ft_node_error(g, n, FT_EBADINPUT, "%d starts for rank %d", k, r);
		for (int i = 0; i < k; i++)
			axes[i] = i;
	}
	if (ft_in(g, n, 4)) {
		FT_TRY(ft_const_ints(g, n, 4, "steps", steps, FT_MAX_RANK, &ks));
		if (ks != k)
			return ft_node_error(g, n, FT_EBADINPUT, "%d starts but %d steps", k, ks);
	} else {
		for (int i = 0; i < k; i++)
			steps[i] = 1;
	}
	*count = k;
	return FT_OK;
}

ft_status ft_slice_params_get(const ft_graph *g, const ft_node *n, ft_slice_params *p)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t starts[FT_MAX_RANK], ends[FT_MAX_RANK], axes[FT_MAX_RANK], steps[FT_MAX_RANK];
	bool seen[FT_MAX_RANK] = { false };
	int k = 0, ke = 0, ka = 0, r = x->rank;

	if (r == 0)
		return ft_node_error(g, n, FT_EBADINPUT, "cannot slice a scalar");
	if (!ft_in(g, n, 1)) { /* before opset 10: starts, ends and axes are attributes */
		const int64_t *as, *ae, *aa;
		k = ft_attr_ints(n, "starts", &as);
		ke = ft_attr_ints(n, "ends", &ae);
		ka = ft_attr_ints(n, "axes", &aa);
		if (k < 0 || ke != k || k > FT_MAX_RANK || (ka >= 0 && ka != k))
			return ft_node_error(g, n, FT_EBADINPUT, "needs starts and ends of equal length (at most %d)",
					     FT_MAX_RANK);
		for (int i = 0; i < k; i++) {
			starts[i] = as[i];
			ends[i] = ae[i];
			axes[i] = ka >= 0 ? aa[i] : i;
			steps[i] = 1;
		}
		if (ka < 0 && k > r)
			return ft_node_error(g, n, FT_EBADINPUT, "%d starts for rank %d", k, r);
	} else {
		FT_TRY(slice_inputs(g, n, r, starts, ends, axes, steps, &k));
	}
	p->rank = r;
	for (int i = 0; i < r; i++) {
		p->start[i] = 0;
		p->step[i] = 1;
		p->dims[i] = x->dims[i];
	}
	for (int i = 0; i < k; i++) {
		int a;
		FT_TRY(ft_norm_axis(g, n, axes[i], r, &a));
		if (seen[a])
			return ft_node_error(g, n, FT_EBADINPUT, "axis %lld is repeated", (long long)axes[i]);
		seen[a] = true;
		int64_t dim = x->dims[a], s = starts[i], e = ends[i], st = steps[i], count = 0;
		if (st == 0)
			return ft_node_error(g, n, FT_EBADINPUT, "step on axis %d is 0", a);
		/* dim <= 2^40, so these never overflow */
		if (s < 0)
			s += dim;
		if (e < 0)
			e += dim;
		if (dim == 0) {
			count = 0; /* nothing to read, whatever the step */
		} else if (st > 0) {
			s = s < 0 ? 0 : s > dim ? dim : s;
			e = e < 0 ? 0 : e > dim ? dim : e;
			if (e > s)
				count = (int64_t)(((uint64_t)(e - s) + (uint64_t)st - 1) / (uint64_t)st);
		} else {
			s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
			e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
			uint64_t ust = (uint64_t)0 - (uint64_t)st;
			if (s > e)
				count = (int64_t)(((uint64_t)(s - e) - 1) / ust + 1);
		}
		/* one element or none: the step does not matter, and 1 keeps step * stride small */
		p->start[a] = count ? s : 0;
		p->step[a] = count > 1 ? st : 1;
		p->dims[a] = count;
	}
	return FT_OK;
}

ft_status ft_infer_slice(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_slice_params p;

	FT_TRY(ft_slice_params_get(g, n, &p));
	return ft_set_out(g, n, 0, x->dtype, p.rank, p.dims);
}

/* ---- Gather ---- */

ft_status ft_infer_gather(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *idx = ft_in(g, n, 1);
	int64_t dims[2 * FT_MAX_RANK];
	int axis, rank = 0;
	char b[160];

	if (x->rank == 0)
		return ft_node_error(g, n, FT_EBADINPUT, "cannot gather from a scalar");
	if (idx->dtype != FT_I64 && idx->dtype != FT_I32)
		return ft_node_error(g, n, FT_EBADINPUT, "indices must be int32 or int64, not %s",
				     ft_dtype_name(idx->dtype));
	FT_TRY(ft_norm_axis(g, n, ft_attr_int(n, "axis", 0), x->rank, &axis));
	for (int i = 0; i < axis; i++)
		dims[rank++] = x->dims[i];
	for (int i = 0; i < idx->rank; i++)
		dims[rank++] = idx->dims[i];
	for (int i = axis + 1; i < x->rank; i++)
		dims[rank++] = x->dims[i];
	/* constant indices are checked now, the rest by the kernel */
	if (ft_tensor_is_const(idx)) {
		int64_t dim = x->dims[axis];
		for (int64_t i = 0; i < idx->numel; i++) {
			int64_t v = ft_tensor_int(idx, i);
			if (v < -dim || v >= dim)
				return ft_node_error(g, n, FT_EBADINPUT, "index %lld is out of range for axis %d of %s",
						     (long long)v, axis, ft_shape_str(x, b, sizeof(b)));
		}
	}
	return ft_set_out(g, n, 0, x->dtype, rank, dims);
}

/* ---- Expand and Tile ---- */

ft_status ft_infer_expand(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t shape[FT_MAX_RANK], dims[FT_MAX_RANK];
	int k;
	char b1[160], b2[160];

	FT_TRY(ft_const_ints(g, n, 1, "shape", shape, FT_MAX_RANK, &k));
	int rank = k > x->rank ? k : x->rank;
	for (int i = 0; i < rank; i++) {
		int xi = i - (rank - x->rank), si = i - (rank - k);
		int64_t a = xi >= 0 ? x->dims[xi] : 1, s = si >= 0 ? shape[si] : 1;
		if (s < 0 || (a != s && a != 1 && s != 1))
			return ft_node_error(g, n, FT_EBADINPUT, "cannot expand %s to %s", ft_shape_str(x, b1, sizeof(b1)),
					     dims_str(k, shape, b2, sizeof(b2)));
		dims[i] = a == 1 ? s : a;
	}
	return ft_set_out(g, n, 0, x->dtype, rank, dims);
}

ft_status ft_infer_tile(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	int64_t rep[FT_MAX_RANK], dims[FT_MAX_RANK];
	int k;
	char b[160];

	FT_TRY(ft_const_ints(g, n, 1, "repeats", rep, FT_MAX_RANK, &k));
	if (k != x->rank)
		return ft_node_error(g, n, FT_EBADINPUT, "repeats has %d values but the input %s has rank %d", k,
				     ft_shape_str(x, b, sizeof(b)), x->rank);
	for (int i = 0; i < k; i++) {
		if (rep[i] < 0)
			return ft_node_error(g, n, FT_EBADINPUT, "repeats[%d] is negative (%lld)", i, (long long)rep[i]);
		if (!ft_mul_ok(x->dims[i], rep[i], &dims[i]))
			return ft_node_error(g, n, FT_EBADINPUT, "repeats make too many elements");
	}
	return ft_set_out(g, n, 0, x->dtype, k, dims);
}

/* ---- Pad ---- */

ft_status ft_pad_params_get(const ft_graph *g, const ft_node *n, ft_pad_params *p)
{
	const ft_tensor *x = ft_in(g, n, 0);
	const char *mode = ft_attr_string(n, "mode", "constant");
	int64_t pads[2 * FT_MAX_RANK], axes[FT_MAX_RANK];
	const int64_t *a;
	int k = ft_attr_ints(n, "pads", &a), na, r = x->rank;
	bool seen[FT_MAX_RANK] = { false };
	char b[160];

	if (strcmp(mode, "constant") == 0)
		p->mode = FT_PAD_CONSTANT;
	else if (strcmp(mode, "reflect") == 0)
		p->mode = FT_PAD_REFLECT;
	else if (strcmp(mode, "edge") == 0)
		p->mode = FT_PAD_EDGE;
	else if (strcmp(mode, "wrap") == 0)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "mode \"wrap\" is not supported");
	else
		return ft_node_error(g, n, FT_EBADINPUT, "unknown mode \"%s\"", mode);
	if (k >= 0) { /* before opset 11 */
		if (k > 2 * FT_MAX_RANK)
			return ft_node_error(g, n, FT_EBADINPUT, "pads has %d values", k);
		memcpy(pads, a, sizeof(*a) * (size_t)k);
	} else {
		if (!ft_in(g, n, 1))
			return ft_node_error(g, n, FT_EBADINPUT, "has no pads");
		FT_TRY(ft_const_ints(g, n, 1, "pads", pads, 2 * FT_MAX_RANK, &k));
	}
	if (ft_in(g, n, 3)) { /* opset 18 */
		FT_TRY(ft_const_ints(g, n, 3, "axes", axes, FT_MAX_RANK, &na));
	} else {
		na = r;
		for (int i = 0; i < r; i++)
			axes[i] = i;
	}
	if (k != 2 * na)
		return ft_node_error(g, n, FT_EBADINPUT, "pads has %d values but %d are needed for %d axes", k,
				     2 * na, na);
	p->rank = r;
	for (int i = 0; i < r; i++) {
		p->begin[i] = p->end[i] = 0;
		p->dims[i] = x->dims[i];
	}
	for (int i = 0; i < na; i++) {
		int ax;
		FT_TRY(ft_norm_axis(g, n, axes[i], r, &ax));
		if (r == 0 || seen[ax])
			return ft_node_error(g, n, FT_EBADINPUT, "axis %lld is repeated or invalid", (long long)axes[i]);
		seen[ax] = true;
		int64_t dim = x->dims[ax], pb = pads[i], pe = pads[i + na], od;
		if (__builtin_add_overflow(dim, pb, &od) || __builtin_add_overflow(od, pe, &od) || od < 0)
			return ft_node_error(g, n, FT_EBADINPUT, "pads %lld,%lld make axis %d of %s negative or too big",
					     (long long)pb, (long long)pe, ax, ft_shape_str(x, b, sizeof(b)));
		/* reflect mirrors about the edge element, so pads must stay inside the input */
		if (p->mode == FT_PAD_REFLECT && (pb > dim - 1 || pe > dim - 1) && (pb > 0 || pe > 0))
			return ft_node_error(g, n, FT_EBADINPUT,
					     "reflect pads %lld,%lld must be smaller than axis %d of %s", (long long)pb,
					     (long long)pe, ax, ft_shape_str(x, b, sizeof(b)));
		if (p->mode == FT_PAD_EDGE && dim == 0 && od > 0)
			return ft_node_error(g, n, FT_EBADINPUT, "cannot edge-pad the empty axis %d of %s", ax,
					     ft_shape_str(x, b, sizeof(b)));
		p->begin[ax] = pb;
		p->end[ax] = pe;
		p->dims[ax] = od;
	}
	return FT_OK;
}

ft_status ft_infer_pad(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *v = ft_in(g, n, 2);
	ft_pad_params p;

	FT_TRY(ft_pad_params_get(g, n, &p));
	if (v && v->numel > 0 && v->dtype != x->dtype)
		return ft_node_error(g, n, FT_EBADINPUT, "constant_value is %s but the input is %s",
				     ft_dtype_name(v->dtype), ft_dtype_name(x->dtype));
	return ft_set_out(g, n, 0, x->dtype, p.rank, p.dims);
}

/* ---- ScatterND ---- */

ft_status ft_infer_scatter_nd(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *idx = ft_in(g, n, 1), *u = ft_in(g, n, 2);
	const char *red = ft_attr_string(n, "reduction", "none");
	char b1[160], b2[160], b3[160];

	if (strcmp(red, "none") != 0) {
		if (strcmp(red, "add") != 0 && strcmp(red, "mul") != 0 && strcmp(red, "max") != 0 &&
		    strcmp(red, "min") != 0)
			return ft_node_error(g, n, FT_EBADINPUT, "unknown reduction \"%s\"", red);
		if (x->dtype != FT_F32 && x->dtype != FT_F64 && x->dtype != FT_I32 && x->dtype != FT_I64)
			return ft_node_error(g, n, FT_EUNSUPPORTED, "reduction \"%s\" on dtype %s not supported", red,
					     ft_dtype_name(x->dtype));
	}
	if (idx->dtype != FT_I64 && idx->dtype != FT_I32)
		return ft_node_error(g, n, FT_EBADINPUT, "indices must be int64, not %s", ft_dtype_name(idx->dtype));
	if (u->dtype != x->dtype)
		return ft_node_error(g, n, FT_EBADINPUT, "updates are %s but data is %s", ft_dtype_name(u->dtype),
				     ft_dtype_name(x->dtype));
	bool ok = x->rank >= 1 && idx->rank >= 1;
	int64_t k = ok ? idx->dims[idx->rank - 1] : 0;
	ok = ok && k <= x->rank && u->rank == idx->rank - 1 + x->rank - k;
	for (int i = 0; ok && i < idx->rank - 1; i++)
		ok = u->dims[i] == idx->dims[i];
	for (int i = 0; ok && i < x->rank - k; i++)
		ok = u->dims[idx->rank - 1 + i] == x->dims[k + i];
	if (!ok)
		return ft_node_error(g, n, FT_EBADINPUT, "data %s, indices %s and updates %s do not fit together",
				     ft_shape_str(x, b1, sizeof(b1)), ft_shape_str(idx, b2, sizeof(b2)),
				     ft_shape_str(u, b3, sizeof(b3)));
	return ft_set_out(g, n, 0, x->dtype, x->rank, x->dims);
}

/* ---- gradients (internal ops made by autodiff) ---- */

/* the "shape" attribute of a gradient op: the shape of the forward input */
static ft_status grad_shape_attr(const ft_graph *g, const ft_node *n, int64_t *dims, int *rank)
{
	const int64_t *s;
	int k = ft_attr_ints(n, "shape", &s);
	if (k < 0 || k > FT_MAX_RANK)
		return ft_node_error(g, n, FT_EBADINPUT, "has no valid shape attribute");
	memcpy(dims, s, sizeof(*s) * (size_t)k);
	*rank = k;
	return FT_OK;
}

/*
 * SLICE_GRAD(dy) -> dx of "shape": zeros, with dy[i] at starts + i * steps on
 * every axis (the attributes are full-rank, as ft_slice_params_get gives them).
 */
ft_status ft_infer_slice_grad(ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0);
	const int64_t *starts, *steps;
	int64_t dims[FT_MAX_RANK];
	int rank = 0;
	char b[160], b2[160];

	FT_TRY(grad_shape_attr(g, n, dims, &rank));
	if (ft_attr_ints(n, "starts", &starts) != rank || ft_attr_ints(n, "steps", &steps) != rank || dy->rank != rank)
		return ft_node_error(g, n, FT_EBADINPUT, "starts, steps, shape and dy %s disagree in rank",
				     ft_shape_str(dy, b, sizeof(b)));
	if (!ft_dtype_is_float(dy->dtype))
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(dy->dtype));
	for (int i = 0; i < rank; i++) {
		int64_t cnt = dy->dims[i], last;
		if (cnt == 0)
			continue;
		if (steps[i] == 0 || starts[i] < 0 || starts[i] >= dims[i] ||
		    !ft_mul_ok(cnt - 1, steps[i], &last) || __builtin_add_overflow(last, starts[i], &last) ||
		    last < 0 || last >= dims[i])
			return ft_node_error(g, n, FT_EBADINPUT, "dy %s does not fit axis %d of %s with start %lld step %lld",
					     ft_shape_str(dy, b, sizeof(b)), i, dims_str(rank, dims, b2, sizeof(b2)),
					     (long long)starts[i], (long long)steps[i]);
	}
	return ft_set_out(g, n, 0, dy->dtype, rank, dims);
}

/*
 * GATHER_GRAD(dy, indices) -> dx of "shape": zeros, with dy's rows added at
 * the gathered positions along "axis" (a repeated index sums).
 */
ft_status ft_infer_gather_grad(ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *idx = ft_in(g, n, 1);
	int64_t dims[FT_MAX_RANK], axis = ft_attr_int(n, "axis", -1);
	int rank = 0;
	char b1[160], b2[160], b3[160];

	FT_TRY(grad_shape_attr(g, n, dims, &rank));
	if (dy->dtype != FT_F32 && dy->dtype != FT_F64)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(dy->dtype));
	if (idx->dtype != FT_I64 && idx->dtype != FT_I32)
		return ft_node_error(g, n, FT_EBADINPUT, "indices must be int32 or int64, not %s",
				     ft_dtype_name(idx->dtype));
	bool ok = axis >= 0 && axis < rank && dy->rank == rank - 1 + idx->rank;
	for (int i = 0; ok && i < dy->rank; i++) {
		int64_t want = i < axis ? dims[i] : i < axis + idx->rank ? idx->dims[i - axis] : dims[i - idx->rank + 1];
		ok = dy->dims[i] == want;
	}
	if (!ok)
		return ft_node_error(g, n, FT_EBADINPUT, "dy %s does not match indices %s gathered from %s on axis %lld",
				     ft_shape_str(dy, b1, sizeof(b1)), ft_shape_str(idx, b2, sizeof(b2)),
				     dims_str(rank, dims, b3, sizeof(b3)), (long long)axis);
	return ft_set_out(g, n, 0, dy->dtype, rank, dims);
}
