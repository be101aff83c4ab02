/*
 * kernels/cpu/norm.c - BatchNormalization and LayerNormalization on the CPU.
 *
 * Statistics are accumulated in double, per channel or row in a fixed order,
 * so the result does not depend on the thread count. LayerNorm takes two
 * passes (mean, then squared deviations); BatchNorm's training statistics one
 * (sum and sum of squares), as its tensors are large. The forward saves what the backward
 * needs: BatchNorm's batch mean and 1/sqrt(var + eps) (outputs 3 and 4 when
 * present), LayerNorm's Mean and InvStdDev (outputs 1 and 2). BatchNorm
 * nodes marked ft_sync_stats (--sync-bn) sum their statistics over the ranks
 * (ft_cpu_set_stats_allreduce).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/util.h"

static inline double ld(const ft_tensor *t, int64_t i)
{
	return t->dtype == FT_F64 ? ((const double *)t->data)[i] : (double)((const float *)t->data)[i];
}

static inline void st(ft_tensor *t, int64_t i, double v)
{
	if (!t)
		return;
	if (t->dtype == FT_F64)
		((double *)t->data)[i] = v;
	else
		((float *)t->data)[i] = (float)v;
}

/* ---- BatchNormalization ------------------------------------------------- */

/* y[n,c,:] = x[n,c,:] * a[c] + b[c], then with relu max(., 0) as Relu writes it; (N, C, S) */
#define BN_APPLY(NAME, T)                                                                       \
	static void NAME(T *y, const T *x, const double *a, const double *b, int64_t nb, int64_t c,    \
			 int64_t s, bool relu)                                                          \
	{                                                                                       \
		_Pragma("omp parallel for collapse(2) schedule(static)")                        \
		for (int64_t i = 0; i < nb; i++) {                                              \
			for (int64_t k = 0; k < c; k++) {                                       \
				const T *xp = x + (i * c + k) * s;                              \
				T *yp = y + (i * c + k) * s;                                    \
				T ak = (T)a[k], bk = (T)b[k];                                   \
				if (relu)                                                       \
					for (int64_t j = 0; j < s; j++) {                       \
						T v = xp[j] * ak + bk;                          \
						yp[j] = v < 0 ? (T)0 : v;                       \
					}                                                       \
				else                                                            \
					for (int64_t j = 0; j < s; j++)                         \
						yp[j] = xp[j] * ak + bk;                        \
			}                                                                       \
		}                                                                               \
	}

/*
 * sum[c] and sq[c], the sum and sum of squares over N and S of x (N, C, S), in
 * one pass in double; bn_moments turns them into mean and population variance.
 * var = E[x^2] - mean^2 loses digits only when mean^2 / var nears
 * 1e16 / (N * S), far beyond activations.
 */
#define BN_STATS(NAME, T)                                                                       \
	static void NAME(double *sum, double *sq, const T *x, int64_t nb, int64_t c, int64_t s)      \
	{                                                                                       \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t k = 0; k < c; k++) {                                               \
			double sm = 0, sqk = 0;                                                 \
			for (int64_t i = 0; i < nb; i++) {                                      \
				const T *xp = x + (i * c + k) * s;                              \
				_Pragma("omp simd reduction(+ : sm, sqk)")                      \
				for (int64_t j = 0; j < s; j++) {                               \
					double v = xp[j];                                       \
					sm += v;                                                \
					sqk += v * v;                                           \
				}                                                               \
			}                                                                       \
			sum[k] = sm;                                                            \
			sq[k] = sqk;                                                            \
		}                                                                               \
	}

/* in place: sum and sum of squares of cnt values per channel -> mean and population variance */
static void bn_moments(double *mean, double *var, int64_t c, double cnt)
{
	for (int64_t k = 0; k < c; k++) {
		double m = cnt > 0 ? mean[k] / cnt : 0.0;
		double v = cnt > 0 ? var[k] / cnt - m * m : 0.0;
		mean[k] = m;
		var[k] = v > 0 ? v : 0.0;
	}
}

