/*
 * kernels/cpu/conv.c - Conv, MaxPool, AveragePool, GlobalAveragePool and
 * GlobalMaxPool on the CPU.
 *
 * Every op has a plain C reference kernel (the spec). 1D and 2D inputs are
 * run as 3D ones with leading unit axes (struct win3), so one loop nest serves
 * all spatial ranks. Conv additionally has a oneDNN fast path for f32, the
 * library PyTorch's CPU build uses; it is held to the reference by
 * tests/test_cpu_fast.c. The geometry (resolved auto_pad, output size) comes
 * from ft_conv_geometry(), the same function shape inference uses.
 */
#include "cpu/conv.h"
#include "cpu/cpu.h"

#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/util.h"
#include "shape_conv.h"

#if FT_HAVE_DNNL
#include <dnnl.h>
#endif

/* a window geometry promoted to three spatial axes (D, H, W) */
typedef struct win3 {
	int64_t in[3], out[3], k[3], s[3], d[3], p[3];
	int64_t isz, osz, ksz; /* elements of one input plane, output plane, kernel */
} win3;

static void win3_from(win3 *w, const ft_conv_geom *gm)
{
	int off = 3 - gm->nsp;
	for (int i = 0; i < 3; i++) {
		int j = i - off;
		w->in[i] = j >= 0 ? gm->in[j] : 1;
		w->out[i] = j >= 0 ? gm->out[j] : 1;
		w->k[i] = j >= 0 ? gm->kernel[j] : 1;
		w->s[i] = j >= 0 ? gm->stride[j] : 1;
		w->d[i] = j >= 0 ? gm->dil[j] : 1;
		w->p[i] = j >= 0 ? gm->pad_begin[j] : 0;
	}
	w->isz = w->in[0] * w->in[1] * w->in[2];
	w->osz = w->out[0] * w->out[1] * w->out[2];
	w->ksz = w->k[0] * w->k[1] * w->k[2];
}

/* ---- Conv: reference ---------------------------------------------------- */

/*
 * y is (N, C_out, OD, OH, OW), x is (N, C_in, ID, IH, IW),
 * w is (C_out, C_in / group, KD, KH, KW), b is (C_out) or NULL.
 * Accumulates in double: the reference is the oracle of the fast path.
 */
#define CONV_REF(NAME, T)                                                                               \
	static void NAME(T *y, const T *x, const T *w, const T *b, const ft_conv_geom *gm, const win3 *v) \
	{                                                                                               \
		int64_t ocg = gm->c_out / gm->group, icg = gm->w_cin;                                   \
		_Pragma("omp parallel for collapse(2) schedule(static)")                                \
		for (int64_t n = 0; n < gm->n; n++) {                                                   \
			for (int64_t oc = 0; oc < gm->c_out; oc++) {                                    \
				const T *xg = x + (n * gm->c_in + oc / ocg * icg) * v->isz;             \
				const T *wo = w + oc * icg * v->ksz;                                    \
				T *yo = y + (n * gm->c_out + oc) * v->osz;                              \
				for (int64_t od = 0; od < v->out[0]; od++)                              \
				for (int64_t oh = 0; oh < v->out[1]; oh++)                              \
				for (int64_t ow = 0; ow < v->out[2]; ow++) {                            \
					double acc = b ? (double)b[oc] : 0.0;                           \
					for (int64_t ic = 0; ic < icg; ic++)                            \
					for (int64_t kd = 0; kd < v->k[0]; kd++) {                      \
						int64_t id = od * v->s[0] - v->p[0] + kd * v->d[0];     \
						if (id < 0 || id >= v->in[0])                           \
							continue;                                       \
						for (int64_t kh = 0; kh < v->k[1]; kh++) {              \
							int64_t ih = oh * v->s[1] - v->p[1] + kh * v->d[1]; \
							if (ih < 0 || ih >= v->in[1])                   \
								continue;                               \
							const T *xr = xg + ic * v->isz + (id * v->in[1] + ih) * v->in[2]; \
							const T *wr = wo + ((ic * v->k[0] + kd) * v->k[1] + kh) * v->k[2]; \
							for (int64_t kw = 0; kw < v->k[2]; kw++) {      \
								int64_t iw = ow * v->s[2] - v->p[2] + kw * v->d[2]; \
								if (iw >= 0 && iw < v->in[2])           \
									acc += (double)xr[iw] * (double)wr[kw]; \
							}                                               \
						}                                                       \
					}                                                               \
					yo[(od * v->out[1] + oh) * v->out[2] + ow] = (T)acc;            \
				}                                                                       \
			}                                                                               \
		}                                                                                       \
	}

CONV_REF(conv_ref_f32, float)
CONV_REF(conv_ref_f64, double)

ft_status ft_cpu_conv_ref(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *w = ft_in(g, n, 1), *b = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0);
	ft_conv_geom gm;
	win3 v;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	win3_from(&v, &gm);
	switch (x->dtype) {
	case FT_F32:
		conv_ref_f32(y->data, x->data, w->data, b ? b->data : NULL, &gm, &v);
		return FT_OK;
	case FT_F64:
		conv_ref_f64(y->data, x->data, w->data, b ? b->data : NULL, &gm, &v);
		return FT_OK;
	default:
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
}

/* ---- Conv gradients: reference ------------------------------------------ */

/*
 * dx is (N, C_in, ID, IH, IW), dy is (N, C_out, OD, OH, OW), w as Conv's.
 * dx[n, ic, i] = sum over the output channels oc of ic's group and the taps
 * (o, k) with i = o * s - p + k * d of dy[n, oc, o] * w[oc, ic % icg, k].
 * Each (n, ic) plane is one thread's, accumulated in double in its scratch.
 */
#define CONV_GRAD_INPUT_REF(NAME, T)                                                                    \
	static void NAME(T *dx, const T *dy, const T *w, const ft_conv_geom *gm, const win3 *v,       \
			 double *scratch)                                                               \
	{                                                                                               \
		int64_t ocg = gm->c_out / gm->group, icg = gm->w_cin;                                   \
		_Pragma("omp parallel for collapse(2) schedule(static)")                                \
		for (int64_t n = 0; n < gm->n; n++) {                                                   \
			for (int64_t ic = 0; ic < gm->c_in; ic++) {                                     \
				double *acc = scratch + (size_t)ft_cpu_thread() * (size_t)v->isz;      \
				memset(acc, 0, sizeof(double) * (size_t)v->isz);                        \
				int64_t oc0 = ic / icg * ocg, icl = ic % icg;                           \
				for (int64_t oc = oc0; oc < oc0 + ocg; oc++) {                          \
					const T *dyo = dy + (n * gm->c_out + oc) * v->osz;              \
					const T *wk = w + (oc * icg + icl) * v->ksz;                    \
					for (int64_t od = 0; od < v->out[0]; od++)                      \
					for (int64_t oh = 0; oh < v->out[1]; oh++)                      \
					for (int64_t ow = 0; ow < v->out[2]; ow++) {                    \
						double gv = dyo[(od * v->out[1] + oh) * v->out[2] + ow]; \
						for (int64_t kd = 0; kd < v->k[0]; kd++) {              \
							int64_t id = od * v->s[0] - v->p[0] + kd * v->d[0]; \
							if (id < 0 || id >= v->in[0])                   \
								continue;                               \
							for (int64_t kh = 0; kh < v->k[1]; kh++) {      \
								int64_t ih = oh * v->s[1] - v->p[1] + kh * v->d[1]; \
								if (ih < 0 || ih >= v->in[1])           \
									continue;                       \
								double *ar = acc + (id * v->in[1] + ih) * v->in[2]; \
								const T *wr = wk + (kd * v->k[1] + kh) * v->k[2]; \
								for (int64_t kw = 0; kw < v->k[2]; kw++) { \
									int64_t iw = ow * v->s[2] - v->p[2] + kw * v->d[2]; \
									if (iw >= 0 && iw < v->in[2])   \
										ar[iw] += gv * (double)wr[kw]; \
								}                                       \
							}                                               \
						}                                                       \
					}                                                               \
				}                                                                       \
				T *dxp = dx + (n * gm->c_in + ic) * v->isz;                             \
				for (int64_t i = 0; i < v->isz; i++)                                    \
					dxp[i] = (T)acc[i];                                             \
			}                                                                               \
		}                                                                                       \
	}

/*
 * dw is (C_out, C_in / group, KD, KH, KW), db (C_out) or NULL; dy and x as
 * above. dw[oc, icl, k] = sum over n and o of dy[n, oc, o] * x[n, ic, o * s - p + k * d]
 * with ic = oc's group * icg + icl; db[oc] = sum over n and o of dy[n, oc, o].
 */
