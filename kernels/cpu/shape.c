/*
 * kernels/cpu/shape.c - CPU kernels for shapes and data movement.
 *
 * Data movement works on any dtype: elements are moved as es-byte units
 * (es = the dtype's size), so one kernel serves float32, int64, bool and the
 * rest. Most ops reduce to one strided copy: the output, walked in row-major
 * order, reads the input at src + sum(i_k * sstr_k) (Slice, Expand, Transpose),
 * after merging axes that are contiguous in both. Transpose adds a tiled path
 * for permutations that move the input's innermost axis (NCHW -> NHWC).
 *
 * Index errors in data (Gather, ScatterND) are checked before anything is
 * written and returned as node errors; nothing reads out of bounds.
 */
#include "util.h"
#include "cpu/shape.h"

#include <string.h>

/* parallelise copies above this many bytes */
#define PAR_BYTES (1 << 18)

/* n elements of es bytes from in (element stride str, in elements) to contiguous o */
static void copy_row(char *o, const char *in, int64_t cnt, int64_t str, size_t es)
{
	if (str == 1) {
		memcpy(o, in, (size_t)cnt * es);
		return;
	}
#define COPY_ROW_T(T)                                                   \
	do {                                                            \
		T *o_ = (T *)(void *)o;                                 \
		const T *i_ = (const T *)(const void *)in;              \
		for (int64_t j = 0; j < cnt; j++)                       \
			o_[j] = i_[j * str];                            \
	} while (0)
	switch (es) {
	case 1: COPY_ROW_T(uint8_t); break;
	case 2: COPY_ROW_T(uint16_t); break;
	case 4: COPY_ROW_T(uint32_t); break;
	case 8: COPY_ROW_T(uint64_t); break;
	default:
		for (int64_t j = 0; j < cnt; j++)
			memcpy(o + j * (int64_t)es, in + j * str * (int64_t)es, es);
	}
#undef COPY_ROW_T
}

/* cnt copies of the es-byte value at v */
static void fill(char *o, int64_t cnt, const void *v, size_t es)
{
	const unsigned char *b = v;
	bool zero = true;
	for (size_t i = 0; i < es; i++)
		zero = zero && b[i] == 0;
	if (zero) {
		memset(o, 0, (size_t)cnt * es);
		return;
	}
	for (int64_t j = 0; j < cnt; j++)
		memcpy(o + j * (int64_t)es, v, es);
}

/*
 * Merges the axes of a strided walk where possible: drops size-1 axes and
 * joins an axis with the next when the outer stride is the inner one times the
 * inner size. Returns the new rank; d/s receive dims and strides.
 */
static int collapse(int rank, const int64_t *dims, const int64_t *sstr, int64_t *d, int64_t *s)
{
	int r = 0;
	for (int i = 0; i < rank; i++) {
		if (dims[i] == 1)
			continue;
		if (r > 0 && s[r - 1] == sstr[i] * dims[i]) {
			d[r - 1] *= dims[i];
			s[r - 1] = sstr[i];
			continue;
		}
		d[r] = dims[i];
		s[r] = sstr[i];
		r++;
	}
	return r;
}

/*
 * dst (contiguous, dims) = src walked with element strides sstr (signed, 0 for
 * broadcast): dst[i0,..] = src[sum i_k * sstr_k].
 */
static void copy_strided(void *dst, const void *src, int rank, const int64_t *dims, const int64_t *sstr, size_t es)
{
	int64_t d[FT_MAX_RANK], s[FT_MAX_RANK], numel = 1;
	for (int i = 0; i < rank; i++)
		numel *= dims[i];
	if (numel == 0)
		return;
	int r = collapse(rank, dims, sstr, d, s);
	if (r == 0) {
		memcpy(dst, src, es);
		return;
	}
	int64_t inner = d[r - 1], istr = s[r - 1], rows = numel / inner;
	char *out = dst;
	const char *in = src;
	#pragma omp parallel for if (numel * (int64_t)es > PAR_BYTES)
	for (int64_t row = 0; row < rows; row++) {
		int64_t off = 0, rem = row;
		for (int k = r - 2; k >= 0; k--) {
			off += (rem % d[k]) * s[k];
			rem /= d[k];
		}
		char *o = out + row * inner * (int64_t)es;
		const char *i = in + off * (int64_t)es;
		if (istr == 0)
			fill(o, inner, i, es);
		else
			copy_row(o, i, inner, istr, es);
	}
}