/*
 * SyncBatchNorm (--sync-bn, dist.c): nodes with ft_sync_stats = 1 sum their
 * per-channel sums over every rank through this function. Without one (a
 * single process), or paused, the node's own batch is the whole batch.
 */
static struct {
	ft_cpu_allreduce_fn fn;
	void *ctx;
	bool paused;
} sync_stats;

void ft_cpu_set_stats_allreduce(ft_cpu_allreduce_fn fn, void *ctx)
{
	sync_stats.fn = fn;
	sync_stats.ctx = ctx;
}

void ft_cpu_pause_stats_allreduce(bool paused)
{
	sync_stats.paused = paused;
}

static bool syncs(const ft_node *n)
{
	return ft_attr_int(n, "ft_sync_stats", 0) != 0 && sync_stats.fn && !sync_stats.paused;
}

BN_APPLY(bn_apply_f32, float)
BN_APPLY(bn_apply_f64, double)
BN_STATS(bn_stats_f32, float)
BN_STATS(bn_stats_f64, double)

/* the affine map of a training forward from its saved mean and invstd (as stored, rounded) */
static void bn_coef_saved(const ft_tensor *scale, const ft_tensor *bias, const ft_tensor *mean,
			  const ft_tensor *invstd, double *a, double *b, int64_t c)
{
	for (int64_t k = 0; k < c; k++) {
		a[k] = ld(scale, k) * ld(invstd, k);
		b[k] = ld(bias, k) - ld(mean, k) * a[k];
	}
}

/*
 * The BatchNorm forward. y = (x - mean) / sqrt(var + eps) * scale + B with
 * mean and var the input running statistics (inference) or the batch's mean
 * and population variance (training). In training, the running statistics
 *   running_mean = input_mean * momentum + batch_mean * (1 - momentum)
 *   running_var  = input_var * momentum + batch_var' * (1 - momentum)
 * go to rmean/rvar (either may be NULL), batch_var' being the population
 * variance (ONNX) or, with unbiased, count / (count - 1) times it (PyTorch).
 * smean and sinvstd (either may be NULL) receive the batch mean and
 * 1 / sqrt(var + eps) the backward needs.
 */
static void batch_norm(const ft_node *n, const ft_tensor *x, const ft_tensor *scale, const ft_tensor *bias,
		       const ft_tensor *imean, const ft_tensor *ivar, ft_tensor *y, ft_tensor *rmean, ft_tensor *rvar,
		       ft_tensor *smean, ft_tensor *sinvstd, bool training, bool unbiased)
{
	double eps = ft_attr_float(n, "epsilon", 1e-5f);
	double momentum = ft_attr_float(n, "momentum", 0.9f);
	int64_t nb = x->dims[0], c = x->dims[1], s = 1;
	for (int i = 2; i < x->rank; i++)
		s *= x->dims[i];

	/* per channel: mean, var, then the affine map y = x * a + b */
	/* mean, var, the count, a, b: the first 2c + 1 are what --sync-bn sums over the ranks */
	double *buf = ft_cpu_scratch(sizeof(double) * (4 * (size_t)c + 1));
	double *mean = buf, *var = buf + c, *a = buf + 2 * c + 1, *b = buf + 3 * c + 1;
	double cnt = (double)(nb * s);
	if (training) {
		if (x->dtype == FT_F64)
			bn_stats_f64(mean, var, x->data, nb, c, s);
		else
			bn_stats_f32(mean, var, x->data, nb, c, s);
		if (syncs(n)) {
			buf[2 * c] = cnt;
			sync_stats.fn(sync_stats.ctx, buf, 2 * (size_t)c + 1);
			cnt = buf[2 * c];
		}
		bn_moments(mean, var, c, cnt);
	} else {
		for (int64_t k = 0; k < c; k++) {
			mean[k] = ld(imean, k);
			var[k] = ld(ivar, k);
		}
	}
	if (training && smean && sinvstd) {
		/* y from the statistics as saved: BATCH_NORM_APPLY makes the same y again */
		for (int64_t k = 0; k < c; k++) {
			st(smean, k, mean[k]);
			st(sinvstd, k, 1.0 / sqrt(var[k] + eps));
		}
		bn_coef_saved(scale, bias, smean, sinvstd, a, b, c);
	} else {
		for (int64_t k = 0; k < c; k++) {
			double invstd = 1.0 / sqrt(var[k] + eps);
			a[k] = ld(scale, k) * invstd;
			b[k] = ld(bias, k) - mean[k] * a[k];
		}
	}
	bool relu = ft_attr_int(n, "ft_relu", 0) != 0; /* (train.c's fuse_bn_relu) */
	if (x->dtype == FT_F64)
		bn_apply_f64(y->data, x->data, a, b, nb, c, s, relu);
	else
		bn_apply_f32(y->data, x->data, a, b, nb, c, s, relu);

	double unbias = unbiased && cnt > 1 ? cnt / (cnt - 1) : 1.0;
	/* read all of imean/ivar before writing: rmean may be imean (in place) */
	for (int64_t k = 0; k < c; k++) {
		double im = ld(imean, k), iv = ld(ivar, k);
		st(smean, k, mean[k]);
		st(sinvstd, k, 1.0 / sqrt(var[k] + eps));
		if (training) {
			st(rmean, k, im * momentum + mean[k] * (1 - momentum));
			st(rvar, k, iv * momentum + var[k] * unbias * (1 - momentum));
		} else {
			/* not training: the running statistics pass through unchanged */
			st(rmean, k, im);
			st(rvar, k, iv);
		}
	}
}

