/*
 * kernels/cpu/reduce.c - ReduceSum/Mean/Max/Min, Softmax and LogSoftmax.
 *
 * Reductions first simplify the input's shape: size-1 axes are dropped and
 * neighbouring axes that are both kept or both reduced are merged. The common
 * case, reduced axes innermost (ReduceMean over H,W; over the last dim of a
 * LayerNorm-style export), is then one contiguous run per output, which has its
 * own f32 loop; everything else walks the reduced axes with an odometer.
 * Sums accumulate in double (64-bit wrap-around integers for integer types),
 * max/min propagate NaN as numpy and PyTorch do, and a max/min over no
 * elements is -inf/+inf (the dtype's lowest/highest for integers).
 *
 * Softmax views its input as (outer, len, inner) and subtracts each row's max
 * before exponentiating, so large logits do not overflow; the sum of
 * exponentials accumulates in double.
 */
#include "cpu/reduce.h"

#include <math.h>
#include <string.h>

#include "cpu/util.h"

ft_status ft_reduce_axes(const ft_graph *g, const ft_node *n, const ft_tensor *x, bool mask[FT_MAX_RANK],
			 bool *noop)
{
	int64_t axes[FT_MAX_RANK];
	int count = 0;
	const int64_t *attr;
	int na = ft_attr_ints(n, "axes", &attr);

	if (na >= 0) {
		if (na > x->rank)
			return ft_node_error(g, n, FT_EBADINPUT, "%d axes given for an input of rank %d", na, x->rank);
		memcpy(axes, attr, sizeof(int64_t) * (size_t)na);
		count = na;
	} else if (ft_in(g, n, 1)) {
		FT_TRY(ft_const_ints(g, n, 1, "axes", axes, FT_MAX_RANK, &count));
	}

	*noop = false;
	for (int d = 0; d < FT_MAX_RANK; d++)
		mask[d] = false;
	if (count == 0) {
		// empty axes: all of them, unless noop_with_empty_axes makes it the identity
		if (ft_attr_int(n, "noop_with_empty_axes", 0))
			*noop = true;
		else
			for (int d = 0; d < x->rank; d++)
				mask[d] = true;
		return FT_OK;
	}
	for (int i = 0; i < count; i++) {
		int a;
		if (axes[i] < -x->rank || axes[i] >= x->rank)
			return ft_node_error(g, n, FT_EBADINPUT, "axis %lld is out of range for rank %d",
					     (long long)axes[i], x->rank);
		a = (int)(axes[i] < 0 ? axes[i] + x->rank : axes[i]);
		if (mask[a])
			return ft_node_error(g, n, FT_EBADINPUT, "axis %lld is given twice", (long long)axes[i]);
		mask[a] = true;
	}
	return FT_OK;
}

/* ---- reductions ---- */

typedef enum red_op { RED_SUM, RED_MEAN, RED_MAX, RED_MIN } red_op;

/*
 * The input as kept and reduced axis groups (size-1 axes dropped, neighbours
 * of a kind merged), with their element strides in x. Output element o is the
 * row-major index over the kept groups.
 */
typedef struct red_plan {
	int64_t n_out, n_red; /* output elements, inputs reduced into each */
	int nk, nr;
	int64_t kdims[FT_MAX_RANK], kstr[FT_MAX_RANK];
	int64_t rdims[FT_MAX_RANK], rstr[FT_MAX_RANK];
	bool rows; /* output o reduces the contiguous x[o*n_red, (o+1)*n_red) */
} red_plan;

static void red_plan_of(const ft_tensor *x, const bool *mask, red_plan *p)
{
	int64_t str[FT_MAX_RANK];
	int last = -1; /* kind of the previous group: 0 kept, 1 reduced */

	ft_strides(x->rank, x->dims, str);
	p->nk = p->nr = 0;
	p->n_out = p->n_red = 1;
	for (int d = 0; d < x->rank; d++) {
		if (x->dims[d] == 1)
			continue;
		int kind = mask[d] ? 1 : 0;
		int64_t *dims = kind ? p->rdims : p->kdims, *strs = kind ? p->rstr : p->kstr;
		int *cnt = kind ? &p->nr : &p->nk;
		if (kind == last) {
			// adjacent in memory with the group before: one axis of their combined size
			dims[*cnt - 1] *= x->dims[d];
			strs[*cnt - 1] = str[d];
		} else {
			dims[*cnt] = x->dims[d];
			strs[*cnt] = str[d];
			(*cnt)++;
		}
		last = kind;
		if (kind)
			p->n_red *= x->dims[d];
		else
			p->n_out *= x->dims[d];
	}
	// the reduced group, if any, is innermost: then every kept axis is outside it
	p->rows = p->nr == 0 || (p->nr == 1 && p->rstr[0] == 1);
}