/* ---- Constant, Shape, ConstantOfShape, Range ---- */

ft_status ft_cpu_constant(const ft_graph *g, ft_node *n)
{
	ft_tensor *y = ft_out(g, n, 0);
	const ft_attr *a;

	if ((a = ft_attr_find(n, "value")) && a->kind == FT_ATTR_TENSOR) {
		const ft_tensor *t = &g->tensors[a->i];
		if (ft_tensor_bytes(y))
			memcpy(y->data, t->data, ft_tensor_bytes(y));
	} else if ((a = ft_attr_find(n, "value_float"))) {
		*(float *)y->data = ft_attr_float(n, "value_float", 0);
	} else if ((a = ft_attr_find(n, "value_int"))) {
		*(int64_t *)y->data = a->i;
	} else if ((a = ft_attr_find(n, "value_floats"))) {
		if (a->n)
			memcpy(y->data, a->floats, sizeof(float) * (size_t)a->n);
	} else if ((a = ft_attr_find(n, "value_ints"))) {
		if (a->n)
			memcpy(y->data, a->ints, sizeof(int64_t) * (size_t)a->n);
	}
	return FT_OK;
}

ft_status ft_cpu_shape(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	int64_t start, end, *o = y->data;

	ft_shape_range(n, x->rank, &start, &end);
	for (int64_t i = start; i < end; i++)
		o[i - start] = x->dims[i];
	return FT_OK;
}

ft_status ft_cpu_constant_of_shape(const ft_graph *g, ft_node *n)
{
	ft_tensor *y = ft_out(g, n, 0);
	const ft_attr *a = ft_attr_find(n, "value");
	static const unsigned char zero[16];
	const void *v = a ? g->tensors[a->i].data : zero;

	if (y->numel)
		fill(y->data, y->numel, v, ft_dtype_size(y->dtype));
	return FT_OK;
}

ft_status ft_cpu_range(const ft_graph *g, ft_node *n)
{
	const ft_tensor *s = ft_in(g, n, 0), *d = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0);
	int64_t cnt = y->numel;

	switch (y->dtype) {
	/* floats as numpy.arange (ONNX's reference) computes them: the step is the
	 * difference of the first two values in the output type */
	case FT_F32: {
		float *o = y->data, s0 = *(const float *)s->data, dl = *(const float *)d->data;
		float step = (float)((double)s0 + (double)dl) - s0;
		for (int64_t i = 0; i < cnt; i++)
			o[i] = s0 + (float)i * step;
		break;
	}
	case FT_F64: {
		double *o = y->data, s0 = *(const double *)s->data, dl = *(const double *)d->data;
		double step = (s0 + dl) - s0;
		for (int64_t i = 0; i < cnt; i++)
			o[i] = s0 + (double)i * step;
		break;
	}
	case FT_I16: case FT_I32: case FT_I64: {
		/* values stay between start and limit, which fit the type */
		int64_t s0 = ft_tensor_int(s, 0), dl = ft_tensor_int(d, 0);
		for (int64_t i = 0; i < cnt; i++) {
			int64_t v = s0 + i * dl;
			if (y->dtype == FT_I16)
				((int16_t *)y->data)[i] = (int16_t)v;
			else if (y->dtype == FT_I32)
				((int32_t *)y->data)[i] = (int32_t)v;
			else
				((int64_t *)y->data)[i] = v;
		}
		break;
	}
	default:
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(y->dtype));
	}
	return FT_OK;
}