/*
 * BatchNormalization as ONNX defines it: training_mode 1 (or an opset < 14
 * node asking for the running outputs) normalises with batch statistics and
 * outputs the updated running statistics (population variance; the internal
 * attribute ft_unbiased_var = 1 selects PyTorch's unbiased one). Outputs 3
 * and 4, when present, get the batch mean and invstd.
 */
ft_status ft_cpu_batch_norm(const ft_graph *g, ft_node *n)
{
	ft_tensor *rmean = ft_out(g, n, 1);
	bool training = ft_attr_int(n, "training_mode", 0) != 0 || (n->opset < 14 && rmean);
	batch_norm(n, ft_in(g, n, 0), ft_in(g, n, 1), ft_in(g, n, 2), ft_in(g, n, 3), ft_in(g, n, 4),
		   ft_out(g, n, 0), rmean, ft_out(g, n, 2), ft_out(g, n, 3), ft_out(g, n, 4), training,
		   ft_attr_int(n, "ft_unbiased_var", 0) != 0);
	return FT_OK;
}

/*
 * BATCH_NORM_TRAIN: batch statistics; outputs Y, saved_mean, saved_invstd.
 * The running statistics (inputs 3 and 4) are updated in place when they are
 * STATE tensors, with the node's momentum and PyTorch's unbiased variance, as
 * a PyTorch training step does; CONST ones (a folded or shared initializer)
 * are left alone.
 */
ft_status ft_cpu_batch_norm_train(const ft_graph *g, ft_node *n)
{
	ft_tensor *imean = ft_in(g, n, 3), *ivar = ft_in(g, n, 4);
	bool upd = imean->kind == FT_TK_STATE && ivar->kind == FT_TK_STATE;
	batch_norm(n, ft_in(g, n, 0), ft_in(g, n, 1), ft_in(g, n, 2), imean, ivar, ft_out(g, n, 0),
		   upd ? imean : NULL, upd ? ivar : NULL, ft_out(g, n, 1), ft_out(g, n, 2), true, true);
	return FT_OK;
}

/*
 * BATCH_NORM_APPLY(x, scale, B, saved_mean, saved_invstd) -> y: the training forward's y from
 * its saved statistics, bit for bit (both take the affine map from bn_coef_saved)
 */