/*
 * Generic reduction: for each output, walk the reduced groups with an
 * odometer. T is the element type, ACC the sum accumulator, SACC the signed
 * type ACC's value is read back as; LO/HI start max/min (what an empty
 * reduction gives).
 */
#define FT_RED_GENERIC(NAME, T, ACC, SACC, LO, HI)                                                        \
	static void NAME(T *y, const T *x, const red_plan *p, red_op op)                                   \
	{                                                                                                  \
		_Pragma("omp parallel for schedule(static)")                                               \
		for (int64_t o = 0; o < p->n_out; o++) {                                                   \
			int64_t base = 0, rem = o, idx[FT_MAX_RANK] = {0}, off;                            \
			for (int d = p->nk - 1; d >= 0; d--) {                                             \
				base += (rem % p->kdims[d]) * p->kstr[d];                                  \
				rem /= p->kdims[d];                                                        \
			}                                                                                  \
			ACC sum = 0;                                                                       \
			T best = op == RED_MAX ? (T)(LO) : (T)(HI);                                        \
			off = base;                                                                        \
			for (int64_t r = 0; r < p->n_red; r++) {                                           \
				T v = x[off];                                                              \
				if (op == RED_SUM || op == RED_MEAN)                                       \
					sum += (ACC)v;                                                     \
				else if (op == RED_MAX)                                                    \
					best = (v > best || v != v) && best == best ? v : best;            \
				else                                                                       \
					best = (v < best || v != v) && best == best ? v : best;            \
				for (int d = p->nr - 1; d >= 0; d--) { /* next reduced index */            \
					off += p->rstr[d];                                                 \
					if (++idx[d] < p->rdims[d])                                        \
						break;                                                     \
					off -= p->rstr[d] * p->rdims[d];                                   \
					idx[d] = 0;                                                        \
				}                                                                          \
			}                                                                                  \
			if (op == RED_SUM)                                                                 \
				y[o] = (T)(SACC)sum;                                                       \
			else if (op == RED_MEAN)                                                           \
				y[o] = (T)((double)(SACC)sum / (double)p->n_red);                          \
			else                                                                               \
				y[o] = best;                                                               \
		}                                                                                          \
	}

FT_RED_GENERIC(red_generic_f32, float, double, double, -INFINITY, INFINITY)
FT_RED_GENERIC(red_generic_f64, double, double, double, -INFINITY, INFINITY)
FT_RED_GENERIC(red_generic_i32, int32_t, uint64_t, int64_t, INT32_MIN, INT32_MAX)
FT_RED_GENERIC(red_generic_i64, int64_t, uint64_t, int64_t, INT64_MIN, INT64_MAX)

/* sum of a contiguous f32 run in double, in 8 independent lanes so it vectorises */
static double sum_f32(const float *x, int64_t len)
{
	double lane[8] = {0};
	int64_t i = 0;
	for (; i + 8 <= len; i += 8)
		for (int l = 0; l < 8; l++)
			lane[l] += (double)x[i + l];
	double s = 0;
	for (; i < len; i++)
		s += (double)x[i];
	return s + ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}

static float max_f32(const float *x, int64_t len)
{
	float m = -INFINITY;
	bool nan = false;
	for (int64_t i = 0; i < len; i++) {
		m = x[i] > m ? x[i] : m;
		nan |= x[i] != x[i];
	}
	return nan ? NAN : m;
}

static float min_f32(const float *x, int64_t len)
{
	float m = INFINITY;
	bool nan = false;
	for (int64_t i = 0; i < len; i++) {
		m = x[i] < m ? x[i] : m;
		nan |= x[i] != x[i];
	}
	return nan ? NAN : m;
}

/* f32, reduced axes innermost: y[o] = reduce(x[o*len .. (o+1)*len)) */
static void red_rows_f32(float *y, const float *x, int64_t n_out, int64_t len, red_op op)
{
	#pragma omp parallel for schedule(static)
	for (int64_t o = 0; o < n_out; o++) {
		const float *row = x + o * len;
		switch (op) {
		case RED_SUM: y[o] = (float)sum_f32(row, len); break;
		case RED_MEAN: y[o] = (float)(sum_f32(row, len) / (double)len); break;
		case RED_MAX: y[o] = max_f32(row, len); break;
		case RED_MIN: y[o] = min_f32(row, len); break;
		}
	}
}