#define CONV_GRAD_WEIGHT_REF(NAME, T)                                                                   \
	static void NAME(T *dw, T *db, const T *dy, const T *x, const ft_conv_geom *gm, const win3 *v) \
	{                                                                                               \
		int64_t ocg = gm->c_out / gm->group, icg = gm->w_cin;                                   \
		_Pragma("omp parallel for collapse(2) schedule(static)")                                \
		for (int64_t oc = 0; oc < gm->c_out; oc++) {                                            \
			for (int64_t icl = 0; icl < icg; icl++) {                                       \
				int64_t ic = oc / ocg * icg + icl;                                      \
				for (int64_t kd = 0; kd < v->k[0]; kd++)                                \
				for (int64_t kh = 0; kh < v->k[1]; kh++)                                \
				for (int64_t kw = 0; kw < v->k[2]; kw++) {                              \
					double acc = 0;                                                 \
					for (int64_t n = 0; n < gm->n; n++) {                           \
						const T *dyo = dy + (n * gm->c_out + oc) * v->osz;      \
						const T *xp = x + (n * gm->c_in + ic) * v->isz;         \
						for (int64_t od = 0; od < v->out[0]; od++) {            \
							int64_t id = od * v->s[0] - v->p[0] + kd * v->d[0]; \
							if (id < 0 || id >= v->in[0])                   \
								continue;                               \
							for (int64_t oh = 0; oh < v->out[1]; oh++) {    \
								int64_t ih = oh * v->s[1] - v->p[1] + kh * v->d[1]; \
								if (ih < 0 || ih >= v->in[1])           \
									continue;                       \
								const T *xr = xp + (id * v->in[1] + ih) * v->in[2]; \
								const T *gr = dyo + (od * v->out[1] + oh) * v->out[2]; \
								for (int64_t ow = 0; ow < v->out[2]; ow++) { \
									int64_t iw = ow * v->s[2] - v->p[2] + kw * v->d[2]; \
									if (iw >= 0 && iw < v->in[2])   \
										acc += (double)gr[ow] * (double)xr[iw]; \
								}                                       \
							}                                               \
						}                                                       \
					}                                                               \
					dw[(oc * icg + icl) * v->ksz + (kd * v->k[1] + kh) * v->k[2] + kw] = (T)acc; \
				}                                                                       \
			}                                                                               \
		}                                                                                       \
		if (!db)                                                                                \
			return;                                                                         \
		_Pragma("omp parallel for schedule(static)")                                            \
		for (int64_t oc = 0; oc < gm->c_out; oc++) {                                            \
			double acc = 0;                                                                 \
			for (int64_t n = 0; n < gm->n; n++) {                                           \
				const T *dyo = dy + (n * gm->c_out + oc) * v->osz;                      \
				for (int64_t i = 0; i < v->osz; i++)                                    \
					acc += (double)dyo[i];                                          \
			}                                                                               \
			db[oc] = (T)acc;                                                                \
		}                                                                                       \
	}

CONV_GRAD_INPUT_REF(conv_grad_input_ref_f32, float)
CONV_GRAD_INPUT_REF(conv_grad_input_ref_f64, double)
CONV_GRAD_WEIGHT_REF(conv_grad_weight_ref_f32, float)
CONV_GRAD_WEIGHT_REF(conv_grad_weight_ref_f64, double)

static size_t grad_input_ref_scratch(const ft_conv_geom *gm)
{
	size_t plane = 1;
	for (int i = 0; i < gm->nsp; i++)
		plane *= (size_t)gm->in[i];
	return sizeof(double) * plane * (size_t)ft_cpu_threads();
}

/* the reference kernels' scratch: only the input gradient has any */
static ft_status ref_memory(const ft_graph *g, const ft_node *n, size_t *scratch)
{
	ft_conv_geom gm;
	*scratch = 0;
	if (n->op != FT_OP_CONV_GRAD_INPUT)
		return FT_OK;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	*scratch = grad_input_ref_scratch(&gm);
	return FT_OK;
}

ft_status ft_cpu_conv_grad_input_ref(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *w = ft_in(g, n, 1);
	ft_tensor *dx = ft_out(g, n, 0);
	ft_conv_geom gm;
	win3 v;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	win3_from(&v, &gm);
	/* one input plane of double accumulators per thread */
	double *scratch = ft_cpu_scratch(grad_input_ref_scratch(&gm));
	switch (dy->dtype) {
	case FT_F32: conv_grad_input_ref_f32(dx->data, dy->data, w->data, &gm, &v, scratch); return FT_OK;
	case FT_F64: conv_grad_input_ref_f64(dx->data, dy->data, w->data, &gm, &v, scratch); return FT_OK;
	default:
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(dy->dtype));
	}
}

ft_status ft_cpu_conv_grad_weight_ref(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1);
	ft_tensor *dw = ft_out(g, n, 0), *db = ft_out(g, n, 1);
	ft_conv_geom gm;
	win3 v;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	win3_from(&v, &gm);
	switch (dy->dtype) {
	case FT_F32:
		conv_grad_weight_ref_f32(dw->data, db ? db->data : NULL, dy->data, x->data, &gm, &v);
		return FT_OK;
	case FT_F64:
		conv_grad_weight_ref_f64(dw->data, db ? db->data : NULL, dy->data, x->data, &gm, &v);
		return FT_OK;
	default:
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(dy->dtype));
	}
}

/* ---- Conv: oneDNN fast path --------------------------------------------- */

static atomic_ulong param_generation = 1;

void ft_cpu_conv_params_changed(void)
{
	atomic_fetch_add(&param_generation, 1);
}

#if FT_HAVE_DNNL

#include <pthread.h>

static dnnl_engine_t dnnl_eng;
static dnnl_stream_t dnnl_strm;
static pthread_once_t dnnl_once = PTHREAD_ONCE_INIT;
static bool dnnl_ok;
/*
 * Every primitive is made with a user scratchpad: oneDNN then allocates no
 * scratchpad of its own, the node reports the size (ft_cpu_conv_memory) and
 * gets it from the executor's planned workspace.
 */
static dnnl_primitive_attr_t pad_attr;

static void dnnl_init(void)
{
	if (dnnl_primitive_attr_create(&pad_attr) != dnnl_success)
		return;
	if (dnnl_primitive_attr_set_scratchpad_mode(pad_attr, dnnl_scratchpad_mode_user) != dnnl_success ||
	    dnnl_engine_create(&dnnl_eng, dnnl_cpu, 0) != dnnl_success)
		return;
	if (dnnl_stream_create(&dnnl_strm, dnnl_eng, dnnl_stream_default_flags) != dnnl_success) {
		dnnl_engine_destroy(dnnl_eng);
		return;
	}
	dnnl_ok = true;
}

/*
 * What a Conv node keeps between calls (n->extra).
 *
 * Layouts. The executor's tensors are plain (N, C, spatial...). With plain
 * src/dst oneDNN 2.6 falls back to im2col + gemm for most shapes, 2-10x
 * slower than its direct kernels on channel-blocked layouts (aBcd16b). So the
 * primitive is created with format "any" for src, weights and dst, as
 * PyTorch's mkldnn_convolution does: src is reordered into the blocked layout
 * and dst back out on every call (into per-thread scratch, so the blocked
 * copies cost no memory per node); the weights are reordered once and kept
 * (conv.h). When oneDNN picks plain src/dst (first layers with 3 input
 * channels do) the reorders are skipped.
 */
/* What every Conv-family node keeps first in n->extra: what its primitives were built for. */
typedef struct conv_head {
	ft_cpu_extra hdr;          /* first: ft_cpu_release() calls hdr.release */
	ft_conv_geom gm;           /* the geometry the primitives were built for */
	bool has_bias;             /* Conv: has a bias; CONV_GRAD_WEIGHT: makes db */
	bool use_ref;              /* oneDNN has no implementation: run the reference */
} conv_head;