ft_status ft_cpu_batch_norm_apply(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	int64_t nb = x->dims[0], c = x->dims[1], s = 1;
	for (int i = 2; i < x->rank; i++)
		s *= x->dims[i];
	double *a = ft_cpu_scratch(sizeof(double) * (2 * (size_t)c + 1)), *b = a + c;
	bn_coef_saved(ft_in(g, n, 1), ft_in(g, n, 2), ft_in(g, n, 3), ft_in(g, n, 4), a, b, c);
	switch (x->dtype) {
	case FT_F32: bn_apply_f32(y->data, x->data, a, b, nb, c, s, ft_attr_int(n, "ft_relu", 0) != 0); break;
	case FT_F64: bn_apply_f64(y->data, x->data, a, b, nb, c, s, ft_attr_int(n, "ft_relu", 0) != 0); break;
	default: return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	}
	return FT_OK;
}

/* ---- LayerNormalization ------------------------------------------------- */

/*
 * y and x are (rows, cols); scale and bias are (cols) or NULL (bias);
 * mean and invstd (rows) in the stash type, or NULL.
 */
#define LN_FWD(NAME, T)                                                                         \
	static void NAME(T *y, ft_tensor *mean, ft_tensor *invstd, const T *x, const T *scale,  \
			 const T *bias, int64_t rows, int64_t cols, double eps)                 \
	{                                                                                       \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t r = 0; r < rows; r++) {                                            \
			const T *xr = x + r * cols;                                             \
			T *yr = y + r * cols;                                                   \
			double sum = 0, sq = 0;                                                 \
			for (int64_t j = 0; j < cols; j++)                                      \
				sum += xr[j];                                                   \
			double m = sum / (double)cols;                                          \
			for (int64_t j = 0; j < cols; j++) {                                    \
				double d = xr[j] - m;                                           \
				sq += d * d;                                                    \
			}                                                                       \
			double rs = 1.0 / sqrt(sq / (double)cols + eps);                        \
			for (int64_t j = 0; j < cols; j++) {                                    \
				double v = (xr[j] - m) * rs * scale[j];                         \
				yr[j] = (T)(bias ? v + bias[j] : v);                            \
			}                                                                       \
			st(mean, r, m);                                                         \
			st(invstd, r, rs);                                                      \
		}                                                                               \
	}

LN_FWD(ln_fwd_f32, float)
LN_FWD(ln_fwd_f64, double)

/* p broadcast to x.dims[axis:], flattened to cols elements of x's dtype */
static void *expand_param(void *to, const ft_tensor *p, const ft_tensor *x, int axis, int64_t cols)
{
	size_t es = ft_dtype_size(x->dtype);
	char *out = to;
	int64_t strides[FT_MAX_RANK];
	ft_broadcast_strides(p, x->rank, x->dims, strides);
	for (int64_t j = 0; j < cols; j++) {
		int64_t rem = j, off = 0;
		for (int d = x->rank - 1; d >= axis; d--) {
			off += rem % x->dims[d] * strides[d];
			rem /= x->dims[d];
		}
		memcpy(out + (size_t)j * es, (const char *)p->data + (size_t)off * es, es);
	}
	return out;
}

/* LayerNormalization's axis, and x as rows x cols: the axes before it, and it and after */
ft_status ft_ln_split(const ft_graph *g, const ft_node *n, const ft_tensor *x, int *axis, int64_t *rows,
		    int64_t *cols)
{
	FT_TRY(ft_norm_axis(g, n, ft_attr_int(n, "axis", -1), x->rank, axis));
	*rows = *cols = 1;
	for (int i = 0; i < x->rank; i++) {
		if (i < *axis)
			*rows *= x->dims[i];
		else
			*cols *= x->dims[i];
	}
	return FT_OK;
}

/*
 * Mean = mean(x over axes [axis, r)), InvStdDev = 1 / sqrt(var + epsilon),
 * Y = (x - Mean) * InvStdDev * Scale + B (ONNX opset 17).
 */
