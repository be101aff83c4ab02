/*
 * shape_conv.c - shape inference of convolution and pooling, and the window
 * geometry their kernels share (shape_conv.h).
 *
 * Output size of one spatial axis, ek = (kernel - 1) * dilation + 1 being the
 * extent of the dilated kernel (ONNX Conv/MaxPool/AveragePool):
 *   NOTSET:      floor((in + pad_begin + pad_end - ek) / stride) + 1
 *                (ceil instead of floor with ceil_mode, dropping a last
 *                window that would start inside the end padding, as PyTorch)
 *   VALID:       floor((in - ek) / stride) + 1, no padding
 *   SAME_UPPER:  ceil(in / stride), total padding
 *   SAME_LOWER:  max(0, (out - 1) * stride + ek - in), split with the odd
 *                element at the end (UPPER) or at the beginning (LOWER)
 */
#include "shape_conv.h"

#include <stdio.h>
#include <string.h>

/* attribute values beyond this are nonsense and would overflow the arithmetic */
#define GEOM_LIMIT ((int64_t)1 << 30)

static const char *ints_str(const int64_t *v, int k, char *buf, size_t len)
{
	size_t o = 0;
	o += (size_t)snprintf(buf + o, len - o, "[");
	for (int i = 0; i < k && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "," : "", (long long)v[i]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
	return buf;
}

/* Reads an optional per-axis ints attribute: absent -> def on every axis. */
static ft_status axis_ints(const ft_graph *g, const ft_node *n, const char *name, int count, int64_t def,
			   int64_t min, int64_t *out)
{
	const int64_t *v;
	int k = ft_attr_ints(n, name, &v);
	if (k < 0) {
		for (int i = 0; i < count; i++)
			out[i] = def;
		return FT_OK;
	}
	if (k != count)
		return ft_node_error(g, n, FT_EBADINPUT, "%s has %d values, %d expected", name, k, count);
	for (int i = 0; i < k; i++) {
		if (v[i] < min || v[i] > GEOM_LIMIT) {
			char b[256];
			return ft_node_error(g, n, FT_EBADINPUT, "%s %s: value %lld at %d is out of range", name,
					     ints_str(v, k, b, sizeof(b)), (long long)v[i], i);
		}
		out[i] = v[i];
	}
	return FT_OK;
}

/*
 * The geometry of a window op whose input is x and, for a convolution, whose
 * weight is w (b the bias or NULL); pools pass w = NULL.
 */
static ft_status geometry(const ft_graph *g, const ft_node *n, const ft_tensor *x, const ft_tensor *w,
			  const ft_tensor *b, bool ceil_mode, ft_conv_geom *geom)
{
	char bx[128], bw[128], bk[128], bp[128];

	memset(geom, 0, sizeof(*geom));
	FT_ASSERT(x && x->shaped);
	if (x->rank < 3)
		return ft_node_error(g, n, FT_EBADINPUT, "input %s must have rank >= 3 (N, C, spatial...)",
				     ft_shape_str(x, bx, sizeof(bx)));
	if (x->rank - 2 > FT_CONV_MAX_SPATIAL)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "input %s has %d spatial axes, at most %d supported",
				     ft_shape_str(x, bx, sizeof(bx)), x->rank - 2, FT_CONV_MAX_SPATIAL);
	int nsp = geom->nsp = x->rank - 2;
	geom->n = x->dims[0];
	geom->c_in = x->dims[1];
	geom->c_out = geom->c_in;
	geom->group = 1;
	for (int i = 0; i < nsp; i++)
		geom->in[i] = x->dims[2 + i];

	/* the kernel: from the weight for Conv (kernel_shape must agree), else the attribute */
	const int64_t *ks;
	int nks = ft_attr_ints(n, "kernel_shape", &ks);
	if (w) {
		FT_ASSERT(w->shaped);
		if (w->rank != x->rank)
			return ft_node_error(g, n, FT_EBADINPUT, "weight %s has rank %d but input %s has rank %d",
					     ft_shape_str(w, bw, sizeof(bw)), w->rank, ft_shape_str(x, bx, sizeof(bx)),
					     x->rank);
		bool match = nks < 0 || nks == nsp;
		for (int i = 0; match && nks >= 0 && i < nsp; i++)
			match = ks[i] == w->dims[2 + i];
		if (!match)
			return ft_node_error(g, n, FT_EBADINPUT, "kernel_shape %s does not match weight %s",
					     ints_str(ks, nks, bk, sizeof(bk)), ft_shape_str(w, bw, sizeof(bw)));
		for (int i = 0; i < nsp; i++) {
			if (w->dims[2 + i] < 1)
				return ft_node_error(g, n, FT_EBADINPUT, "weight %s has an empty kernel",
						     ft_shape_str(w, bw, sizeof(bw)));
			geom->kernel[i] = w->dims[2 + i];
		}
		int64_t group = ft_attr_int(n, "group", 1);
		if (group < 1 || group > GEOM_LIMIT)
			return ft_node_error(g, n, FT_EBADINPUT, "group %lld must be >= 1", (long long)group);
		int64_t expect;
		if (!ft_mul_ok(w->dims[1], group, &expect) || expect != geom->c_in)
			return ft_node_error(g, n, FT_EBADINPUT,
					     "input %s has %lld channels but weight %s with group %lld expects %lld",
					     ft_shape_str(x, bx, sizeof(bx)), (long long)geom->c_in,
					     ft_shape_str(w, bw, sizeof(bw)), (long long)group,
					     (long long)(w->dims[1] * group));
		if (w->dims[0] % group != 0)
			return ft_node_error(g, n, FT_EBADINPUT,
					     "weight %s has %lld output channels, not divisible by group %lld",
					     ft_shape_str(w, bw, sizeof(bw)), (long long)w->dims[0], (long long)group);
		geom->group = group;
		geom->c_out = w->dims[0];
		geom->w_cin = w->dims[1];
		if (b && (b->rank != 1 || b->dims[0] != geom->c_out))
			return ft_node_error(g, n, FT_EBADINPUT, "bias %s must have %lld elements to match weight %s",
					     ft_shape_str(b, bk, sizeof(bk)), (long long)geom->c_out,
					     ft_shape_str(w, bw, sizeof(bw)));
	} else {
		if (nks < 0)
			return ft_node_error(g, n, FT_EBADINPUT, "kernel_shape is required");
		if (nks != nsp)
			return ft_node_error(g, n, FT_EBADINPUT, "kernel_shape %s has %d values but input %s has %d spatial axes",
					     ints_str(ks, nks, bk, sizeof(bk)), nks, ft_shape_str(x, bx, sizeof(bx)), nsp);
		for (int i = 0; i < nsp; i++) {
			if (ks[i] < 1 || ks[i] > GEOM_LIMIT)
				return ft_node_error(g, n, FT_EBADINPUT, "kernel_shape %s must be positive",
						     ints_str(ks, nks, bk, sizeof(bk)));
			geom->kernel[i] = ks[i];
		}
	}

	FT_TRY(axis_ints(g, n, "strides", nsp, 1, 1, geom->stride));
	FT_TRY(axis_ints(g, n, "dilations", nsp, 1, 1, geom->dil));
	int64_t pads[2 * FT_CONV_MAX_SPATIAL];
	FT_TRY(axis_ints(g, n, "pads", 2 * nsp, 0, 0, pads));
	const char *auto_pad = ft_attr_string(n, "auto_pad", "NOTSET");

	for (int i = 0; i < nsp; i++) {
		int64_t in = geom->in[i], s = geom->stride[i];
		int64_t ek = (geom->kernel[i] - 1) * geom->dil[i] + 1;
		int64_t pb = 0, pe = 0, out;
		if (strcmp(auto_pad, "SAME_UPPER") == 0 || strcmp(auto_pad, "SAME_LOWER") == 0) {
			out = (in + s - 1) / s;
			int64_t total = (out - 1) * s + ek - in;
			if (total < 0)
				total = 0;
			bool upper = auto_pad[5] == 'U';
			pb = upper ? total / 2 : total - total / 2;
			pe = total - pb;
		} else {
			if (strcmp(auto_pad, "VALID") != 0) {
				pb = pads[i];
				pe = pads[nsp + i];
			}
			int64_t span = in + pb + pe - ek;
			if (span < 0)
				return ft_node_error(g, n, FT_EBADINPUT,
						     "kernel %s (dilated extent %lld on axis %d) does not fit input %s with pads %s",
						     ints_str(geom->kernel, nsp, bk, sizeof(bk)), (long long)ek, 2 + i,
						     ft_shape_str(x, bx, sizeof(bx)), ints_str(pads, 2 * nsp, bp, sizeof(bp)));
			out = span / s + 1;
			if (ceil_mode && span % s != 0) {
				out++;
				/* a window must start inside the input or the begin padding */
				if ((out - 1) * s >= in + pb)
					out--;
			}
		}
		geom->pad_begin[i] = pb;
		geom->pad_end[i] = pe;
		geom->out[i] = out;
		if (out < 1)
			return ft_node_error(g, n, FT_EBADINPUT, "input %s gives an empty output on axis %d",
					     ft_shape_str(x, bx, sizeof(bx)), 2 + i);
	}
	return FT_OK;
}