typedef struct conv_dnnl {
	conv_head h;               /* first */
	dnnl_primitive_t conv;
	dnnl_memory_t src_user, dst_user, bias;  /* the executor's plain tensors */
	dnnl_memory_t src, dst;    /* what the primitive reads/writes (== *_user if plain) */
	dnnl_primitive_t src_reorder, dst_reorder; /* NULL when not needed */
	size_t src_bytes, dst_bytes; /* scratch for blocked src/dst, 0 if plain */
	dnnl_memory_t pad;         /* the primitive's scratchpad (NULL if it needs none) */
	size_t pad_bytes;
	dnnl_memory_t wts_user;    /* the weight tensor's own bytes, (g, oc/g, ic/g, k...) */
	dnnl_memory_t wts;         /* the layout the primitive wants (== wts_user if plain) */
	dnnl_primitive_t wts_reorder; /* NULL when no reorder is needed */
	const void *wts_key;       /* data pointer the reordered copy was made from */
	unsigned long wts_gen;     /* param_generation when it was made */
} conv_dnnl;

static void conv_dnnl_free(ft_cpu_extra *e)
{
	conv_dnnl *c = (conv_dnnl *)e;
	dnnl_primitive_t prims[] = { c->conv, c->src_reorder, c->dst_reorder, c->wts_reorder };
	for (size_t i = 0; i < FT_ARRAY_LEN(prims); i++)
		if (prims[i])
			dnnl_primitive_destroy(prims[i]);
	dnnl_memory_t mems[] = { c->src_user, c->dst_user, c->bias, c->wts_user, c->pad,
				 c->src != c->src_user ? c->src : NULL, c->dst != c->dst_user ? c->dst : NULL,
				 c->wts != c->wts_user ? c->wts : NULL };
	for (size_t i = 0; i < FT_ARRAY_LEN(mems); i++)
		if (mems[i])
			dnnl_memory_destroy(mems[i]);
	free(c);
}

bool ft_cpu_conv_has_fast_path(void)
{
	pthread_once(&dnnl_once, dnnl_init);
	return dnnl_ok;
}

static const dnnl_format_tag_t plain_act[] = { dnnl_ncw, dnnl_nchw, dnnl_ncdhw };
static const dnnl_format_tag_t plain_wts[] = { dnnl_oiw, dnnl_oihw, dnnl_oidhw };
static const dnnl_format_tag_t plain_gwts[] = { dnnl_goiw, dnnl_goihw, dnnl_goidhw };

#define DNNL_TRY(call)                                       \
	do {                                                 \
		dnnl_status_t s_ = (call);                   \
		if (s_ != dnnl_success) {                    \
			what = #call;                        \
			dst = s_;                            \
			goto out_fail;                       \
		}                                            \
	} while (0)

/*
 * Makes *mem for the layout the primitive wants (md) next to the user's plain
 * layout (user): the same object when they are equal, else a handle-less one
 * and the reorder between them (from user to md if in, else back).
 */
static dnnl_status_t layout_pair(dnnl_memory_t *mem, dnnl_primitive_t *reorder, dnnl_memory_t user,
				 const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *md, bool in,
				 void *handle)
{
	dnnl_primitive_desc_t rpd;
	dnnl_status_t s;
	if (dnnl_memory_desc_equal(md, user_md)) {
		*mem = user;
		return dnnl_success;
	}
	if ((s = dnnl_memory_create(mem, md, dnnl_eng, handle)) != dnnl_success)
		return s;
	if (in)
		s = dnnl_reorder_primitive_desc_create(&rpd, user_md, dnnl_eng, md, dnnl_eng, pad_attr);
	else
		s = dnnl_reorder_primitive_desc_create(&rpd, md, dnnl_eng, user_md, dnnl_eng, pad_attr);
	if (s != dnnl_success)
		return s;
	/* f32 layout reorders need no scratchpad; one that did would need a
	 * workspace of its own: take the reference path instead */
	if (dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(rpd, dnnl_query_scratchpad_md, 0)) != 0)
		s = dnnl_unimplemented;
	else
		s = dnnl_primitive_create(reorder, rpd);
	dnnl_primitive_desc_destroy(rpd);
	return s;
}

/* The scratchpad memory of primitive descriptor pd (handle set per run), NULL when it needs none. */
static dnnl_status_t scratchpad_of(dnnl_primitive_desc_t pd, dnnl_memory_t *pad, size_t *bytes)
{
	const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
	*bytes = md ? ft_align64(dnnl_memory_desc_get_size(md)) : 0;
	*pad = NULL;
	return *bytes ? dnnl_memory_create(pad, md, dnnl_eng, DNNL_MEMORY_NONE) : dnnl_success;
}

/* The memory descriptors and window arrays of a convolution of geometry gm. */
typedef struct conv_mds {
	dnnl_memory_desc_t x, y;          /* plain activations, the executor's layout */
	dnnl_memory_desc_t x_any, y_any, w_any;
	dnnl_memory_desc_t w_user;        /* plain weights, (g,) oc, ic, k... */
	dnnl_memory_desc_t b;             /* (C_out) */
	dnnl_dims_t strides, dil, pl, pr;
} conv_mds;

static dnnl_status_t conv_mds_init(conv_mds *m, const ft_conv_geom *gm)
{
	int nsp = gm->nsp, nd = nsp + 2;
	dnnl_dims_t xd, yd, wd, bd;
	dnnl_status_t s;

	xd[0] = yd[0] = gm->n;
	xd[1] = gm->c_in;
	yd[1] = gm->c_out;
	for (int i = 0; i < nsp; i++) {
		xd[2 + i] = gm->in[i];
		yd[2 + i] = gm->out[i];
		m->strides[i] = gm->stride[i];
		m->dil[i] = gm->dil[i] - 1; /* oneDNN counts the gaps */
		m->pl[i] = gm->pad_begin[i];
		m->pr[i] = gm->pad_end[i];
	}
	bool grouped = gm->group > 1;
	int wnd = nd + (grouped ? 1 : 0), k = 0;
	if (grouped)
		wd[k++] = gm->group;
	wd[k++] = gm->c_out / gm->group;
	wd[k++] = gm->w_cin;
	for (int i = 0; i < nsp; i++)
		wd[k++] = gm->kernel[i];
	bd[0] = gm->c_out;
	if ((s = dnnl_memory_desc_init_by_tag(&m->x, nd, xd, dnnl_f32, plain_act[nsp - 1])) ||
	    (s = dnnl_memory_desc_init_by_tag(&m->y, nd, yd, dnnl_f32, plain_act[nsp - 1])) ||
	    (s = dnnl_memory_desc_init_by_tag(&m->x_any, nd, xd, dnnl_f32, dnnl_format_tag_any)) ||
	    (s = dnnl_memory_desc_init_by_tag(&m->y_any, nd, yd, dnnl_f32, dnnl_format_tag_any)) ||
	    (s = dnnl_memory_desc_init_by_tag(&m->w_any, wnd, wd, dnnl_f32, dnnl_format_tag_any)) ||
	    (s = dnnl_memory_desc_init_by_tag(&m->w_user, wnd, wd, dnnl_f32,
					      grouped ? plain_gwts[nsp - 1] : plain_wts[nsp - 1])) ||
	    (s = dnnl_memory_desc_init_by_tag(&m->b, 1, bd, dnnl_f32, dnnl_x)))
		return s;
	return dnnl_success;
}

typedef ft_status (*conv_build_fn)(const ft_graph *g, ft_node *n, void *extra, const ft_conv_geom *gm,
				   bool weights, bool has_bias);

/*
 * n's extra (size bytes, starting with a conv_head) for its current geometry:
 * the cached one when it was built for the same geometry and bias, else a new
 * one made by build (a re-specialised graph drops the old one).
 */
static ft_status conv_extra(const ft_graph *g, ft_node *n, bool weights, bool has_bias, size_t size,
			    void (*release)(ft_cpu_extra *), conv_build_fn build, void **out)
{
	ft_conv_geom gm;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	conv_head *h = n->extra;
	if (h && (memcmp(&h->gm, &gm, sizeof(gm)) != 0 || h->has_bias != has_bias))
		ft_cpu_release(n);
	if (!n->extra) {
		h = ft_xcalloc(1, size);
		h->hdr.release = release;
		h->gm = gm;
		h->has_bias = has_bias;
		n->extra = h;
		ft_status st = build(g, n, h, &gm, weights, has_bias);
		if (st != FT_OK) {
			ft_cpu_release(n);
			return st;
		}
	}
	*out = n->extra;
	return FT_OK;
}

/*
 * Builds the primitive for geometry gm. On a oneDNN "unimplemented" the node
 * falls back to the reference (use_ref); other failures are errors.
 */