ft_status ft_cpu_layer_norm(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *scale = ft_in(g, n, 1), *bias = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0), *mean = ft_out(g, n, 1), *invstd = ft_out(g, n, 2);
	double eps = ft_attr_float(n, "epsilon", 1e-5f);
	int axis;
	int64_t rows, cols;
	FT_TRY(ft_ln_split(g, n, x, &axis, &rows, &cols));
	if (rows == 0 || cols == 0)
		return FT_OK;
	size_t es = ft_dtype_size(x->dtype);
	char *scratch = ft_cpu_scratch(2 * es * (size_t)cols);
	const void *sp = scale->data, *bp = bias ? bias->data : NULL;
	if (scale->numel != cols)
		sp = expand_param(scratch, scale, x, axis, cols);
	if (bias && bias->numel != cols)
		bp = expand_param(scratch + es * (size_t)cols, bias, x, axis, cols);
	if (x->dtype == FT_F64)
		ln_fwd_f64(y->data, mean, invstd, x->data, sp, bp, rows, cols, eps);
	else
		ln_fwd_f32(y->data, mean, invstd, x->data, sp, bp, rows, cols, eps);
	return FT_OK;
}

/* ---- gradients ------------------------------------------------------------ */

/*
 * BatchNorm in training, backward (PyTorch's batch_norm_backward with batch
 * statistics). dy, x, dx are (N, C, S); per channel, over the M = N * S
 * values, with xhat = (x - mean) * invstd:
 *   dbias = sum dy,  dscale = sum dy * xhat,
 *   dx = scale * invstd * (dy - dbias / M - xhat * dscale / M).
 * One thread per channel; sums in double. With --sync-bn (glob, 2C + 1
 * doubles) the sums in dx's formula and M are those of every rank's batch, as
 * in PyTorch's SyncBatchNorm; dscale and dbias stay this rank's own, which the
 * gradient all-reduce then averages.
 */
#define BN_GRAD(NAME, T)                                                                        \
	/* channel k's sum of dy and of dy * (x - mean) */                                     \
	static inline void NAME##_sums(double *sum, double *dot, const T *dy, const T *x, double m, \
				       int64_t nb, int64_t c, int64_t s, int64_t k)            \
	{                                                                                       \
		double sm = 0, dt = 0;                                                          \
		for (int64_t i = 0; i < nb; i++) {                                              \
			const T *gp = dy + (i * c + k) * s, *xp = x + (i * c + k) * s;          \
			_Pragma("omp simd reduction(+ : sm, dt)")                               \
			for (int64_t j = 0; j < s; j++) {                                       \
				sm += gp[j];                                                    \
				dt += (double)gp[j] * ((double)xp[j] - m);                      \
			}                                                                       \
		}                                                                               \
		*sum = sm;                                                                      \
		*dot = dt;                                                                      \
	}                                                                                       \
	/* channel k's dx = a * dy + b * x + c0, the affine map of the formula */              \
	static inline void NAME##_dx(T *dx, const T *dy, const T *x, double scale, double m, double is, \
				     double sum, double dot, double cnt, int64_t nb, int64_t c, \
				     int64_t s, int64_t k)                                      \
	{                                                                                       \
		double a = scale * is, gm = cnt > 0 ? sum / cnt : 0.0;                          \
		double b = cnt > 0 ? -a * is * is * dot / cnt : 0.0;                            \
		double c0 = -a * gm - b * m;                                                    \
		for (int64_t i = 0; i < nb; i++) {                                              \
			const T *gp = dy + (i * c + k) * s, *xp = x + (i * c + k) * s;          \
			T *dp = dx + (i * c + k) * s;                                           \
			for (int64_t j = 0; j < s; j++)                                         \
				dp[j] = (T)(a * gp[j] + b * xp[j] + c0);                        \
		}                                                                               \
	}                                                                                       \
	static void NAME(T *dx, double *dscale, double *dbias, const T *dy, const T *x,        \
			 const double *scale, const double *mean, const double *invstd, int64_t nb, \
			 int64_t c, int64_t s, double *glob)                                    \
	{                                                                                       \
		double cnt = (double)(nb * s);                                                  \
		if (!glob) { /* one pass per channel while its values are in cache */          \
			_Pragma("omp parallel for schedule(static)")                            \
			for (int64_t k = 0; k < c; k++) {                                       \
				double sum, dot;                                                \
				NAME##_sums(&sum, &dot, dy, x, mean[k], nb, c, s, k);           \
				dbias[k] = sum;                                                 \
				dscale[k] = dot * invstd[k];                                    \
				if (dx)                                                         \
					NAME##_dx(dx, dy, x, scale[k], mean[k], invstd[k], sum, dot, \
						  cnt, nb, c, s, k);                            \
			}                                                                       \
			return;                                                                 \
		}                                                                               \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t k = 0; k < c; k++) {                                               \
			NAME##_sums(&glob[k], &glob[c + k], dy, x, mean[k], nb, c, s, k);       \
			dbias[k] = glob[k];                                                     \
			dscale[k] = glob[c + k] * invstd[k];                                    \
		}                                                                               \
		glob[2 * c] = cnt;                                                              \
		sync_stats.fn(sync_stats.ctx, glob, 2 * (size_t)c + 1);                         \
		if (!dx)                                                                        \
			return;                                                                 \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t k = 0; k < c; k++)                                                 \
			NAME##_dx(dx, dy, x, scale[k], mean[k], invstd[k], glob[k], glob[c + k],  \
				  glob[2 * c], nb, c, s, k);                                    \
	}