/*
 * A shape given as an ints attribute (the gradient ops carry the forward
 * input's or weight's shape), as a data-less tensor of dtype for geometry().
 */
static ft_status attr_shape(const ft_graph *g, const ft_node *n, const char *name, ft_dtype dtype, ft_tensor *t)
{
	const int64_t *v;
	int k = ft_attr_ints(n, name, &v);
	memset(t, 0, sizeof(*t));
	t->name = name;
	if (k < 3 || k > 2 + FT_CONV_MAX_SPATIAL)
		return ft_node_error(g, n, FT_EBADINPUT, "attribute %s must hold 3 to %d dims, it has %d", name,
				     2 + FT_CONV_MAX_SPATIAL, k);
	for (int i = 0; i < k; i++)
		if (v[i] < 0 || v[i] > GEOM_LIMIT)
			return ft_node_error(g, n, FT_EBADINPUT, "attribute %s has a bad dim %lld", name,
					     (long long)v[i]);
	ft_tensor_set_shape(t, dtype, k, v);
	return FT_OK;
}

/* the tensor at input i as NCHW (a channels-last node's operands: ft_nchw_view), or NULL */
static const ft_tensor *nchw_in(const ft_graph *g, const ft_node *n, int i, ft_tensor *view)
{
	const ft_tensor *t = ft_in(g, n, i);
	if (!t)
		return NULL;
	ft_nchw_view(n, t, view);
	return view;
}