/* ---- Reshape, Flatten, Squeeze, Unsqueeze: same bytes, new shape ---- */

ft_status ft_cpu_copy(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	size_t bytes = ft_tensor_bytes(y);

	if (bytes && y->data != x->data)
		memcpy(y->data, x->data, bytes);
	return FT_OK;
}

/* ---- Transpose ---- */

#define TILE 64 /* elements; 64x64 measured best on NCHW<->NHWC of float32 */

/*
 * The tiled 2-D transpose at the heart of a permutation that moves the input's
 * innermost axis: for each of `outer` blocks, out (A rows of stride oa, B
 * contiguous) = in (A contiguous, B of stride ib). Offsets of the outer blocks
 * come from the remaining axes (d, os, is over r axes).
 */
#define TRANSPOSE_TILED(T)                                                                              \
	do {                                                                                            \
		T *out_ = y;                                                                            \
		const T *in_ = x;                                                                       \
		_Pragma("omp parallel for collapse(2) if (numel * (int64_t)es > PAR_BYTES)")      \
		for (int64_t ob = 0; ob < outer; ob++) {                                                \
			for (int64_t a0 = 0; a0 < A; a0 += TILE) {                                      \
				int64_t oo = 0, io = 0, rem = ob;                                       \
				for (int k = r - 1; k >= 0; k--) {                                      \
					oo += (rem % d[k]) * os[k];                                     \
					io += (rem % d[k]) * is[k];                                     \
					rem /= d[k];                                                    \
				}                                                                       \
				int64_t a1 = a0 + TILE < A ? a0 + TILE : A;                             \
				for (int64_t b0 = 0; b0 < B; b0 += TILE) {                              \
					int64_t b1 = b0 + TILE < B ? b0 + TILE : B;                     \
					for (int64_t a = a0; a < a1; a++) {                             \
						T *o_ = out_ + oo + a * oa;                             \
						const T *i_ = in_ + io + a;                             \
						for (int64_t b = b0; b < b1; b++)                       \
							o_[b] = i_[b * ib];                             \
					}                                                               \
				}                                                                       \
			}                                                                               \
		}                                                                                       \
	} while (0)

void ft_cpu_permute(void *y, const void *x, int rank, const int64_t *xdims, const int *perm, size_t es)
{
	int64_t xs[FT_MAX_RANK], sstr[FT_MAX_RANK], ydims[FT_MAX_RANK], cd[FT_MAX_RANK], cs[FT_MAX_RANK];
	int64_t numel = 1;
	for (int i = 0; i < rank; i++) {
		ydims[i] = xdims[perm[i]];
		numel *= ydims[i];
	}
	if (numel == 0)
		return;
	ft_strides(rank, xdims, xs);
	for (int i = 0; i < rank; i++)
		sstr[i] = xs[perm[i]];
	int cr = collapse(rank, ydims, sstr, cd, cs);

	/* the input's innermost axis (stride 1) is somewhere other than last: tile */
	int j = -1;
	for (int i = 0; i < cr - 1; i++)
		if (cs[i] == 1)
			j = i;
	if (cr >= 2 && j >= 0 && cs[cr - 1] != 1 && (es == 1 || es == 2 || es == 4 || es == 8)) {
		int64_t ocs[FT_MAX_RANK], d[FT_MAX_RANK], os[FT_MAX_RANK], is[FT_MAX_RANK];
		int64_t A = cd[j], B = cd[cr - 1], oa, ib = cs[cr - 1], outer = 1;
		int r = 0;
		ft_strides(cr, cd, ocs);
		oa = ocs[j];
		for (int i = 0; i < cr - 1; i++) {
			if (i == j)
				continue;
			d[r] = cd[i];
			os[r] = ocs[i];
			is[r] = cs[i];
			outer *= cd[i];
			r++;
		}
		switch (es) {
		case 1: TRANSPOSE_TILED(uint8_t); break;
		case 2: TRANSPOSE_TILED(uint16_t); break;
		case 4: TRANSPOSE_TILED(uint32_t); break;
		default: TRANSPOSE_TILED(uint64_t); break;
		}
		return;
	}
	/* the innermost output axis is contiguous in the input (or nothing is): rows */
	copy_strided(y, x, rank, ydims, sstr, es);
}