BN_GRAD(bn_grad_f32, float)
BN_GRAD(bn_grad_f64, double)

/* the coefficients' bytes of BATCH_NORM_GRAD's scratch; a fused ReLU's masked dy follows them */
static size_t bn_grad_head(int64_t c)
{
	return ft_align64(sizeof(double) * (7 * (size_t)c + 1));
}

/*
 * BATCH_NORM_GRAD(dy, x, scale, saved_mean, saved_invstd[, y]) -> dx, dscale, dbias. With y, the
 * output of a BatchNorm with its ReLU fused (train.c), dy counts where y > 0 only, as ReluGrad
 * passed it on.
 */
ft_status ft_cpu_batch_norm_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1), *scale = ft_in(g, n, 2);
	const ft_tensor *mean = ft_in(g, n, 3), *invstd = ft_in(g, n, 4), *ry = ft_in(g, n, 5);
	ft_tensor *dx = ft_out(g, n, 0), *dscale = ft_out(g, n, 1), *dbias = ft_out(g, n, 2);
	int64_t nb = x->dims[0], c = x->dims[1], s = 1;
	for (int i = 2; i < x->rank; i++)
		s *= x->dims[i];
	double *buf = ft_cpu_scratch(bn_grad_head(c) + (ry ? ft_tensor_bytes(dy) : 0));
	const void *dyd = dy->data;
	if (ry) { /* ReluGrad's select: dy where y > 0, else 0 */
		void *masked = (char *)buf + bn_grad_head(c);
		if (dy->dtype == FT_F64) {
			const double *d = dy->data, *y = ry->data;
			double *o = masked;
#pragma omp parallel for if (dy->numel > 65536)
			for (int64_t i = 0; i < dy->numel; i++)
				o[i] = y[i] > 0 ? d[i] : 0.0;
		} else {
			const float *d = dy->data, *y = ry->data;
			float *o = masked;
#pragma omp parallel for if (dy->numel > 65536)
			for (int64_t i = 0; i < dy->numel; i++)
				o[i] = y[i] > 0 ? d[i] : 0.0f;
		}
		dyd = masked;
	}
	double *sc = buf, *m = buf + c, *is = buf + 2 * c, *ds = buf + 3 * c, *db = buf + 4 * c;
	double *glob = syncs(n) ? buf + 5 * c : NULL;
	for (int64_t k = 0; k < c; k++) {
		sc[k] = ld(scale, k);
		m[k] = ld(mean, k);
		is[k] = ld(invstd, k);
	}
	if (x->dtype == FT_F64)
		bn_grad_f64(dx ? dx->data : NULL, ds, db, dyd, x->data, sc, m, is, nb, c, s, glob);
	else
		bn_grad_f32(dx ? dx->data : NULL, ds, db, dyd, x->data, sc, m, is, nb, c, s, glob);
	for (int64_t k = 0; k < c; k++) {
		st(dscale, k, ds[k]);
		st(dbias, k, db[k]);
	}
	return FT_OK;
}