ft_status ft_conv_geometry(const ft_graph *g, const ft_node *n, ft_conv_geom *geom)
{
	ft_tensor shape, v0, v1;
	memset(geom, 0, sizeof(*geom));
	if (ft_channels_last(n) && ft_in(g, n, n->op == FT_OP_CONV || n->op == FT_OP_MAX_POOL ||
							  n->op == FT_OP_AVERAGE_POOL ? 0 : 1)->rank != 4)
		return ft_node_error(g, n, FT_EBADINPUT, "channels last is for 2-D images (rank 4)");
	switch (n->op) {
	case FT_OP_CONV:
		return geometry(g, n, nchw_in(g, n, 0, &v0), nchw_in(g, n, 1, &v1), ft_in(g, n, 2), false, geom);
	case FT_OP_CONV_GRAD_INPUT: /* (dy, w), x_shape */
		FT_TRY(attr_shape(g, n, "x_shape", ft_in(g, n, 1)->dtype, &shape));
		ft_nchw_view(n, &shape, &v0);
		return geometry(g, n, &v0, nchw_in(g, n, 1, &v1), NULL, false, geom);
	case FT_OP_CONV_GRAD_WEIGHT: /* (dy, x), w_shape */
		FT_TRY(attr_shape(g, n, "w_shape", ft_in(g, n, 1)->dtype, &shape));
		ft_nchw_view(n, &shape, &v0);
		return geometry(g, n, nchw_in(g, n, 1, &v1), &v0, NULL, false, geom);
	case FT_OP_MAX_POOL_GRAD:
	case FT_OP_AVERAGE_POOL_GRAD: /* (dy, x) */
		return geometry(g, n, nchw_in(g, n, 1, &v1), NULL, NULL, ft_attr_int(n, "ceil_mode", 0) != 0, geom);
	default:
		return geometry(g, n, nchw_in(g, n, 0, &v0), NULL, NULL, ft_attr_int(n, "ceil_mode", 0) != 0, geom);
	}
}