static ft_status reduce(const ft_graph *g, ft_node *n, red_op op)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	bool mask[FT_MAX_RANK], noop;
	red_plan p;

	FT_TRY(ft_reduce_axes(g, n, x, mask, &noop));
	if (noop) {
		memcpy(y->data, x->data, ft_tensor_bytes(x));
		return FT_OK;
	}
	red_plan_of(x, mask, &p);
	if (p.n_out == 0 || y->numel == 0)
		return FT_OK;
	if (x->dtype == FT_F32 && p.rows) {
		red_rows_f32(y->data, x->data, p.n_out, p.n_red, op);
		return FT_OK;
	}
	switch (x->dtype) {
	case FT_F32: red_generic_f32(y->data, x->data, &p, op); break;
	case FT_F64: red_generic_f64(y->data, x->data, &p, op); break;
	case FT_I32: red_generic_i32(y->data, x->data, &p, op); break;
	case FT_I64: red_generic_i64(y->data, x->data, &p, op); break;
	default: FT_ASSERT(!"reduce dtype checked by infer");
	}
	return FT_OK;
}

ft_status ft_cpu_reduce_sum(const ft_graph *g, ft_node *n)
{
	return reduce(g, n, RED_SUM);
}

ft_status ft_cpu_reduce_mean(const ft_graph *g, ft_node *n)
{
	return reduce(g, n, RED_MEAN);
}

ft_status ft_cpu_reduce_max(const ft_graph *g, ft_node *n)
{
	return reduce(g, n, RED_MAX);
}

ft_status ft_cpu_reduce_min(const ft_graph *g, ft_node *n)
{
	return reduce(g, n, RED_MIN);
}

/* ---- softmax ---- */

ft_status ft_softmax_view(const ft_graph *g, const ft_node *n, const ft_tensor *x, int64_t *outer,
			  int64_t *len, int64_t *inner)
{
	bool coerce_2d = n->opset < 13;
	int64_t a = ft_attr_int(n, "axis", coerce_2d ? 1 : -1);
	int axis;

	if (x->rank == 0)
		return ft_node_error(g, n, FT_EBADINPUT, "input must have rank >= 1");
	if (coerce_2d && a == x->rank)
		axis = x->rank; /* old opsets let the 2-D split fall after the last axis: len 1 */
	else
		FT_TRY(ft_norm_axis(g, n, a, x->rank, &axis));
	*outer = *len = *inner = 1;
	for (int d = 0; d < x->rank; d++) {
		if (d < axis)
			*outer *= x->dims[d];
		else if (d == axis || coerce_2d)
			*len *= x->dims[d];
		else
			*inner *= x->dims[d];
	}
	return FT_OK;
}

/*
 * y = softmax(x) or log_softmax(x) along len for each of the outer*inner
 * columns; x and y are (outer, len, inner). T is float or double, EXP its
 * exponential.
 */
#define FT_SOFTMAX(NAME, T, EXP)                                                                     \
	static void NAME(T *y, const T *x, int64_t outer, int64_t len, int64_t inner, bool log_out)        \
	{                                                                                                  \
		_Pragma("omp parallel for schedule(static)")                                               \
		for (int64_t c = 0; c < outer * inner; c++) {                                              \
			int64_t o = c / inner, i = c % inner;                                              \
			const T *xc = x + o * len * inner + i;                                             \
			T *yc = y + o * len * inner + i;                                                   \
			T m = -INFINITY;                                                                   \
			for (int64_t a = 0; a < len; a++)                                                  \
				m = xc[a * inner] > m ? xc[a * inner] : m;                                 \
			double sum = 0;                                                                    \
			for (int64_t a = 0; a < len; a++) {                                                \
				T e = EXP(xc[a * inner] - m);                                              \
				if (!log_out)                                                              \
					yc[a * inner] = e;                                                 \
				sum += (double)e;                                                          \
			}                                                                                  \
			if (log_out) {                                                                     \
				/* (x - m) - lse, not x - (m + lse): keeps y near 0 accurate */         \
				T lse = (T)log(sum);                                                       \
				for (int64_t a = 0; a < len; a++)                                          \
					yc[a * inner] = (xc[a * inner] - m) - lse;                         \
			} else {                                                                           \
				T scale = (T)(1.0 / sum);                                                  \
				for (int64_t a = 0; a < len; a++)                                          \
					yc[a * inner] *= scale;                                            \
			}                                                                                  \
		}                                                                                          \
	}

FT_SOFTMAX(softmax_f32, float, expf)
FT_SOFTMAX(softmax_f64, double, exp)