static ft_status conv_dnnl_build(const ft_graph *g, ft_node *n, void *extra, const ft_conv_geom *gm,
				 bool weights, bool has_bias)
{
	conv_dnnl *c = extra;
	(void)weights;
	const char *what = "";
	dnnl_status_t dst = dnnl_success;
	dnnl_primitive_desc_t pd = NULL;
	dnnl_convolution_desc_t cd;
	conv_mds m;

	DNNL_TRY(conv_mds_init(&m, gm));
	/* forward_training, as PyTorch asks: oneDNN then picks channel-blocked
	 * src/dst (nChw16c), which reorder to and from nchw in half the time of
	 * the nhwc that forward_inference picks (measured: 1x1 and depthwise
	 * layers 1.6-2x faster end to end; the others equal) */
	DNNL_TRY(dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_training, dnnl_convolution_direct,
							    &m.x_any, &m.w_any, has_bias ? &m.b : NULL, &m.y_any,
							    m.strides, m.dil, m.pl, m.pr));
	dnnl_status_t s = dnnl_primitive_desc_create(&pd, &cd, pad_attr, dnnl_eng, NULL);
	if (s == dnnl_unimplemented) {
		c->h.use_ref = true;
		return FT_OK;
	}
	DNNL_TRY(s);
	DNNL_TRY(dnnl_primitive_create(&c->conv, pd));
	DNNL_TRY(scratchpad_of(pd, &c->pad, &c->pad_bytes));

	const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
	const dnnl_memory_desc_t *dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
	const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
	DNNL_TRY(dnnl_memory_create(&c->src_user, &m.x, dnnl_eng, DNNL_MEMORY_NONE));
	DNNL_TRY(dnnl_memory_create(&c->dst_user, &m.y, dnnl_eng, DNNL_MEMORY_NONE));
	DNNL_TRY(dnnl_memory_create(&c->wts_user, &m.w_user, dnnl_eng, DNNL_MEMORY_NONE));
	if (has_bias)
		DNNL_TRY(dnnl_memory_create(&c->bias, &m.b, dnnl_eng, DNNL_MEMORY_NONE));
	DNNL_TRY(layout_pair(&c->src, &c->src_reorder, c->src_user, &m.x, smd, true, DNNL_MEMORY_NONE));
	DNNL_TRY(layout_pair(&c->dst, &c->dst_reorder, c->dst_user, &m.y, dmd, false, DNNL_MEMORY_NONE));
	DNNL_TRY(layout_pair(&c->wts, &c->wts_reorder, c->wts_user, &m.w_user, wmd, true, DNNL_MEMORY_ALLOCATE));
	if (c->src_reorder)
		c->src_bytes = ft_align64(dnnl_memory_desc_get_size(smd));
	if (c->dst_reorder)
		c->dst_bytes = ft_align64(dnnl_memory_desc_get_size(dmd));
	dnnl_primitive_desc_destroy(pd);
	return FT_OK;

out_fail:
	if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (dst == dnnl_unimplemented) {
		c->h.use_ref = true; /* what was made is freed with the node */
		return FT_OK;
	}
	return ft_node_error(g, n, FT_ERUNTIME, "oneDNN: %s failed (status %d)", what, (int)dst);
}

/*
 * Points user at w's data and, when a reorder into oneDNN's layout exists,
 * runs it unless the copy in to was made from the same data pointer in the
 * same parameter generation (PARAM/CONST weights; others every call).
 */
static dnnl_status_t refresh_weights(dnnl_primitive_t reorder, dnnl_memory_t user, dnnl_memory_t to,
				     const ft_tensor *w, const void **key, unsigned long *gen)
{
	dnnl_status_t s = dnnl_memory_set_data_handle(user, w->data);
	if (s != dnnl_success || !reorder)
		return s;
	unsigned long now = atomic_load(&param_generation);
	bool stable = w->kind == FT_TK_PARAM || w->kind == FT_TK_CONST;
	if (stable && *key == w->data && *gen == now)
		return dnnl_success;
	dnnl_exec_arg_t rargs[] = { { DNNL_ARG_FROM, user }, { DNNL_ARG_TO, to } };
	s = dnnl_primitive_execute(reorder, dnnl_strm, 2, rargs);
	if (s == dnnl_success) {
		*key = stable ? w->data : NULL;
		*gen = now;
	}
	return s;
}

/* n's primitive for its current geometry, built on first use (or by the plan) */
static ft_status conv_fwd_extra(const ft_graph *g, ft_node *n, conv_dnnl **out)
{
	return conv_extra(g, n, false, ft_in(g, n, 2) != NULL, sizeof(conv_dnnl), conv_dnnl_free, conv_dnnl_build,
			  (void **)out);
}

static ft_status conv_dnnl_run(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *w = ft_in(g, n, 1), *b = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0);
	conv_dnnl *c;
	const char *what = "";
	dnnl_status_t dst = dnnl_success;

	FT_TRY(conv_fwd_extra(g, n, &c));
	if (c->h.use_ref)
		return ft_cpu_conv_ref(g, n);

	/* weights: reorder when the cached copy may be stale */
	DNNL_TRY(refresh_weights(c->wts_reorder, c->wts_user, c->wts, w, &c->wts_key, &c->wts_gen));
	DNNL_TRY(dnnl_memory_set_data_handle(c->src_user, x->data));
	DNNL_TRY(dnnl_memory_set_data_handle(c->dst_user, y->data));
	if (c->src_bytes + c->dst_bytes + c->pad_bytes) {
		char *scratch = ft_cpu_scratch(c->src_bytes + c->dst_bytes + c->pad_bytes);
		if (c->src_reorder)
			DNNL_TRY(dnnl_memory_set_data_handle(c->src, scratch));
		if (c->dst_reorder)
			DNNL_TRY(dnnl_memory_set_data_handle(c->dst, scratch + c->src_bytes));
		if (c->pad)
			DNNL_TRY(dnnl_memory_set_data_handle(c->pad, scratch + c->src_bytes + c->dst_bytes));
	}
	if (c->src_reorder) {
		dnnl_exec_arg_t rargs[] = { { DNNL_ARG_FROM, c->src_user }, { DNNL_ARG_TO, c->src } };
		DNNL_TRY(dnnl_primitive_execute(c->src_reorder, dnnl_strm, 2, rargs));
	}
	dnnl_exec_arg_t args[5] = {
		{ DNNL_ARG_SRC, c->src },
		{ DNNL_ARG_WEIGHTS, c->wts },
		{ DNNL_ARG_DST, c->dst },
	};
	int nargs = 3;
	if (c->pad)
		args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, c->pad };
	if (b) {
		DNNL_TRY(dnnl_memory_set_data_handle(c->bias, b->data));
		args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, c->bias };
	}
	DNNL_TRY(dnnl_primitive_execute(c->conv, dnnl_strm, nargs, args));
	if (c->dst_reorder) {
		dnnl_exec_arg_t rargs[] = { { DNNL_ARG_FROM, c->dst }, { DNNL_ARG_TO, c->dst_user } };
		DNNL_TRY(dnnl_primitive_execute(c->dst_reorder, dnnl_strm, 2, rargs));
	}
	DNNL_TRY(dnnl_stream_wait(dnnl_strm));
	return FT_OK;

out_fail:
	return ft_node_error(g, n, FT_ERUNTIME, "oneDNN: %s failed (status %d)", what, (int)dst);
}

ft_status ft_cpu_conv(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	if (x->dtype == FT_F32 && ft_cpu_conv_has_fast_path())
		return conv_dnnl_run(g, n);
	return ft_cpu_conv_ref(g, n);
}

/* ---- Conv gradients: oneDNN fast path ----------------------------------- */

/*
 * The backward primitives follow the forward's approach: format "any"
 * everywhere, the primitive descriptor hinted with the forward one (oneDNN
 * then picks the same blocked layouts the forward uses), activations
 * reordered into per-thread scratch and back on every call.
 *
 * One activation a backward primitive reads or writes: the executor's plain
 * buffer (user) and, when oneDNN wants another layout, the copy it works on
 * (in scratch) and the reorder between them.
 */
typedef struct dnnl_act {
	int arg;                    /* DNNL_ARG_* */
	bool in;                    /* reordered before the primitive, else after */
	dnnl_memory_t user, mem;    /* mem == user when no reorder is needed */
	dnnl_primitive_t reorder;
	size_t bytes;               /* scratch for mem, 0 when not reordered */
} dnnl_act;

/* What a CONV_GRAD_INPUT or CONV_GRAD_WEIGHT node keeps in n->extra. */
typedef struct conv_bwd_dnnl {
	conv_head h;                /* first */
	dnnl_primitive_t prim;
	int n_act;
	dnnl_act act[3];            /* grad input: dy, dx; grad weight: dy, x, dw */
	/* grad input: the weights, kept reordered as the forward keeps them */
	dnnl_memory_t wts_user, wts;
	dnnl_primitive_t wts_reorder;
	const void *wts_key;
	unsigned long wts_gen;
	dnnl_memory_t bias;         /* grad weight: db, plain (C_out) */
	dnnl_memory_t pad;          /* the primitive's scratchpad (NULL if it needs none) */
	size_t pad_bytes;
} conv_bwd_dnnl;