ft_status ft_cpu_transpose(const ft_graph *g, ft_node *n)
{
	const ft_tensor *xt = ft_in(g, n, 0);
	ft_tensor *yt = ft_out(g, n, 0);
	int perm[FT_MAX_RANK];
	FT_TRY(ft_transpose_perm(g, n, xt->rank, perm));
	ft_cpu_permute(yt->data, xt->data, xt->rank, xt->dims, perm, ft_dtype_size(xt->dtype));
	return FT_OK;
}

/* ---- Concat, Split ---- */

ft_status ft_cpu_concat(const ft_graph *g, ft_node *n)
{
	ft_tensor *y = ft_out(g, n, 0);
	size_t es = ft_dtype_size(y->dtype);
	int64_t outer, inner;
	int axis = ft_axis_view(n, 0, y, &outer, &inner);
	inner *= (int64_t)es;
	if (y->numel == 0)
		return FT_OK;
	/* y is (outer, sum of the inputs' axis dims, inner) */
	int64_t row = y->dims[axis] * inner;
	#pragma omp parallel for if (y->numel * (int64_t)es > PAR_BYTES && outer > 1)
	for (int64_t o = 0; o < outer; o++) {
		char *dst = (char *)y->data + o * row;
		for (int i = 0; i < n->n_in; i++) {
			const ft_tensor *x = ft_in(g, n, i);
			int64_t chunk = x->dims[axis] * inner;
			if (chunk)
				memcpy(dst, (const char *)x->data + o * chunk, (size_t)chunk);
			dst += chunk;
		}
	}
	return FT_OK;
}

ft_status ft_cpu_split(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	size_t es = ft_dtype_size(x->dtype);
	int axis = (int)ft_attr_int(n, "axis", 0);
	if (axis < 0)
		axis += x->rank;
	int64_t outer = 1, inner = (int64_t)es;
	for (int i = 0; i < axis; i++)
		outer *= x->dims[i];
	for (int i = axis + 1; i < x->rank; i++)
		inner *= x->dims[i];
	if (x->numel == 0)
		return FT_OK;
	/* x is (outer, sum of the outputs' axis dims, inner); the sizes are the outputs' */
	int64_t row = x->dims[axis] * inner;
	#pragma omp parallel for if (x->numel * (int64_t)es > PAR_BYTES && outer > 1)
	for (int64_t o = 0; o < outer; o++) {
		const char *src = (const char *)x->data + o * row;
		for (int i = 0; i < n->n_out; i++) {
			ft_tensor *y = ft_out(g, n, i); /* inference made sure there is one */
			int64_t chunk = y->dims[axis] * inner;
			if (chunk)
				memcpy((char *)y->data + o * chunk, src, (size_t)chunk);
			src += chunk;
		}
	}
	return FT_OK;
}

/* ---- Slice ---- */

ft_status ft_cpu_slice(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	size_t es = ft_dtype_size(x->dtype);
	int64_t xs[FT_MAX_RANK], sstr[FT_MAX_RANK], off = 0;
	ft_slice_params p;

	FT_TRY(ft_slice_params_get(g, n, &p));
	if (y->numel == 0)
		return FT_OK;
	ft_strides(x->rank, x->dims, xs);
	for (int i = 0; i < x->rank; i++) {
		off += p.start[i] * xs[i];
		sstr[i] = p.step[i] * xs[i];
	}
	copy_strided(y->data, (const char *)x->data + off * (int64_t)es, x->rank, y->dims, sstr, es);
	return FT_OK;
}