/*
 * e^x for x <= 0 in plain float arithmetic that the compiler vectorises
 * (libm's expf is a call per element): Cody-Waite reduction x = n ln2 + r,
 * Cephes' degree-6 polynomial for e^r, and 2^n built in the exponent bits.
 * Within 1 ulp of the rounded e^x on [-87.3, 0] (checked on every float
 * there); below -87.3 it returns 2^-126 where e^x is smaller (nothing next
 * to a softmax denominator >= 1).
 */
static inline float exp_nonpos_f32(float x)
{
	// x = -min(|x|, 87.33654) on the bits: a float compare would keep the loop
	// from vectorising (GCC will not if-convert it under -ftrapping-math)
	int32_t ax;
	memcpy(&ax, &x, sizeof(ax));
	ax &= 0x7fffffff;
	ax = ax > 0x42aeac4f ? 0x42aeac4f : ax;
	memcpy(&x, &ax, sizeof(x));
	x = -x;
	float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f; /* round to nearest: 1.5 * 2^23 */
	float r = x - n * 0.693359375f;
	r = r - n * -2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * (r * r) + r + 1.0f;
	int32_t bits = ((int32_t)n + 127) * (1 << 23);
	float scale;
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

/*
 * f32 softmax over contiguous rows (axis innermost, the attention case): the
 * same three passes as the reference with the vectorised exponential. A row
 * holding NaN or infinities takes the reference path, which gets those right.
 */
static void softmax_rows_f32(float *y, const float *x, int64_t rows, int64_t len, bool log_out)
{
	#pragma omp parallel for schedule(static)
	for (int64_t r = 0; r < rows; r++) {
		const float *xr = x + r * len;
		float *yr = y + r * len;
		float m = -INFINITY;
		bool finite = true;
		#pragma omp simd reduction(max : m) reduction(&& : finite)
		for (int64_t a = 0; a < len; a++) {
			m = xr[a] > m ? xr[a] : m;
			finite = finite && xr[a] - xr[a] == 0.0f; /* false for NaN and +-inf */
		}
		if (!finite) {
			softmax_f32(yr, xr, 1, len, 1, log_out);
			continue;
		}
		for (int64_t a = 0; a < len; a++)
			yr[a] = exp_nonpos_f32(xr[a] - m);
		double sum = sum_f32(yr, len);
		if (log_out) {
			float lse = (float)log(sum);
			for (int64_t a = 0; a < len; a++)
				yr[a] = (xr[a] - m) - lse;
		} else {
			float scale = (float)(1.0 / sum);
			for (int64_t a = 0; a < len; a++)
				yr[a] *= scale;
		}
	}
}

static ft_status softmax(const ft_graph *g, ft_node *n, bool log_out)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	int64_t outer = 1, len = 1, inner = 1;

	FT_TRY(ft_softmax_view(g, n, x, &outer, &len, &inner));
	if (y->numel == 0)
		return FT_OK;
	if (x->dtype == FT_F32 && inner == 1)
		softmax_rows_f32(y->data, x->data, outer, len, log_out);
	else if (x->dtype == FT_F32)
		softmax_f32(y->data, x->data, outer, len, inner, log_out);
	else
		softmax_f64(y->data, x->data, outer, len, inner, log_out);
	return FT_OK;
}

ft_status ft_cpu_softmax(const ft_graph *g, ft_node *n)
{
	return softmax(g, n, false);
}

ft_status ft_cpu_log_softmax(const ft_graph *g, ft_node *n)
{
	return softmax(g, n, true);
}

/* ---- gradients ---- */

/*
 * Softmax: dx = y * (dy - sum_a dy*y); LogSoftmax: dx = dy - exp(y) * sum_a dy,
 * along len for each of the outer*inner columns (the sums in double).
 * dx, dy and y are (outer, len, inner).
 */
#define FT_SOFTMAX_GRAD(NAME, T, EXP)                                                                 \
	static void NAME(T *dx, const T *dy, const T *y, int64_t outer, int64_t len, int64_t inner,       \
			 bool log_out)                                                                     \
	{                                                                                                  \
		_Pragma("omp parallel for schedule(static)")                                               \
		for (int64_t c = 0; c < outer * inner; c++) {                                              \
			int64_t base = (c / inner) * len * inner + c % inner;                              \
			const T *dyc = dy + base, *yc = y + base;                                          \
			T *dxc = dx + base;                                                                \
			double sum = 0;                                                                    \
			for (int64_t a = 0; a < len; a++)                                                  \
				sum += log_out ? (double)dyc[a * inner]                                    \
					       : (double)dyc[a * inner] * (double)yc[a * inner];           \
			T s = (T)sum;                                                                      \
			for (int64_t a = 0; a < len; a++) {                                                \
				int64_t k = a * inner;                                                     \
				dxc[k] = log_out ? dyc[k] - EXP(yc[k]) * s : yc[k] * (dyc[k] - s);         \
			}                                                                                  \
		}                                                                                          \
	}