static void conv_bwd_free(ft_cpu_extra *e)
{
	conv_bwd_dnnl *c = (conv_bwd_dnnl *)e;
	for (int i = 0; i < c->n_act; i++) {
		dnnl_act *a = &c->act[i];
		if (a->reorder)
			dnnl_primitive_destroy(a->reorder);
		if (a->mem && a->mem != a->user)
			dnnl_memory_destroy(a->mem);
		if (a->user)
			dnnl_memory_destroy(a->user);
	}
	if (c->prim)
		dnnl_primitive_destroy(c->prim);
	if (c->wts_reorder)
		dnnl_primitive_destroy(c->wts_reorder);
	if (c->wts && c->wts != c->wts_user)
		dnnl_memory_destroy(c->wts);
	if (c->wts_user)
		dnnl_memory_destroy(c->wts_user);
	if (c->bias)
		dnnl_memory_destroy(c->bias);
	if (c->pad)
		dnnl_memory_destroy(c->pad);
	free(c);
}

static dnnl_status_t act_init(conv_bwd_dnnl *c, int arg, bool in, const dnnl_memory_desc_t *user_md,
			      const dnnl_memory_desc_t *md)
{
	dnnl_act *a = &c->act[c->n_act++];
	dnnl_status_t s;
	a->arg = arg;
	a->in = in;
	if ((s = dnnl_memory_create(&a->user, user_md, dnnl_eng, DNNL_MEMORY_NONE)) != dnnl_success)
		return s;
	if ((s = layout_pair(&a->mem, &a->reorder, a->user, user_md, md, in, DNNL_MEMORY_NONE)) != dnnl_success)
		return s;
	if (a->reorder)
		a->bytes = ft_align64(dnnl_memory_desc_get_size(md));
	return dnnl_success;
}

static ft_status conv_bwd_build(const ft_graph *g, ft_node *n, void *extra, const ft_conv_geom *gm,
				bool weights, bool has_bias)
{
	conv_bwd_dnnl *c = extra;
	const char *what = "";
	dnnl_status_t dst = dnnl_success, s;
	dnnl_primitive_desc_t hint = NULL, pd = NULL;
	dnnl_convolution_desc_t fd, bd;
	conv_mds m;

	DNNL_TRY(conv_mds_init(&m, gm));
	const dnnl_memory_desc_t *bmd = has_bias ? &m.b : NULL;
	DNNL_TRY(dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
							    &m.x_any, &m.w_any, bmd, &m.y_any, m.strides, m.dil, m.pl,
							    m.pr));
	s = dnnl_primitive_desc_create(&hint, &fd, NULL, dnnl_eng, NULL);
	if (s == dnnl_unimplemented)
		goto out_ref;
	DNNL_TRY(s);
	if (weights)
		DNNL_TRY(dnnl_dilated_convolution_backward_weights_desc_init(&bd, dnnl_convolution_direct, &m.x_any,
									     &m.w_any, bmd, &m.y_any, m.strides,
									     m.dil, m.pl, m.pr));
	else
		DNNL_TRY(dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &m.x_any,
									  &m.w_any, &m.y_any, m.strides, m.dil,
									  m.pl, m.pr));
	s = dnnl_primitive_desc_create(&pd, &bd, pad_attr, dnnl_eng, hint);
	if (s == dnnl_unimplemented)
		goto out_ref;
	DNNL_TRY(s);
	DNNL_TRY(dnnl_primitive_create(&c->prim, pd));
	DNNL_TRY(scratchpad_of(pd, &c->pad, &c->pad_bytes));

	DNNL_TRY(act_init(c, DNNL_ARG_DIFF_DST, true, &m.y, dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0)));
	if (weights) {
		DNNL_TRY(act_init(c, DNNL_ARG_SRC, true, &m.x, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0)));
		DNNL_TRY(act_init(c, DNNL_ARG_DIFF_WEIGHTS, false, &m.w_user,
				  dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0)));
		if (has_bias)
			DNNL_TRY(dnnl_memory_create(&c->bias, &m.b, dnnl_eng, DNNL_MEMORY_NONE));
	} else {
		DNNL_TRY(act_init(c, DNNL_ARG_DIFF_SRC, false, &m.x,
				  dnnl_primitive_desc_query_md(pd, dnnl_query_diff_src_md, 0)));
		DNNL_TRY(dnnl_memory_create(&c->wts_user, &m.w_user, dnnl_eng, DNNL_MEMORY_NONE));
		DNNL_TRY(layout_pair(&c->wts, &c->wts_reorder, c->wts_user, &m.w_user,
				     dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), true,
				     DNNL_MEMORY_ALLOCATE));
	}
	dnnl_primitive_desc_destroy(pd);
	dnnl_primitive_desc_destroy(hint);
	return FT_OK;

out_ref:
	c->h.use_ref = true;
	if (hint)
		dnnl_primitive_desc_destroy(hint);
	return FT_OK;

out_fail:
	if (pd)
		dnnl_primitive_desc_destroy(pd);
	if (hint)
		dnnl_primitive_desc_destroy(hint);
	if (dst == dnnl_unimplemented) {
		c->h.use_ref = true; /* what was made is freed with the node */
		return FT_OK;
	}
	return ft_node_error(g, n, FT_ERUNTIME, "oneDNN: %s failed (status %d)", what, (int)dst);
}

/*
 * CONV_GRAD_INPUT (weights false): dy = in 0, w = in 1, dx = out 0.
 * CONV_GRAD_WEIGHT (weights true): dy = in 0, x = in 1, dw = out 0, db = out 1.
 */
/* n's backward primitive for its current geometry, built on first use (or by the plan) */
static ft_status conv_bwd_extra(const ft_graph *g, ft_node *n, bool weights, conv_bwd_dnnl **out)
{
	return conv_extra(g, n, weights, weights && ft_out(g, n, 1) != NULL, sizeof(conv_bwd_dnnl), conv_bwd_free,
			  conv_bwd_build, (void **)out);
}

static size_t conv_bwd_act_bytes(const conv_bwd_dnnl *c)
{
	size_t total = 0;
	for (int i = 0; i < c->n_act; i++)
		total += c->act[i].bytes;
	return total;
}

static ft_status conv_bwd_run(const ft_graph *g, ft_node *n, bool weights)
{
	const ft_tensor *dy = ft_in(g, n, 0), *other = ft_in(g, n, 1);
	ft_tensor *out = ft_out(g, n, 0), *db = weights ? ft_out(g, n, 1) : NULL;
	conv_bwd_dnnl *c;
	const char *what = "";
	dnnl_status_t dst = dnnl_success;

	FT_TRY(conv_bwd_extra(g, n, weights, &c));
	if (c->h.use_ref)
		return weights ? ft_cpu_conv_grad_weight_ref(g, n) : ft_cpu_conv_grad_input_ref(g, n);

	void *bufs[3] = { dy->data, weights ? other->data : out->data, weights ? out->data : NULL };
	size_t total = conv_bwd_act_bytes(c);
	char *scratch = total + c->pad_bytes ? ft_cpu_scratch(total + c->pad_bytes) : NULL;
	if (c->pad)
		DNNL_TRY(dnnl_memory_set_data_handle(c->pad, scratch + total));
	for (int i = 0; i < c->n_act; i++) {
		dnnl_act *a = &c->act[i];
		DNNL_TRY(dnnl_memory_set_data_handle(a->user, bufs[i]));
		if (a->reorder) {
			DNNL_TRY(dnnl_memory_set_data_handle(a->mem, scratch));
			scratch += a->bytes;
		}
	}
	for (int i = 0; i < c->n_act; i++) {
		dnnl_act *a = &c->act[i];
		if (a->reorder && a->in) {
			dnnl_exec_arg_t rargs[] = { { DNNL_ARG_FROM, a->user }, { DNNL_ARG_TO, a->mem } };
			DNNL_TRY(dnnl_primitive_execute(a->reorder, dnnl_strm, 2, rargs));
		}
	}
	dnnl_exec_arg_t args[6];
	int nargs = 0;
	if (c->pad)
		args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, c->pad };
	for (int i = 0; i < c->n_act; i++)
		args[nargs++] = (dnnl_exec_arg_t){ c->act[i].arg, c->act[i].mem };
	if (!weights) {
		/* the weights: reordered again when the cached copy may be stale (as the forward) */
		DNNL_TRY(refresh_weights(c->wts_reorder, c->wts_user, c->wts, other, &c->wts_key, &c->wts_gen));
		args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_WEIGHTS, c->wts };
	} else if (db) {
		DNNL_TRY(dnnl_memory_set_data_handle(c->bias, db->data));
		args[nargs++] = (dnnl_exec_arg_t){ DNNL_ARG_DIFF_BIAS, c->bias };
	}
	DNNL_TRY(dnnl_primitive_execute(c->prim, dnnl_strm, nargs, args));
	for (int i = 0; i < c->n_act; i++) {
		dnnl_act *a = &c->act[i];
		if (a->reorder && !a->in) {
			dnnl_exec_arg_t rargs[] = { { DNNL_ARG_FROM, a->mem }, { DNNL_ARG_TO, a->user } };
			DNNL_TRY(dnnl_primitive_execute(a->reorder, dnnl_strm, 2, rargs));
		}
	}
	DNNL_TRY(dnnl_stream_wait(dnnl_strm));
	return FT_OK;