/*
 * LayerNorm backward. dy, x, dx are (rows, cols); gamma the scale broadcast
 * to (cols); mean and invstd per row. With xhat = (x - mean) * invstd and
 * g = dy * gamma, per row:
 *   dx = invstd * (g - mean_j(g) - xhat * mean_j(g * xhat));
 * per column: dscale = sum_r dy * xhat, dbias = sum_r dy (into ds, db, double).
 */
#define LN_GRAD(NAME, T)                                                                        \
	static void NAME(T *dx, double *ds, double *db, const T *dy, const T *x, const T *gamma, \
			 const ft_tensor *mean, const ft_tensor *invstd, int64_t rows, int64_t cols) \
	{                                                                                       \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t r = 0; r < rows; r++) {                                            \
			const T *gr = dy + r * cols, *xr = x + r * cols;                        \
			T *dr = dx + r * cols;                                                  \
			double m = ld(mean, r), is = ld(invstd, r), sg = 0, sgx = 0;            \
			for (int64_t j = 0; j < cols; j++) {                                    \
				double gj = (double)gr[j] * gamma[j];                           \
				sg += gj;                                                       \
				sgx += gj * (xr[j] - m) * is;                                   \
			}                                                                       \
			sg /= (double)cols;                                                     \
			sgx /= (double)cols;                                                    \
			for (int64_t j = 0; j < cols; j++) {                                    \
				double xh = (xr[j] - m) * is;                                   \
				dr[j] = (T)(is * ((double)gr[j] * gamma[j] - sg - xh * sgx));   \
			}                                                                       \
		}                                                                               \
		/* columns in blocks of 64: each thread sums its block over all rows */        \
		int64_t nblk = (cols + 63) / 64;                                                \
		_Pragma("omp parallel for schedule(static)")                                    \
		for (int64_t bk = 0; bk < nblk; bk++) {                                         \
			int64_t j0 = bk * 64, j1 = j0 + 64 < cols ? j0 + 64 : cols;             \
			for (int64_t j = j0; j < j1; j++)                                       \
				ds[j] = db[j] = 0;                                              \
			for (int64_t r = 0; r < rows; r++) {                                    \
				const T *gr = dy + r * cols, *xr = x + r * cols;                \
				double m = ld(mean, r), is = ld(invstd, r);                     \
				for (int64_t j = j0; j < j1; j++) {                             \
					db[j] += gr[j];                                         \
					ds[j] += (double)gr[j] * (xr[j] - m) * is;              \
				}                                                               \
			}                                                                       \
		}                                                                               \
	}

LN_GRAD(ln_grad_f32, float)
LN_GRAD(ln_grad_f64, double)

static size_t layer_norm_grad_scratch(const ft_tensor *x, const ft_tensor *scale, int64_t cols)
{
	size_t bytes = sizeof(double) * 2 * (size_t)(cols + scale->numel);
	if (scale->numel != cols)
		bytes += ft_dtype_size(x->dtype) * (size_t)cols;
	return bytes;
}