static ft_status check_dtype(ft_graph *g, ft_node *n, const ft_tensor *t, const char *what, const ft_dtype *ok,
			     int n_ok)
{
	for (int i = 0; i < n_ok; i++)
		if (t->dtype == ok[i])
			return FT_OK;
	return ft_node_error(g, n, FT_EUNSUPPORTED, "%s dtype %s not supported", what, ft_dtype_name(t->dtype));
}

/* the output's dims, in n's layout */
static void out_dims(const ft_node *n, const ft_conv_geom *geom, int64_t *dims)
{
	dims[0] = geom->n;
	dims[1] = geom->c_out;
	for (int i = 0; i < geom->nsp; i++)
		dims[2 + i] = geom->out[i];
	if (geom->nsp == 2 && ft_channels_last(n))
		ft_dims_nhwc(dims, dims);
}

ft_status ft_infer_conv(ft_graph *g, ft_node *n)
{
	static const ft_dtype ok[] = { FT_F32, FT_F64, FT_F16, FT_BF16 };
	const ft_tensor *x = ft_in(g, n, 0), *w = ft_in(g, n, 1), *b = ft_in(g, n, 2);
	FT_TRY(check_dtype(g, n, x, "input", ok, FT_ARRAY_LEN(ok)));
	if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
		return ft_node_error(g, n, FT_EBADINPUT, "input is %s but weight is %s%s%s", ft_dtype_name(x->dtype),
				     ft_dtype_name(w->dtype), b ? " and bias " : "", b ? ft_dtype_name(b->dtype) : "");
	ft_conv_geom geom;
	FT_TRY(ft_conv_geometry(g, n, &geom));
	int64_t dims[FT_MAX_RANK];
	out_dims(n, &geom, dims);
	return ft_set_out(g, n, 0, x->dtype, x->rank, dims);
}

ft_status ft_infer_pool(ft_graph *g, ft_node *n)
{
	static const ft_dtype max_ok[] = { FT_F32, FT_F64, FT_F16, FT_BF16, FT_U8, FT_I8 };
	static const ft_dtype avg_ok[] = { FT_F32, FT_F64, FT_F16, FT_BF16 };
	const ft_tensor *x = ft_in(g, n, 0);
	if (n->op == FT_OP_MAX_POOL)
		FT_TRY(check_dtype(g, n, x, "input", max_ok, FT_ARRAY_LEN(max_ok)));
	else
		FT_TRY(check_dtype(g, n, x, "input", avg_ok, FT_ARRAY_LEN(avg_ok)));
	ft_conv_geom geom;
	FT_TRY(ft_conv_geometry(g, n, &geom));
	int64_t dims[FT_MAX_RANK];
	out_dims(n, &geom, dims);
	FT_TRY(ft_set_out(g, n, 0, x->dtype, x->rank, dims));
	/* MaxPool's optional Indices: flat positions in the input, int64 */
	return ft_set_out(g, n, 1, FT_I64, x->rank, dims);
}