out_fail:
	return ft_node_error(g, n, FT_ERUNTIME, "oneDNN: %s failed (status %d)", what, (int)dst);
}

ft_status ft_cpu_conv_grad_input(const ft_graph *g, ft_node *n)
{
	if (ft_in(g, n, 0)->dtype == FT_F32 && ft_cpu_conv_has_fast_path())
		return conv_bwd_run(g, n, false);
	return ft_cpu_conv_grad_input_ref(g, n);
}

ft_status ft_cpu_conv_grad_weight(const ft_graph *g, ft_node *n)
{
	if (ft_in(g, n, 0)->dtype == FT_F32 && ft_cpu_conv_has_fast_path())
		return conv_bwd_run(g, n, true);
	return ft_cpu_conv_grad_weight_ref(g, n);
}


/* bytes of oneDNN's copy of w in the primitive's layout, 0 when it uses w as it is */
static size_t weights_copy_bytes(dnnl_primitive_t reorder, dnnl_memory_t wts)
{
	const dnnl_memory_desc_t *md;
	if (!reorder || dnnl_memory_get_memory_desc(wts, &md) != dnnl_success)
		return 0;
	return dnnl_memory_desc_get_size(md);
}

/*
 * What the Conv node n needs besides its inputs and outputs, for the plan:
 * *scratch while it runs (blocked copies of activations, the scratchpad)
 * and *state kept between runs (oneDNN's reordered weights). Builds the
 * primitives, so a planned run creates none.
 */
ft_status ft_cpu_conv_memory(const ft_graph *g, ft_node *n, size_t *scratch, size_t *state)
{
	*scratch = *state = 0;
	bool fast = ft_in(g, n, 0)->dtype == FT_F32 && ft_cpu_conv_has_fast_path();
	if (n->op == FT_OP_CONV && fast) {
		conv_dnnl *c;
		FT_TRY(conv_fwd_extra(g, n, &c));
		if (!c->h.use_ref) {
			*scratch = c->src_bytes + c->dst_bytes + c->pad_bytes;
			*state = weights_copy_bytes(c->wts_reorder, c->wts);
			return FT_OK;
		}
	} else if ((n->op == FT_OP_CONV_GRAD_INPUT || n->op == FT_OP_CONV_GRAD_WEIGHT) && fast) {
		conv_bwd_dnnl *c;
		FT_TRY(conv_bwd_extra(g, n, n->op == FT_OP_CONV_GRAD_WEIGHT, &c));
		if (!c->h.use_ref) {
			*scratch = conv_bwd_act_bytes(c) + c->pad_bytes;
			*state = weights_copy_bytes(c->wts_reorder, c->wts);
			return FT_OK;
		}
	}
	return ref_memory(g, n, scratch);
}

#else /* !FT_HAVE_DNNL */

bool ft_cpu_conv_has_fast_path(void)
{
	return false;
}

ft_status ft_cpu_conv_memory(const ft_graph *g, ft_node *n, size_t *scratch, size_t *state)
{
	*state = 0;
	return ref_memory(g, n, scratch);
}

ft_status ft_cpu_conv(const ft_graph *g, ft_node *n)
{
	return ft_cpu_conv_ref(g, n);
}

ft_status ft_cpu_conv_grad_input(const ft_graph *g, ft_node *n)
{
	return ft_cpu_conv_grad_input_ref(g, n);
}

ft_status ft_cpu_conv_grad_weight(const ft_graph *g, ft_node *n)
{
	return ft_cpu_conv_grad_weight_ref(g, n);
}

#endif

/* ---- MaxPool, AveragePool ----------------------------------------------- */

/*
 * The taps j in [0, k) of a window starting at start (dilation d) that land
 * inside [0, in): j in [*lo, *hi). Lets the loops below run without a bounds
 * check per tap.
 */
static inline void tap_range(int64_t start, int64_t k, int64_t d, int64_t in, int64_t *lo, int64_t *hi)
{
	int64_t a = start < 0 ? (-start + d - 1) / d : 0;
	int64_t b = start >= in ? 0 : (in - 1 - start) / d + 1;
	if (b > k)
		b = k;
	*lo = a;
	*hi = b > a ? b : a;
}

/*
 * y and idx are (N, C, OD, OH, OW), x is (N, C, ID, IH, IW). Padded positions
 * never win; a window that sees only padding gives the lowest value. NaN
 * wins (as in PyTorch). idx (optional) is the flat position of the maximum
 * in x, the spatial part row-major (storage_order 0) or column-major (1), as
 * ONNX Runtime does; the first of equal maxima.
 */
#define MAX_POOL(NAME, T, ACC, LOAD, STORE, LOWEST)                                                     \
	static void NAME(T *y, int64_t *idx, const T *x, int64_t planes, const win3 *v, int col_major)   \
	{                                                                                               \
		_Pragma("omp parallel for schedule(static)")                                            \
		for (int64_t p = 0; p < planes; p++) {                                                  \
			const T *xp = x + p * v->isz;                                                   \
			for (int64_t od = 0; od < v->out[0]; od++) {                                    \
			int64_t sd = od * v->s[0] - v->p[0], d0, d1;                                    \
			tap_range(sd, v->k[0], v->d[0], v->in[0], &d0, &d1);                            \
			for (int64_t oh = 0; oh < v->out[1]; oh++) {                                    \
			int64_t sh = oh * v->s[1] - v->p[1], h0, h1;                                    \
			tap_range(sh, v->k[1], v->d[1], v->in[1], &h0, &h1);                            \
			for (int64_t ow = 0; ow < v->out[2]; ow++) {                                    \
				int64_t sw = ow * v->s[2] - v->p[2], w0, w1;                            \
				tap_range(sw, v->k[2], v->d[2], v->in[2], &w0, &w1);                    \
				ACC best = LOWEST;                                                      \
				int64_t at = -1;                                                        \
				for (int64_t kd = d0; kd < d1; kd++) {                                  \
					int64_t id = sd + kd * v->d[0];                                 \
					for (int64_t kh = h0; kh < h1; kh++) {                          \
						int64_t ih = sh + kh * v->d[1];                         \
						const T *xr = xp + (id * v->in[1] + ih) * v->in[2];     \
						if (!idx) { /* branch-free: the compiler emits max/blend */ \
							for (int64_t kw = w0; kw < w1; kw++) {          \
								ACC e = LOAD(xr[sw + kw * v->d[2]]);    \
								ACC m_ = e > best ? e : best;           \
								best = e != e ? e : m_;                 \
							}                                               \
							at = 0;                                         \
							continue;                                       \
						}                                                       \
						for (int64_t kw = w0; kw < w1; kw++) {                  \
							ACC e = LOAD(xr[sw + kw * v->d[2]]);            \
							if (at < 0 || e > best || (e != e && best == best)) { \
								int64_t iw = sw + kw * v->d[2];         \
								best = e;                               \
								at = col_major ? id + v->in[0] * (ih + v->in[1] * iw) \
									       : (id * v->in[1] + ih) * v->in[2] + iw; \
							}                                               \
						}                                                       \
					}                                                               \
				}                                                                       \
				int64_t o = p * v->osz + (od * v->out[1] + oh) * v->out[2] + ow;        \
				y[o] = STORE(best);                                                     \
				if (idx)                                                                \
					idx[o] = at < 0 ? -1 : p * v->isz + at;                         \
			}                                                                               \
			}                                                                               \
			}                                                                               \
		}                                                                                       \
	}