FT_SOFTMAX_GRAD(softmax_grad_f32, float, expf)
FT_SOFTMAX_GRAD(softmax_grad_f64, double, exp)

// inputs dy and y, both the forward's shape; the axis attribute (and the node's opset) as the forward's
static ft_status softmax_grad(const ft_graph *g, ft_node *n, bool log_out)
{
	const ft_tensor *dy = ft_in(g, n, 0), *y = ft_in(g, n, 1);
	ft_tensor *dx = ft_out(g, n, 0);
	int64_t outer, len, inner;

	FT_TRY(ft_softmax_view(g, n, y, &outer, &len, &inner));
	if ((dx->dtype != FT_F32 && dx->dtype != FT_F64) || dy->dtype != y->dtype)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtypes %s and %s not supported", ft_dtype_name(dy->dtype),
				     ft_dtype_name(y->dtype));
	if (dx->numel == 0)
		return FT_OK;
	if (dx->dtype == FT_F32)
		softmax_grad_f32(dx->data, dy->data, y->data, outer, len, inner, log_out);
	else
		softmax_grad_f64(dx->data, dy->data, y->data, outer, len, inner, log_out);
	return FT_OK;
}

ft_status ft_cpu_softmax_grad(const ft_graph *g, ft_node *n)
{
	return softmax_grad(g, n, false);
}

ft_status ft_cpu_log_softmax_grad(const ft_graph *g, ft_node *n)
{
	return softmax_grad(g, n, true);
}

/*
 * REDUCE_GRAD: dx = scale * dy broadcast back over the reduced axes. dx is
 * the forward input's shape (attribute "shape"), dy the forward output's.
 * Each row of dx's last axis reads dy at one base offset, with stride 0 along
 * the row when the last axis was reduced and 1 when it was kept.
 */
#define FT_REDUCE_GRAD(NAME, T)                                                                        \
	static void NAME(T *dx, const T *dy, int rank, const int64_t *dims, const int64_t *dstr, T scale) \
	{                                                                                                  \
		int64_t len = rank ? dims[rank - 1] : 1, rows = 1, step = rank ? dstr[rank - 1] : 0;       \
		for (int d = 0; d + 1 < rank; d++)                                                         \
			rows *= dims[d];                                                                   \
		_Pragma("omp parallel for schedule(static)")                                               \
		for (int64_t r = 0; r < rows; r++) {                                                       \
			int64_t rem = r, off = 0;                                                          \
			for (int d = rank - 2; d >= 0; d--) {                                              \
				off += (rem % dims[d]) * dstr[d];                                          \
				rem /= dims[d];                                                            \
			}                                                                                  \
			T *dxr = dx + r * len;                                                             \
			const T *dyr = dy + off;                                                           \
			for (int64_t a = 0; a < len; a++)                                                  \
				dxr[a] = dyr[a * step] * scale;                                            \
		}                                                                                          \
	}

FT_REDUCE_GRAD(reduce_grad_f32, float)
FT_REDUCE_GRAD(reduce_grad_f64, double)

ft_status ft_cpu_reduce_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0);
	ft_tensor *dx = ft_out(g, n, 0);
	const int64_t *axes;
	int na = ft_attr_ints(n, "axes", &axes);
	double scale = ft_attr_float(n, "scale", 1.0f);
	bool mask[FT_MAX_RANK] = { false };
	int64_t dstr[FT_MAX_RANK], st = 1;

	// dx is (shape), dy is shape with the reduced axes 1 (keepdims) or gone: both lay out the kept
	// axes in the same order, so dy's stride of kept axis d is the product of the kept dims after it
	for (int i = 0; i < na; i++)
		mask[axes[i]] = true;
	for (int d = dx->rank - 1; d >= 0; d--) {
		dstr[d] = mask[d] ? 0 : st;
		if (!mask[d])
			st *= dx->dims[d];
	}
	if (dx->numel == 0)
		return FT_OK;
	if (dx->dtype == FT_F32)
		reduce_grad_f32(dx->data, dy->data, dx->rank, dx->dims, dstr, (float)scale);
	else
		reduce_grad_f64(dx->data, dy->data, dx->rank, dx->dims, dstr, scale);
	return FT_OK;
}