ft_status ft_infer_global_pool(ft_graph *g, ft_node *n)
{
	static const ft_dtype ok[] = { FT_F32, FT_F64, FT_F16, FT_BF16 };
	const ft_tensor *x = ft_in(g, n, 0);
	char bx[128];
	FT_TRY(check_dtype(g, n, x, "input", ok, FT_ARRAY_LEN(ok)));
	if (x->rank < 3)
		return ft_node_error(g, n, FT_EBADINPUT, "input %s must have rank >= 3 (N, C, spatial...)",
				     ft_shape_str(x, bx, sizeof(bx)));
	int64_t dims[FT_MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		dims[i] = i < 2 ? x->dims[i] : 1;
	for (int i = 2; i < x->rank; i++)
		if (x->dims[i] == 0)
			return ft_node_error(g, n, FT_EBADINPUT, "input %s has an empty spatial axis",
					     ft_shape_str(x, bx, sizeof(bx)));
	return ft_set_out(g, n, 0, x->dtype, x->rank, dims);
}

/* ---- gradients ---------------------------------------------------------- */

/* dy must be what the forward made: (N, C_out, out...) of the geometry */
static ft_status check_dy(ft_graph *g, ft_node *n, const ft_tensor *dy, const ft_conv_geom *geom, int rank)
{
	int64_t dims[FT_MAX_RANK];
	char bd[128];
	out_dims(n, geom, dims);
	bool ok = dy->rank == rank;
	for (int i = 0; ok && i < rank; i++)
		ok = dy->dims[i] == dims[i];
	if (!ok)
		return ft_node_error(g, n, FT_EBADINPUT, "gradient %s does not have the forward output's shape",
				     ft_shape_str(dy, bd, sizeof(bd)));
	return FT_OK;
}

static ft_status check_float_pair(ft_graph *g, ft_node *n, const ft_tensor *a, const ft_tensor *b)
{
	static const ft_dtype ok[] = { FT_F32, FT_F64, FT_F16, FT_BF16 };
	FT_TRY(check_dtype(g, n, a, "gradient", ok, FT_ARRAY_LEN(ok)));
	if (a->dtype != b->dtype)
		return ft_node_error(g, n, FT_EBADINPUT, "gradient is %s but the other input is %s",
				     ft_dtype_name(a->dtype), ft_dtype_name(b->dtype));
	return FT_OK;
}

/* CONV_GRAD_INPUT(dy, w) -> dx of shape x_shape */
ft_status ft_infer_conv_grad_input(ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0);
	const int64_t *xs;
	int rank = ft_attr_ints(n, "x_shape", &xs);
	ft_conv_geom geom;
	FT_TRY(check_float_pair(g, n, dy, ft_in(g, n, 1)));
	FT_TRY(ft_conv_geometry(g, n, &geom));
	FT_TRY(check_dy(g, n, dy, &geom, rank));
	return ft_set_out(g, n, 0, dy->dtype, rank, xs);
}

/* CONV_GRAD_WEIGHT(dy, x) -> dw of shape w_shape [, db (C_out)] */
ft_status ft_infer_conv_grad_weight(ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1);
	const int64_t *ws;
	int rank = ft_attr_ints(n, "w_shape", &ws);
	ft_conv_geom geom;
	FT_TRY(check_float_pair(g, n, dy, x));
	FT_TRY(ft_conv_geometry(g, n, &geom));
	FT_TRY(check_dy(g, n, dy, &geom, x->rank));
	FT_TRY(ft_set_out(g, n, 0, dy->dtype, rank, ws));
	return ft_set_out(g, n, 1, dy->dtype, 1, &geom.c_out);
}

/* MAX_POOL_GRAD, AVERAGE_POOL_GRAD, GLOBAL_POOL_GRAD (dy, x[, y]) -> dx like x */
ft_status ft_infer_pool_grad(ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1);
	char bx[128], bd[128];
	FT_TRY(check_float_pair(g, n, dy, x));
	if (n->op == FT_OP_GLOBAL_POOL_GRAD) {
		const char *mode = ft_attr_string(n, "mode", "avg");
		if (strcmp(mode, "avg") != 0 && strcmp(mode, "max") != 0)
			return ft_node_error(g, n, FT_EBADINPUT, "mode \"%s\" must be \"avg\" or \"max\"", mode);
		if (x->rank < 3)
			return ft_node_error(g, n, FT_EBADINPUT, "input %s must have rank >= 3 (N, C, spatial...)",
					     ft_shape_str(x, bx, sizeof(bx)));
		bool ok = dy->rank == x->rank;
		for (int i = 0; ok && i < x->rank; i++)
			ok = dy->dims[i] == (i < 2 ? x->dims[i] : 1);
		if (!ok)
			return ft_node_error(g, n, FT_EBADINPUT, "gradient %s does not fit input %s",
					     ft_shape_str(dy, bd, sizeof(bd)), ft_shape_str(x, bx, sizeof(bx)));
	} else {
		ft_conv_geom geom;
		FT_TRY(ft_conv_geometry(g, n, &geom));
		FT_TRY(check_dy(g, n, dy, &geom, x->rank));
	}
	return ft_set_out(g, n, 0, x->dtype, x->rank, x->dims);
}