#define ID(v) (v)
MAX_POOL(max_pool_f32, float, float, ID, ID, -INFINITY)
MAX_POOL(max_pool_f64, double, double, ID, ID, -INFINITY)
MAX_POOL(max_pool_f16, uint16_t, float, ft_f16_to_f32, ft_f32_to_f16, -INFINITY)
MAX_POOL(max_pool_u8, uint8_t, int, ID, (uint8_t), 0)
MAX_POOL(max_pool_i8, int8_t, int, ID, (int8_t), INT8_MIN)

ft_status ft_cpu_max_pool(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0), *ix = ft_out(g, n, 1);
	int64_t *idx = ix ? ix->data : NULL;
	int col = (int)ft_attr_int(n, "storage_order", 0);
	ft_conv_geom gm;
	win3 v;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	win3_from(&v, &gm);
	int64_t planes = gm.n * gm.c_in;
	switch (x->dtype) {
	case FT_F32: max_pool_f32(y->data, idx, x->data, planes, &v, col); break;
	case FT_F64: max_pool_f64(y->data, idx, x->data, planes, &v, col); break;
	case FT_F16: max_pool_f16(y->data, idx, x->data, planes, &v, col); break;
	case FT_U8: max_pool_u8(y->data, idx, x->data, planes, &v, col); break;
	case FT_I8: max_pool_i8(y->data, idx, x->data, planes, &v, col); break;
	default: return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
	return FT_OK;
}

/* Taps of a window on one axis that land in [lo, hi). */
static inline int64_t taps_in(int64_t start, int64_t k, int64_t d, int64_t lo, int64_t hi)
{
	int64_t c = 0;
	for (int64_t j = 0; j < k; j++) {
		int64_t i = start + j * d;
		c += i >= lo && i < hi;
	}
	return c;
}

/*
 * y is (N, C, OD, OH, OW), x is (N, C, ID, IH, IW). The divisor counts the
 * window's taps inside the input (count_include_pad 0) or inside the padded
 * input (1; taps past the end padding, possible with ceil_mode, never count,
 * as in PyTorch). A window with no tap in the input gives 0.
 */
#define AVG_POOL(NAME, T, LOAD, STORE)                                                                  \
	static void NAME(T *y, const T *x, int64_t planes, const win3 *v, const int64_t *pe, int incl) \
	{                                                                                               \
		_Pragma("omp parallel for schedule(static)")                                            \
		for (int64_t p = 0; p < planes; p++) {                                                  \
			const T *xp = x + p * v->isz;                                                   \
			for (int64_t od = 0; od < v->out[0]; od++)                                      \
			for (int64_t oh = 0; oh < v->out[1]; oh++)                                      \
			for (int64_t ow = 0; ow < v->out[2]; ow++) {                                    \
				int64_t st[3] = { od * v->s[0] - v->p[0], oh * v->s[1] - v->p[1],        \
						  ow * v->s[2] - v->p[2] };                              \
				double acc = 0;                                                         \
				int64_t cnt = 1;                                                        \
				for (int a = 0; a < 3; a++)                                             \
					cnt *= incl ? taps_in(st[a], v->k[a], v->d[a], -v->p[a], v->in[a] + pe[a]) \
						    : taps_in(st[a], v->k[a], v->d[a], 0, v->in[a]);    \
				for (int64_t kd = 0; kd < v->k[0]; kd++) {                              \
					int64_t id = st[0] + kd * v->d[0];                              \
					if (id < 0 || id >= v->in[0])                                   \
						continue;                                               \
					for (int64_t kh = 0; kh < v->k[1]; kh++) {                      \
						int64_t ih = st[1] + kh * v->d[1];                      \
						if (ih < 0 || ih >= v->in[1])                           \
							continue;                                       \
						const T *xr = xp + (id * v->in[1] + ih) * v->in[2];     \
						for (int64_t kw = 0; kw < v->k[2]; kw++) {              \
							int64_t iw = st[2] + kw * v->d[2];              \
							if (iw >= 0 && iw < v->in[2])                   \
								acc += LOAD(xr[iw]);                    \
						}                                                       \
					}                                                               \
				}                                                                       \
				y[p * v->osz + (od * v->out[1] + oh) * v->out[2] + ow] =                \
					STORE(cnt > 0 ? acc / (double)cnt : 0.0);                       \
			}                                                                               \
		}                                                                                       \
	}

#define F16_STORE(v) ft_f32_to_f16((float)(v))
AVG_POOL(avg_pool_f32, float, ID, (float))
AVG_POOL(avg_pool_f64, double, ID, ID)
AVG_POOL(avg_pool_f16, uint16_t, ft_f16_to_f32, F16_STORE)

/* the window walk of AveragePool and its gradient: padding at the end per axis, planes N*C */
static ft_status avg_pool_setup(const ft_graph *g, const ft_node *n, win3 *v, int64_t pe[3], int64_t *planes)
{
	ft_conv_geom gm;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	win3_from(v, &gm);
	pe[0] = pe[1] = pe[2] = 0;
	for (int i = 0; i < gm.nsp; i++)
		pe[3 - gm.nsp + i] = gm.pad_end[i];
	*planes = gm.n * gm.c_in;
	return FT_OK;
}

ft_status ft_cpu_average_pool(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	int incl = (int)ft_attr_int(n, "count_include_pad", 0);
	win3 v;
	int64_t pe[3], planes;
	FT_TRY(avg_pool_setup(g, n, &v, pe, &planes));
	switch (x->dtype) {
	case FT_F32: avg_pool_f32(y->data, x->data, planes, &v, pe, incl); break;
	case FT_F64: avg_pool_f64(y->data, x->data, planes, &v, pe, incl); break;
	case FT_F16: avg_pool_f16(y->data, x->data, planes, &v, pe, incl); break;
	default: return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
	return FT_OK;
}

/* ---- GlobalAveragePool, GlobalMaxPool ----------------------------------- */

/* y is (N, C), x is (N, C, S) with S the product of the spatial dims */
#define GLOBAL_POOL(NAME, T, LOAD, STORE)                                                       \
	static void NAME(T *y, const T *x, int64_t planes, int64_t s, int avg)                  \
	{                                                                                       \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t p = 0; p < planes; p++) {                                          \
			const T *xp = x + p * s;                                                \
			double acc = avg ? 0.0 : (double)LOAD(xp[0]);                          \
			if (avg) {                                                              \
				_Pragma("omp simd reduction(+ : acc)")                          \
				for (int64_t i = 0; i < s; i++)                                 \
					acc += LOAD(xp[i]);                                     \
				acc /= (double)s;                                               \
			} else {                                                                \
				for (int64_t i = 1; i < s; i++) { /* NaN wins; no branch */    \
					double e = LOAD(xp[i]);                                 \
					double m_ = e > acc ? e : acc;                          \
					acc = acc != acc ? acc : e != e ? e : m_;               \
				}                                                               \
			}                                                                       \
			y[p] = STORE(acc);                                                      \
		}                                                                               \
	}

GLOBAL_POOL(global_pool_f32, float, ID, (float))
GLOBAL_POOL(global_pool_f64, double, ID, ID)
GLOBAL_POOL(global_pool_f16, uint16_t, ft_f16_to_f32, F16_STORE)

static ft_status global_pool(const ft_graph *g, ft_node *n, int avg)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	int64_t planes = x->dims[0] * x->dims[1], s = planes ? x->numel / planes : 0;
	if (s == 0)
		return FT_OK; /* no planes; an empty spatial axis was refused by infer */
	switch (x->dtype) {
	case FT_F32: global_pool_f32(y->data, x->data, planes, s, avg); break;
	case FT_F64: global_pool_f64(y->data, x->data, planes, s, avg); break;
	case FT_F16: global_pool_f16(y->data, x->data, planes, s, avg); break;
	default: return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
	return FT_OK;
}

ft_status ft_cpu_global_average_pool(const ft_graph *g, ft_node *n)
{
	return global_pool(g, n, 1);
}

ft_status ft_cpu_global_max_pool(const ft_graph *g, ft_node *n)
{
	return global_pool(g, n, 0);
}

/* ---- pooling gradients ---------------------------------------------------- */

/*
 * dx and x are (N, C, ID, IH, IW), dy is (N, C, OD, OH, OW). Each window's
 * dy goes to the position of its maximum, found again in x as the forward
 * finds it: padding never wins, the first of equal maxima (window order, as
 * PyTorch) and the first NaN. Planes are independent: one thread each.
 */