/* ---- Gather ---- */

ft_status ft_cpu_gather(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *idx = ft_in(g, n, 1);
	ft_tensor *y = ft_out(g, n, 0);
	size_t es = ft_dtype_size(x->dtype);
	int axis = (int)ft_attr_int(n, "axis", 0);
	if (axis < 0)
		axis += x->rank;
	int64_t outer = 1, inner = (int64_t)es, dim = x->dims[axis], ni = idx->numel;
	char b[160];

	for (int i = 0; i < axis; i++)
		outer *= x->dims[i];
	for (int i = axis + 1; i < x->rank; i++)
		inner *= x->dims[i];
	/* x is (outer, dim, inner), y is (outer, ni, inner): check every index first */
	for (int64_t j = 0; j < ni; j++) {
		int64_t v = ft_tensor_int(idx, j);
		if (v < -dim || v >= dim)
			return ft_node_error(g, n, FT_EBADINPUT, "index %lld is out of range for axis %d of %s",
					     (long long)v, axis, ft_shape_str(x, b, sizeof(b)));
	}
	if (y->numel == 0)
		return FT_OK;
	const char *src = x->data;
	char *dst = y->data;
	#pragma omp parallel for if (y->numel * (int64_t)es > PAR_BYTES)
	for (int64_t t = 0; t < outer * ni; t++) {
		int64_t o = t / ni, j = t % ni;
		int64_t v = idx->dtype == FT_I64 ? ((const int64_t *)idx->data)[j] : ((const int32_t *)idx->data)[j];
		if (v < 0)
			v += dim;
		memcpy(dst + t * inner, src + (o * dim + v) * inner, (size_t)inner);
	}
	return FT_OK;
}

/* ---- Expand, Tile ---- */

ft_status ft_cpu_expand(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	int64_t sstr[FT_MAX_RANK];

	ft_broadcast_strides(x, y->rank, y->dims, sstr);
	copy_strided(y->data, x->data, y->rank, y->dims, sstr, ft_dtype_size(x->dtype));
	return FT_OK;
}

ft_status ft_cpu_tile(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	size_t es = ft_dtype_size(x->dtype);
	int r = x->rank;
	int64_t xs[FT_MAX_RANK];

	if (y->numel == 0)
		return FT_OK;
	if (r == 0) {
		memcpy(y->data, x->data, es);
		return FT_OK;
	}
	ft_strides(r, x->dims, xs);
	/* y row (all axes but the last) reads x row (o_k mod x_k); the last axis repeats it */
	int64_t w = x->dims[r - 1], wy = y->dims[r - 1], rows = y->numel / wy;
	char *out = y->data;
	const char *in = x->data;
	#pragma omp parallel for if (y->numel * (int64_t)es > PAR_BYTES)
	for (int64_t row = 0; row < rows; row++) {
		int64_t off = 0, rem = row;
		for (int k = r - 2; k >= 0; k--) {
			off += (rem % y->dims[k]) % x->dims[k] * xs[k];
			rem /= y->dims[k];
		}
		char *o = out + row * wy * (int64_t)es;
		for (int64_t c = 0; c < wy; c += w)
			memcpy(o + c * (int64_t)es, in + off * (int64_t)es, (size_t)w * es);
	}
	return FT_OK;
}

/* ---- Pad ---- */

