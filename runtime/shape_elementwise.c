/*
 * runtime/shape_elementwise.c - shape and dtype inference of the elementwise
 * family: binary ops broadcast numpy-style, unary ops keep their input's
 * shape, comparisons and logic give bool, Cast gives its `to` dtype.
 *
 * The dtypes accepted here are the ones kernels/cpu/elementwise.c has loops
 * for; anything else is FT_EUNSUPPORTED with the dtype's name, so a model
 * fails at load time rather than in the middle of a run.
 */
#include <math.h>
#include <string.h>

#include "ir.h"

static bool ew_is_numeric(ft_dtype t)
{
	return ft_dtype_is_float(t) || ft_dtype_is_int(t);
}

static ft_status ew_dtype_error(ft_graph *g, ft_node *n, const ft_tensor *t)
{
	return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s of input \"%s\" not supported",
			     ft_dtype_name(t->dtype), t->name);
}

/* all present inputs from first on have the dtype of input first */
static ft_status ew_same_dtype(ft_graph *g, ft_node *n, int first)
{
	const ft_tensor *a = ft_in(g, n, first);

	for (int i = first + 1; i < n->n_in; i++) {
		const ft_tensor *b = ft_in(g, n, i);
		if (b && b->dtype != a->dtype)
			return ft_node_error(g, n, FT_EBADINPUT, "inputs \"%s\" (%s) and \"%s\" (%s) differ in dtype",
					     a->name, ft_dtype_name(a->dtype), b->name, ft_dtype_name(b->dtype));
	}
	return FT_OK;
}

/* output 0 gets dtype and the broadcast shape of the inputs first..n_in */
static ft_status ew_set_broadcast(ft_graph *g, ft_node *n, int first, ft_dtype dtype)
{
	const ft_tensor *ts[64];
	int k = 0, rank;
	int64_t dims[FT_MAX_RANK];

	for (int i = first; i < n->n_in; i++) {
		const ft_tensor *t = ft_in(g, n, i);
		if (!t)
			continue;
		if (k == (int)FT_ARRAY_LEN(ts))
			return ft_node_error(g, n, FT_EUNSUPPORTED, "more than %d inputs", (int)FT_ARRAY_LEN(ts));
		ts[k++] = t;
	}
	if (k == 0)
		return ft_node_error(g, n, FT_EBADINPUT, "no inputs");
	FT_TRY(ft_broadcast_shapes(g, n, k, ts, &rank, dims));
	return ft_set_out(g, n, 0, dtype, rank, dims);
}

/* Add, Sub, Mul, Div, Mod: two numeric inputs of one dtype */
ft_status ft_infer_broadcast(ft_graph *g, ft_node *n)
{
	const ft_tensor *a = ft_in(g, n, 0);

	FT_TRY(ew_same_dtype(g, n, 0));
	if (!ew_is_numeric(a->dtype))
		return ew_dtype_error(g, n, a);
	return ew_set_broadcast(g, n, 0, a->dtype);
}

/* Pow: the output has the base's dtype; the exponent may be any numeric dtype */
ft_status ft_infer_pow(ft_graph *g, ft_node *n)
{
	const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1);

	if (!ft_dtype_is_float(a->dtype) && a->dtype != FT_I32 && a->dtype != FT_I64)
		return ew_dtype_error(g, n, a);
	if (!ew_is_numeric(b->dtype))
		return ew_dtype_error(g, n, b);
	return ew_set_broadcast(g, n, 0, a->dtype);
}

/* Max, Min: 1..N numeric inputs of one dtype */
ft_status ft_infer_variadic(ft_graph *g, ft_node *n)
{
	const ft_tensor *a = ft_in(g, n, 0);

	if (!a)
		return ft_node_error(g, n, FT_EBADINPUT, "the first input is missing");
	FT_TRY(ew_same_dtype(g, n, 0));
	if (!ew_is_numeric(a->dtype))
		return ew_dtype_error(g, n, a);
	return ew_set_broadcast(g, n, 0, a->dtype);
}

/* Equal, Less, Greater, LessOrEqual, GreaterOrEqual: one dtype in, bool out */
ft_status ft_infer_compare(ft_graph *g, ft_node *n)
{
	const ft_tensor *a = ft_in(g, n, 0);

	FT_TRY(ew_same_dtype(g, n, 0));
	if (!ew_is_numeric(a->dtype) && a->dtype != FT_BOOL)
		return ew_dtype_error(g, n, a);
	return ew_set_broadcast(g, n, 0, FT_BOOL);
}

static ft_status ew_need_bool(ft_graph *g, ft_node *n, const ft_tensor *t)
{
	if (t->dtype != FT_BOOL)
		return ft_node_error(g, n, FT_EBADINPUT, "input \"%s\" must be bool, not %s", t->name,
				     ft_dtype_name(t->dtype));
	return FT_OK;
}

/* And, Or, Xor */
ft_status ft_infer_logical(ft_graph *g, ft_node *n)
{
	FT_TRY(ew_need_bool(g, n, ft_in(g, n, 0)));
	FT_TRY(ew_need_bool(g, n, ft_in(g, n, 1)));
	return ew_set_broadcast(g, n, 0, FT_BOOL);
}

ft_status ft_infer_not(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);

	FT_TRY(ew_need_bool(g, n, x));
	return ft_set_out(g, n, 0, FT_BOOL, x->rank, x->dims);
}