/* LAYER_NORM_GRAD(dy, x, scale, mean, invstd), attribute axis -> dx, dscale, dbias (scale's shape) */
ft_status ft_cpu_layer_norm_grad(const ft_graph *g, ft_node *n)
{
	const ft_tensor *dy = ft_in(g, n, 0), *x = ft_in(g, n, 1), *scale = ft_in(g, n, 2);
	const ft_tensor *mean = ft_in(g, n, 3), *invstd = ft_in(g, n, 4);
	ft_tensor *dx = ft_out(g, n, 0), *dscale = ft_out(g, n, 1), *dbias = ft_out(g, n, 2);
	int axis;
	int64_t rows, cols;
	FT_TRY(ft_ln_split(g, n, x, &axis, &rows, &cols));
	if (rows == 0 || cols == 0) {
		for (int64_t k = 0; k < scale->numel; k++) {
			st(dscale, k, 0);
			st(dbias, k, 0);
		}
		return FT_OK;
	}
	/* scratch: dscale and dbias per column, their sums per scale element, the expanded scale */
	double *ds = ft_cpu_scratch(layer_norm_grad_scratch(x, scale, cols)), *db = ds + cols;
	double *acc = db + cols;
	memset(acc, 0, sizeof(double) * 2 * (size_t)scale->numel);
	const void *gp = scale->data;
	if (scale->numel != cols)
		gp = expand_param(acc + 2 * scale->numel, scale, x, axis, cols);
	if (x->dtype == FT_F64)
		ln_grad_f64(dx->data, ds, db, dy->data, x->data, gp, mean, invstd, rows, cols);
	else
		ln_grad_f32(dx->data, ds, db, dy->data, x->data, gp, mean, invstd, rows, cols);
	/* back to scale's shape: columns that read the same scale element add up */
	int64_t strides[FT_MAX_RANK];
	ft_broadcast_strides(scale, x->rank, x->dims, strides);
	for (int64_t j = 0; j < cols; j++) {
		int64_t rem = j, off = 0;
		for (int d = x->rank - 1; d >= axis; d--) {
			off += rem % x->dims[d] * strides[d];
			rem /= x->dims[d];
		}
		acc[off] += ds[j];
		acc[scale->numel + off] += db[j];
	}
	for (int64_t k = 0; k < scale->numel; k++) {
		st(dscale, k, acc[k]);
		st(dbias, k, acc[scale->numel + k]);
	}
	return FT_OK;
}

size_t ft_cpu_norm_scratch(const ft_graph *g, const ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, n->op == FT_OP_LAYER_NORM_GRAD ? 1 : 0);
	int axis;
	int64_t rows, cols;
	switch (n->op) {
	case FT_OP_BATCH_NORM:
	case FT_OP_BATCH_NORM_TRAIN: /* batch_norm's buffer */
		return sizeof(double) * (4 * (size_t)x->dims[1] + 1);
	case FT_OP_BATCH_NORM_APPLY: /* ft_cpu_batch_norm_apply's a and b */
		return sizeof(double) * (2 * (size_t)x->dims[1] + 1);
	case FT_OP_BATCH_NORM_GRAD: /* ft_cpu_batch_norm_grad's (x: input 1) */
		x = ft_in(g, n, 1);
		return bn_grad_head(x->dims[1]) + (ft_in(g, n, 5) ? ft_tensor_bytes(ft_in(g, n, 0)) : 0);
	case FT_OP_LAYER_NORM:
	case FT_OP_LAYER_NORM_GRAD:
		if (ft_ln_split(g, n, x, &axis, &rows, &cols))
			return 0; /* the kernel reports the error */
		if (n->op == FT_OP_LAYER_NORM)
			return 2 * ft_dtype_size(x->dtype) * (size_t)cols;
		return layer_norm_grad_scratch(x, ft_in(g, n, 2), cols);
	default:
		return 0;
	}
}

/* ---- ImageNormalize (the input pipeline) ------------------------------------ */

/*
 * y = (x / 255 - mean[c]) / std[c], in float32 and in this order: the
 * expression runtime/data.c's float path evaluates, so the same uint8 batch
 * gives the same bits either way. x is (N,C,H,W) uint8, y (N,C,H,W) float32.
 */
ft_status ft_cpu_image_normalize(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	float *y = ft_out(g, n, 0)->data;
	const uint8_t *xv = x->data;
	const float *mean, *std;
	ft_attr_floats(n, "mean", &mean);
	ft_attr_floats(n, "std", &std);
	int64_t N = x->dims[0], C = x->dims[1], hw = x->dims[2] * x->dims[3];
	#pragma omp parallel for collapse(2) schedule(static)
	for (int64_t i = 0; i < N; i++)
		for (int64_t c = 0; c < C; c++) {
			float m = mean[c], s = std[c];
			size_t off = (size_t)(i * C + c) * (size_t)hw;
			for (int64_t p = 0; p < hw; p++)
				y[off + (size_t)p] = ((float)xv[off + (size_t)p] / 255.0f - m) / s;
		}
	return FT_OK;
}