/* stores v as one element of dtype t at dst */
static void store_scalar(ft_dtype t, double v, void *dst)
{
	switch (t) {
	case FT_F32: *(float *)dst = (float)v; break;
	case FT_F64: *(double *)dst = v; break;
	case FT_F16: *(uint16_t *)dst = ft_f32_to_f16((float)v); break;
	case FT_BF16: *(uint16_t *)dst = ft_f32_to_bf16((float)v); break;
	case FT_I8: *(int8_t *)dst = (int8_t)v; break;
	case FT_U8: *(uint8_t *)dst = (uint8_t)v; break;
	case FT_I16: *(int16_t *)dst = (int16_t)v; break;
	case FT_U16: *(uint16_t *)dst = (uint16_t)v; break;
	case FT_I32: *(int32_t *)dst = (int32_t)v; break;
	case FT_U32: *(uint32_t *)dst = (uint32_t)v; break;
	case FT_I64: *(int64_t *)dst = (int64_t)v; break;
	case FT_U64: *(uint64_t *)dst = (uint64_t)v; break;
	case FT_BOOL: *(uint8_t *)dst = v != 0; break;
	default: break;
	}
}

/* the input index output index o reads on an axis of size dim padded by begin, or -1 for the constant */
static inline int64_t pad_src(int64_t o, int64_t begin, int64_t dim, ft_pad_mode mode)
{
	int64_t i = o - begin;
	if (i >= 0 && i < dim)
		return i;
	switch (mode) {
	case FT_PAD_EDGE: return i < 0 ? 0 : dim - 1;
	case FT_PAD_REFLECT: return i < 0 ? -i : 2 * (dim - 1) - i; /* inference keeps pads < dim */
	default: return -1;
	}
}

ft_status ft_cpu_pad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *cv = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0);
	size_t es = ft_dtype_size(x->dtype);
	unsigned char value[16] = { 0 };
	int64_t xs[FT_MAX_RANK];
	ft_pad_params p;
	int r = x->rank;

	FT_TRY(ft_pad_params_get(g, n, &p));
	if (cv && cv->numel > 0)
		memcpy(value, cv->data, es);
	else if (!cv)
		store_scalar(x->dtype, ft_attr_float(n, "value", 0), value); /* before opset 11 */
	if (y->numel == 0)
		return FT_OK;
	if (r == 0) {
		memcpy(y->data, x->data, es);
		return FT_OK;
	}
	ft_strides(r, x->dims, xs);
	int64_t wy = y->dims[r - 1], wx = x->dims[r - 1], b = p.begin[r - 1], rows = y->numel / wy;
	/* the part of an output row that copies an input row: [lo, hi) */
	int64_t lo = b > 0 ? b : 0, hi = b + wx < wy ? b + wx : wy;
	char *out = y->data;
	const char *in = x->data;
	#pragma omp parallel for if (y->numel * (int64_t)es > PAR_BYTES)
	for (int64_t row = 0; row < rows; row++) {
		int64_t off = 0, rem = row;
		bool constant = false;
		for (int k = r - 2; k >= 0; k--) {
			int64_t s = pad_src(rem % y->dims[k], p.begin[k], x->dims[k], p.mode);
			rem /= y->dims[k];
			if (s < 0)
				constant = true;
			else
				off += s * xs[k];
		}
		char *o = out + row * wy * (int64_t)es;
		if (constant) {
			fill(o, wy, value, es);
			continue;
		}
		const char *xr = in + off * (int64_t)es;
		if (hi > lo)
			memcpy(o + lo * (int64_t)es, xr + (lo - b) * (int64_t)es, (size_t)(hi - lo) * es);
		for (int64_t c = 0; c < wy; c++) {
			if (c == lo && hi > lo)
				c = hi;
			if (c >= wy)
				break;
			int64_t s = pad_src(c, b, wx, p.mode);
			if (s < 0)
				memcpy(o + c * (int64_t)es, value, es);
			else
				memcpy(o + c * (int64_t)es, xr + s * (int64_t)es, es);
		}
	}
	return FT_OK;
}

/* ---- ScatterND ---- */