#define MAX_POOL_GRAD(NAME, T)                                                                          \
	static void NAME(T *dx, const T *dy, const T *x, int64_t planes, const win3 *v)                  \
	{                                                                                               \
		_Pragma("omp parallel for schedule(static)")                                            \
		for (int64_t p = 0; p < planes; p++) {                                                  \
			const T *xp = x + p * v->isz, *gp = dy + p * v->osz;                            \
			T *dp = dx + p * v->isz;                                                        \
			memset(dp, 0, sizeof(T) * (size_t)v->isz);                                      \
			for (int64_t od = 0; od < v->out[0]; od++) {                                    \
			int64_t sd = od * v->s[0] - v->p[0], d0, d1;                                    \
			tap_range(sd, v->k[0], v->d[0], v->in[0], &d0, &d1);                            \
			for (int64_t oh = 0; oh < v->out[1]; oh++) {                                    \
			int64_t sh = oh * v->s[1] - v->p[1], h0, h1;                                    \
			tap_range(sh, v->k[1], v->d[1], v->in[1], &h0, &h1);                            \
			for (int64_t ow = 0; ow < v->out[2]; ow++) {                                    \
				int64_t sw = ow * v->s[2] - v->p[2], w0, w1;                            \
				tap_range(sw, v->k[2], v->d[2], v->in[2], &w0, &w1);                    \
				T best = 0;                                                             \
				int64_t at = -1;                                                        \
				for (int64_t kd = d0; kd < d1; kd++)                                    \
				for (int64_t kh = h0; kh < h1; kh++) {                                  \
					int64_t row = ((sd + kd * v->d[0]) * v->in[1] + sh + kh * v->d[1]) * v->in[2]; \
					for (int64_t kw = w0; kw < w1; kw++) {                          \
						T e = xp[row + sw + kw * v->d[2]];                      \
						if (at < 0 || e > best || (e != e && best == best)) {   \
							best = e;                                       \
							at = row + sw + kw * v->d[2];                   \
						}                                                       \
					}                                                               \
				}                                                                       \
				if (at >= 0)                                                            \
					dp[at] += gp[(od * v->out[1] + oh) * v->out[2] + ow];           \
			}                                                                               \
			}                                                                               \
			}                                                                               \
		}                                                                                       \
	}

MAX_POOL_GRAD(max_pool_grad_f32, float)
MAX_POOL_GRAD(max_pool_grad_f64, double)

/* MAX_POOL_GRAD(dy, x) -> dx, with MaxPool's attributes */
ft_status ft_cpu_max_pool_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1);
	ft_tensor *dx = ft_out(g, n, 0);
	ft_conv_geom gm;
	win3 v;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	win3_from(&v, &gm);
	int64_t planes = gm.n * gm.c_in;
	switch (x->dtype) {
	case FT_F32: max_pool_grad_f32(dx->data, dy->data, x->data, planes, &v); break;
	case FT_F64: max_pool_grad_f64(dx->data, dy->data, x->data, planes, &v); break;
	default: return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
	return FT_OK;
}

/*
 * dx is (N, C, ID, IH, IW), dy is (N, C, OD, OH, OW): each window's dy,
 * divided by the forward's divisor (see AVG_POOL), goes to its taps inside
 * the input.
 */
#define AVG_POOL_GRAD(NAME, T)                                                                          \
	static void NAME(T *dx, const T *dy, int64_t planes, const win3 *v, const int64_t *pe, int incl) \
	{                                                                                               \
		_Pragma("omp parallel for schedule(static)")                                            \
		for (int64_t p = 0; p < planes; p++) {                                                  \
			const T *gp = dy + p * v->osz;                                                  \
			T *dp = dx + p * v->isz;                                                        \
			memset(dp, 0, sizeof(T) * (size_t)v->isz);                                      \
			for (int64_t od = 0; od < v->out[0]; od++)                                      \
			for (int64_t oh = 0; oh < v->out[1]; oh++)                                      \
			for (int64_t ow = 0; ow < v->out[2]; ow++) {                                    \
				int64_t st[3] = { od * v->s[0] - v->p[0], oh * v->s[1] - v->p[1],        \
						  ow * v->s[2] - v->p[2] };                              \
				int64_t cnt = 1;                                                        \
				for (int a = 0; a < 3; a++)                                             \
					cnt *= incl ? taps_in(st[a], v->k[a], v->d[a], -v->p[a], v->in[a] + pe[a]) \
						    : taps_in(st[a], v->k[a], v->d[a], 0, v->in[a]);    \
				if (cnt == 0)                                                           \
					continue;                                                       \
				T gv = (T)((double)gp[(od * v->out[1] + oh) * v->out[2] + ow] / (double)cnt); \
				for (int64_t kd = 0; kd < v->k[0]; kd++) {                              \
					int64_t id = st[0] + kd * v->d[0];                              \
					if (id < 0 || id >= v->in[0])                                   \
						continue;                                               \
					for (int64_t kh = 0; kh < v->k[1]; kh++) {                      \
						int64_t ih = st[1] + kh * v->d[1];                      \
						if (ih < 0 || ih >= v->in[1])                           \
							continue;                                       \
						T *dr = dp + (id * v->in[1] + ih) * v->in[2];           \
						for (int64_t kw = 0; kw < v->k[2]; kw++) {              \
							int64_t iw = st[2] + kw * v->d[2];              \
							if (iw >= 0 && iw < v->in[2])                   \
								dr[iw] += gv;                           \
						}                                                       \
					}                                                               \
				}                                                                       \
			}                                                                               \
		}                                                                                       \
	}

AVG_POOL_GRAD(avg_pool_grad_f32, float)
AVG_POOL_GRAD(avg_pool_grad_f64, double)

/* AVERAGE_POOL_GRAD(dy, x) -> dx, with AveragePool's attributes (x gives the shape) */
ft_status ft_cpu_average_pool_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1);
	ft_tensor *dx = ft_out(g, n, 0);
	int incl = (int)ft_attr_int(n, "count_include_pad", 0);
	win3 v;
	int64_t pe[3], planes;
	FT_TRY(avg_pool_setup(g, n, &v, pe, &planes));
	switch (x->dtype) {
	case FT_F32: avg_pool_grad_f32(dx->data, dy->data, planes, &v, pe, incl); break;
	case FT_F64: avg_pool_grad_f64(dx->data, dy->data, planes, &v, pe, incl); break;
	default: return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
	return FT_OK;
}

/*
 * dx and x are (N, C, S), dy is (N, C): avg spreads dy / S over the plane;
 * max gives dy to the plane's maximum (the first, or the first NaN, as the
 * forward picks it) and 0 elsewhere.
 */
#define GLOBAL_POOL_GRAD(NAME, T)                                                               \
	static void NAME(T *dx, const T *dy, const T *x, int64_t planes, int64_t s, int avg)    \
	{                                                                                       \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t p = 0; p < planes; p++) {                                          \
			T *dp = dx + p * s;                                                     \
			if (avg) {                                                              \
				T gv = (T)((double)dy[p] / (double)s);                          \
				for (int64_t i = 0; i < s; i++)                                 \
					dp[i] = gv;                                             \
				continue;                                                       \
			}                                                                       \
			const T *xp = x + p * s;                                                \
			int64_t at = 0;                                                         \
			for (int64_t i = 1; i < s && xp[at] == xp[at]; i++)                     \
				if (xp[i] != xp[i] || xp[i] > xp[at])                           \
					at = i;                                                 \
			memset(dp, 0, sizeof(T) * (size_t)s);                                   \
			dp[at] = dy[p];                                                         \
		}                                                                               \
	}

GLOBAL_POOL_GRAD(global_pool_grad_f32, float)
GLOBAL_POOL_GRAD(global_pool_grad_f64, double)

/* GLOBAL_POOL_GRAD(dy, x[, y]) -> dx; attribute mode "avg" or "max" */
ft_status ft_cpu_global_pool_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1);
	ft_tensor *dx = ft_out(g, n, 0);
	int avg = strcmp(ft_attr_string(n, "mode", "avg"), "max") != 0;
	int64_t planes = x->dims[0] * x->dims[1], s = planes ? x->numel / planes : 0;
	if (s == 0)
		return FT_OK;
	switch (x->dtype) {
	case FT_F32: global_pool_grad_f32(dx->data, dy->data, x->data, planes, s, avg); break;
	case FT_F64: global_pool_grad_f64(dx->data, dy->data, x->data, planes, s, avg); break;
	default: return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
	return FT_OK;
}