/* Where(cond, x, y): cond bool, x and y one dtype (any), three-way broadcast */
ft_status ft_infer_where(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 1);

	FT_TRY(ew_need_bool(g, n, ft_in(g, n, 0)));
	FT_TRY(ew_same_dtype(g, n, 1));
	if (x->dtype == FT_UNDEF)
		return ew_dtype_error(g, n, x);
	return ew_set_broadcast(g, n, 0, x->dtype);
}

/* Relu, Neg, Abs on any numeric dtype; Identity on any dtype */
ft_status ft_infer_unary(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);

	if (n->op == FT_OP_IDENTITY ? x->dtype == FT_UNDEF : !ew_is_numeric(x->dtype))
		return ew_dtype_error(g, n, x);
	return ft_set_out(g, n, 0, x->dtype, x->rank, x->dims);
}

/* the activations and maths functions: float16, bfloat16, float32, float64 */
ft_status ft_infer_unary_float(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);

	if (!ft_dtype_is_float(x->dtype))
		return ew_dtype_error(g, n, x);
	return ft_set_out(g, n, 0, x->dtype, x->rank, x->dims);
}

/* a bound or ratio input: absent, empty (also absent) or one element */
static ft_status ew_check_scalar(ft_graph *g, ft_node *n, int i, const char *what)
{
	const ft_tensor *t = ft_in(g, n, i);
	char buf[128];

	if (!t || t->numel <= 1)
		return FT_OK;
	return ft_node_error(g, n, FT_EBADINPUT, "%s \"%s\" must be a scalar, not %s", what, t->name,
			     ft_shape_str(t, buf, sizeof(buf)));
}

/* Clip(x, min, max): bounds of x's dtype; opset < 11 has them as float attributes */
ft_status ft_infer_clip(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);

	if (!ew_is_numeric(x->dtype))
		return ew_dtype_error(g, n, x);
	FT_TRY(ew_same_dtype(g, n, 0));
	FT_TRY(ew_check_scalar(g, n, 1, "min"));
	FT_TRY(ew_check_scalar(g, n, 2, "max"));
	if ((ft_attr_find(n, "min") || ft_attr_find(n, "max")) && !ft_dtype_is_float(x->dtype))
		return ft_node_error(g, n, FT_EBADINPUT, "min/max attributes need a float input, not %s",
				     ft_dtype_name(x->dtype));
	return ft_set_out(g, n, 0, x->dtype, x->rank, x->dims);
}

/* Cast: the dtype comes from `to`, checked by ft_import_cast */
ft_status ft_infer_cast(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_dtype to = ft_dtype_from_onnx((int)ft_attr_int(n, "to", 0));

	if (to == FT_UNDEF)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "cast to ONNX type %lld not supported",
				     (long long)ft_attr_int(n, "to", 0));
	if (x->dtype == FT_UNDEF)
		return ew_dtype_error(g, n, x);
	return ft_set_out(g, n, 0, to, x->rank, x->dims);
}

/*
 * Dropout(x, ratio, training_mode) -> y, mask: y like x, mask bool of x's
 * shape. Inference ignores the ratio; with a training_mode input a constant
 * ratio is checked here, one that only comes at run time by the kernel.
 */
ft_status ft_infer_dropout(ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *ratio = ft_in(g, n, 1), *train = ft_in(g, n, 2);

	if (!ft_dtype_is_float(x->dtype))
		return ew_dtype_error(g, n, x);
	FT_TRY(ew_check_scalar(g, n, 1, "ratio"));
	FT_TRY(ew_check_scalar(g, n, 2, "training_mode"));
	if (ratio && ratio->numel > 0 && !ft_dtype_is_float(ratio->dtype))
		return ft_node_error(g, n, FT_EBADINPUT, "ratio \"%s\" must be a float, not %s", ratio->name,
				     ft_dtype_name(ratio->dtype));
	if (train && train->numel > 0)
		FT_TRY(ew_need_bool(g, n, train));
	if (train && ratio && ratio->numel == 1 && ft_tensor_is_const(ratio) &&
	    (ratio->dtype == FT_F32 || ratio->dtype == FT_F64)) {
		double r = ft_tensor_float(ratio, 0);
		if (!(r >= 0 && r < 1))
			return ft_node_error(g, n, FT_EBADINPUT, "ratio %g is not in [0, 1)", r);
	}
	FT_TRY(ft_set_out(g, n, 0, x->dtype, x->rank, x->dims));
	return ft_set_out(g, n, 1, FT_BOOL, x->rank, x->dims);
}

/*
 * The internal gradient ops that map (dy, saved, ...) to dx elementwise
 * (RELU_GRAD, SIGMOID_GRAD, CLIP_GRAD, DROPOUT_GRAD, and other families'
 * SOFTMAX_GRAD...): dx has dy's dtype and shape. The saved tensor (x, y or
 * the mask) must have dy's shape, since the kernels walk both flat.
 */
ft_status ft_infer_unary_grad(ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *s = ft_in(g, n, 1);
	char b1[128], b2[128];

	if (!ft_dtype_is_float(dy->dtype))
		return ew_dtype_error(g, n, dy);
	if (s && (s->rank != dy->rank || s->numel != dy->numel ||
		  memcmp(s->dims, dy->dims, sizeof(int64_t) * (size_t)dy->rank) != 0))
		return ft_node_error(g, n, FT_EBADINPUT, "gradient \"%s\" %s and saved \"%s\" %s differ in shape",
				     dy->name, ft_shape_str(dy, b1, sizeof(b1)), s->name, ft_shape_str(s, b2, sizeof(b2)));
	return ft_set_out(g, n, 0, dy->dtype, dy->rank, dy->dims);
}