#define SCATTER_REDUCE(T)                                                                        \
	do {                                                                                     \
		T *o_ = (T *)(void *)dst;                                                        \
		const T *u_ = (const T *)(const void *)src;                                      \
		for (int64_t e = 0; e < slice; e++) {                                            \
			switch (red) {                                                           \
			case 'a': o_[e] += u_[e]; break;                                         \
			case 'm': o_[e] *= u_[e]; break;                                         \
			case 'x': o_[e] = o_[e] > u_[e] ? o_[e] : u_[e]; break;                  \
			default: o_[e] = o_[e] < u_[e] ? o_[e] : u_[e]; break;                   \
			}                                                                        \
		}                                                                                \
	} while (0)

ft_status ft_cpu_scatter_nd(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *idx = ft_in(g, n, 1), *u = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0);
	const char *rs = ft_attr_string(n, "reduction", "none");
	size_t es = ft_dtype_size(x->dtype);
	int64_t xs[FT_MAX_RANK], k = idx->dims[idx->rank - 1], nupd = 1, slice = 1;
	char b[160];
	/* 'n'one, 'a'dd, 'm'ul, ma'x', mi'n' */
	char red = strcmp(rs, "none") == 0 ? 'n' : strcmp(rs, "add") == 0 ? 'a' : strcmp(rs, "mul") == 0 ? 'm' :
		   strcmp(rs, "max") == 0 ? 'x' : 'i';

	for (int i = 0; i < idx->rank - 1; i++)
		nupd *= idx->dims[i];
	for (int i = (int)k; i < x->rank; i++)
		slice *= x->dims[i];
	ft_strides(x->rank, x->dims, xs);
	/* check every index before writing anything */
	for (int64_t t = 0; t < nupd * k; t++) {
		int64_t v = ft_tensor_int(idx, t), dim = x->dims[t % k];
		if (v < -dim || v >= dim)
			return ft_node_error(g, n, FT_EBADINPUT, "index %lld is out of range for axis %d of %s",
					     (long long)v, (int)(t % k), ft_shape_str(x, b, sizeof(b)));
	}
	if (y->numel && y->data != x->data)
		memcpy(y->data, x->data, ft_tensor_bytes(y));
	if (y->numel == 0 || slice == 0)
		return FT_OK;
	/* updates apply in order, so repeated indices behave as the reference does */
	for (int64_t t = 0; t < nupd; t++) {
		int64_t off = 0;
		for (int64_t c = 0; c < k; c++) {
			int64_t v = ft_tensor_int(idx, t * k + c);
			off += (v < 0 ? v + x->dims[c] : v) * xs[c];
		}
		char *dst = (char *)y->data + off * (int64_t)es;
		const char *src = (const char *)u->data + t * slice * (int64_t)es;
		if (red == 'n') {
			memcpy(dst, src, (size_t)slice * es);
			continue;
		}
		switch (x->dtype) {
		case FT_F32: SCATTER_REDUCE(float); break;
		case FT_F64: SCATTER_REDUCE(double); break;
		case FT_I32: SCATTER_REDUCE(int32_t); break;
		case FT_I64: SCATTER_REDUCE(int64_t); break;
		default:
			return ft_node_error(g, n, FT_EUNSUPPORTED, "reduction \"%s\" on dtype %s not supported", rs,
					     ft_dtype_name(x->dtype));
		}
	}
	return FT_OK;
}

/* ---- gradients ---- */

/*
 * SLICE_GRAD: dx (shape attr) = zeros, then dx[start + i*step] = dy[i] on every
 * axis. The positions a slice reads are distinct, so rows can be written in
 * parallel.
 */
ft_status ft_cpu_slice_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0);
	ft_tensor *dx = ft_out(g, n, 0);
	const int64_t *starts, *steps;
	int r = dx->rank;
	size_t es = ft_dtype_size(dx->dtype);
	int64_t xs[FT_MAX_RANK], dstr[FT_MAX_RANK], d[FT_MAX_RANK], s[FT_MAX_RANK], off = 0;

	ft_attr_ints(n, "starts", &starts);
	ft_attr_ints(n, "steps", &steps);
	if (dx->numel)
		memset(dx->data, 0, ft_tensor_bytes(dx));
	if (dy->numel == 0)
		return FT_OK;
	ft_strides(r, dx->dims, xs);
	for (int i = 0; i < r; i++) {
		off += starts[i] * xs[i];
		/* inference bounded (dy dim - 1) * step by the dim; a lone element needs no step */
		dstr[i] = (dy->dims[i] > 1 ? steps[i] : 1) * xs[i];
	}
	int cr = collapse(r, dy->dims, dstr, d, s);
	if (cr == 0) {
		memcpy((char *)dx->data + off * (int64_t)es, dy->data, es);
		return FT_OK;
	}
	/* dy walked in rows of its (collapsed) last axis, each written with stride s[cr-1] */
	int64_t inner = d[cr - 1], ostr = s[cr - 1], rows = dy->numel / inner;
	char *out = (char *)dx->data + off * (int64_t)es;
	const char *in = dy->data;
	#pragma omp parallel for if (dy->numel * (int64_t)es > PAR_BYTES)
	for (int64_t row = 0; row < rows; row++) {
		int64_t o = 0, rem = row;
		for (int k = cr - 2; k >= 0; k--) {
			o += (rem % d[k]) * s[k];
			rem /= d[k];
		}
		char *dst = out + o * (int64_t)es;
		const char *src = in + row * inner * (int64_t)es;
		if (ostr == 1)
			memcpy(dst, src, (size_t)inner * es);
		else
			for (int64_t j = 0; j < inner; j++)
				memcpy(dst + j * ostr * (int64_t)es, src + j * (int64_t)es, es);
	}
	return FT_OK;
}

/*
 * GATHER_GRAD: dx (shape attr, axis attr) = zeros, then dx[o, idx[j], :] +=
 * dy[o, j, :] for every j in order (a repeated index sums, deterministically;
 * the outer rows are independent and run in parallel).
 */
#define GATHER_GRAD_ADD(T)                                                                   \
	do {                                                                                 \
		T *dx_ = dx->data;                                                           \
		const T *dy_ = dy->data;                                                     \
		_Pragma("omp parallel for if (dy->numel > (1 << 16))")                       \
		for (int64_t o = 0; o < outer; o++) {                                        \
			for (int64_t j = 0; j < ni; j++) {                                   \
				int64_t v = ft_tensor_int(idx, j);                           \
				T *dst = dx_ + (o * dim + (v < 0 ? v + dim : v)) * inner;    \
				const T *src = dy_ + (o * ni + j) * inner;                   \
				for (int64_t e = 0; e < inner; e++)                          \
					dst[e] += src[e];                                    \
			}                                                                    \
		}                                                                            \
	} while (0)

ft_status ft_cpu_gather_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *idx = ft_in(g, n, 1);
	ft_tensor *dx = ft_out(g, n, 0);
	int axis = (int)ft_attr_int(n, "axis", 0);
	int64_t outer = 1, inner = 1, dim = dx->dims[axis], ni = idx->numel;
	char b[160];

	for (int i = 0; i < axis; i++)
		outer *= dx->dims[i];
	for (int i = axis + 1; i < dx->rank; i++)
		inner *= dx->dims[i];
	for (int64_t j = 0; j < ni; j++) {
		int64_t v = ft_tensor_int(idx, j);
		if (v < -dim || v >= dim)
			return ft_node_error(g, n, FT_EBADINPUT, "index %lld is out of range for axis %d of %s",
					     (long long)v, axis, ft_shape_str(dx, b, sizeof(b)));
	}
	if (dx->numel)
		memset(dx->data, 0, ft_tensor_bytes(dx));
	if (dy->numel == 0)
		return FT_OK;
	if (dx->dtype == FT_F64)
		GATHER_GRAD_ADD(double);
	else
		GATHER_GRAD_ADD(float);
	return FT_OK;
}
