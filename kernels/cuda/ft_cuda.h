/*
 * ft_cuda.h - the CUDA kernels' C interface (the .cu files of kernels/cuda, compiled by
 * nvcc; called by runtime/backend_cuda.c).
 *
 * Launchers queue work on the stream given (a cudaStream_t passed as void *)
 * and return 0, or the cudaError_t of the launch. Elementwise semantics are the
 * CPU kernels' (kernels/cpu/elementwise.c): numpy broadcasting through
 * per-input element strides (0 on broadcast axes), float32 arithmetic, NaN
 * propagated. Only this header is shared with C; it needs no CUDA headers.
 */
#ifndef FT_CUDA_H
#define FT_CUDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { FT_CU_MAX_RANK = 8 };

/* the output's shape and, per input, its element strides broadcast to it */
typedef struct ft_cu_bcast {
	int rank;
	int64_t dims[FT_CU_MAX_RANK];
	int64_t st[2][FT_CU_MAX_RANK];
} ft_cu_bcast;

typedef enum ft_cu_binary {
	FT_CU_ADD,
	FT_CU_SUB,
	FT_CU_MUL,
	FT_CU_DIV,
	FT_CU_BINARY_COUNT
} ft_cu_binary;

typedef enum ft_cu_unary {
	FT_CU_RELU,
	FT_CU_LEAKY_RELU, /* alpha */
	FT_CU_SIGMOID,
	FT_CU_TANH,
	FT_CU_ERF,
	FT_CU_SQRT,
	FT_CU_EXP,
	FT_CU_LOG,
	FT_CU_NEG,
	FT_CU_ABS,
	FT_CU_RECIPROCAL,
	FT_CU_HARD_SIGMOID, /* alpha, beta */
	FT_CU_HARD_SWISH,
	FT_CU_SILU, /* x * Sigmoid(x), ft.Silu */
	FT_CU_GELU, /* x * (erf(x / sqrt 2) + 1) * 0.5, ft.Gelu */
	FT_CU_IDENTITY,
	FT_CU_UNARY_COUNT
} ft_cu_unary;

/* the gradient of a unary op, dx from dy and the saved tensor s: the forward
 * output y for Relu, Sigmoid and Tanh, the forward input x for the others */
typedef enum ft_cu_unary_grad {
	FT_CU_RELU_GRAD,
	FT_CU_LEAKY_RELU_GRAD, /* alpha */
	FT_CU_SIGMOID_GRAD,
	FT_CU_TANH_GRAD,
	FT_CU_ERF_GRAD,
	FT_CU_HARD_SIGMOID_GRAD, /* alpha, beta */
	FT_CU_HARD_SWISH_GRAD,
	FT_CU_SILU_GRAD,
	FT_CU_GELU_GRAD,
	FT_CU_UNARY_GRAD_COUNT
} ft_cu_unary_grad;

/* storage types (the kernels compute in float32) */
typedef enum ft_cu_dtype { FT_CU_F32, FT_CU_F16, FT_CU_BF16 } ft_cu_dtype;

/* on float32, float16 or bfloat16 storage dt (all operands alike), computed in float32 */
int ft_cu_apply_binary(ft_cu_binary op, ft_cu_dtype dt, const void *a, const void *b, void *y, int64_t n,
		 const ft_cu_bcast *bc, void *stream);
int ft_cu_apply_unary(ft_cu_unary op, ft_cu_dtype dt, const void *x, void *y, int64_t n, float alpha, float beta,
		void *stream);
int ft_cu_apply_unary_grad(ft_cu_unary_grad op, ft_cu_dtype dt, const void *dy, const void *s, void *dx, int64_t n,
		     float alpha, float beta, void *stream);
/*
 * The loss scaler (kernels/cpu/train.c): every float32 gradient multiplied by
 * 1 / *scale in place, *found = 1 if any value was not finite, else 0
 * (grads and counts: n_grads device pointers and element counts, on the host).
 */
int ft_cu_amp_unscale(const float *scale, float *const *grads, const int64_t *counts, int n_grads, float *found,
		      void *stream);
/* GradScaler's update: backoff on found, else growth after `interval` clean steps (finite only) */
int ft_cu_amp_update_scale(float *scale, float *tracker, const float *found, float interval, float backoff,
			   float growth, void *stream);
/* y = x converted, rounding to nearest even (as the CPU's Cast) */
int ft_cu_cast(const void *x, ft_cu_dtype from, void *y, ft_cu_dtype to, int64_t n, void *stream);
/*
 * ft.SoftmaxCrossEntropy over (N, C) logits with int64 labels (checked on the
 * host before they are copied), as kernels/cpu/train.c: probs = softmax per
 * row, loss = mean over rows of -sum(target * log p) with label smoothing ls;
 * each row's loss in double into row_loss (N doubles of workspace), then
 * their mean into *loss.
 */
int ft_cu_softmax_cross_entropy(const float *logits, const int64_t *labels, float *loss, float *probs,
				double *row_loss, int64_t n, int64_t c, float ls, void *stream);
/* dlogits = *dloss / N * (probs - target) */
int ft_cu_softmax_cross_entropy_grad(const float *dloss, const float *probs, const int64_t *labels, float *dx,
				     int64_t n, int64_t c, float ls, void *stream);
/*
 * ReduceSumTo whose summed axes are one run of x's: x seen as (o, r, i), y (o, i)
 * = the sum over r. Parts of r go to separate blocks (enough blocks to fill a
 * GPU), summed in double and added in part order: no atomics, the same bits on
 * every run. ws: ft_cu_sum_run_workspace(o, r, i) bytes.
 */
static inline int64_t ft_cu_sum_run_parts(int64_t o, int64_t r, int64_t i)
{
	int64_t blocks = o * (i > 1 ? (i + 31) / 32 : 1), p = blocks > 0 ? (1024 + blocks - 1) / blocks : 1;
	int64_t most = (r + 255) / 256; /* at least 256 rows a part */
	p = p < most ? p : most;
	p = p < 64 ? p : 64;
	return p > 1 ? p : 1;
}
static inline size_t ft_cu_sum_run_workspace(int64_t o, int64_t r, int64_t i)
{
	return sizeof(double) * (size_t)(ft_cu_sum_run_parts(o, r, i) * o * i);
}
int ft_cu_sum_run(ft_cu_dtype dt, const void *x, void *y, void *ws, int64_t o, int64_t r, int64_t i, void *stream);
/*
 * y (ny elements) = x summed over the broadcast axes, any of them: x's element i
 * adds into y[offset of i in y] atomically, in float32 (y itself, or acc for
 * float16/bfloat16, then rounded into y). Not the same bits on every run, and
 * slow where many elements add into one: ft_cu_sum_run where it applies.
 */
int ft_cu_reduce_sum_to(ft_cu_dtype dt, const void *x, void *y, float *acc, int64_t nx, int64_t ny,
			const ft_cu_bcast *bc, void *stream);
/* acc = *first != 0 ? g : acc + g */
int ft_cu_grad_accum(float *acc, const float *g, const float *first, int64_t n, void *stream);
/*
 * ft.SGDStep / ft.AdamWStep on n floats, as kernels/cpu/train.c; lr, the step
 * count t (AdamW), the gradient scale (NULL: 1) and found_inf (NULL: never;
 * nonzero skips the step) are device scalars.
 */
int ft_cu_sgd_step(float *p, const float *g, float *v, int64_t n, const float *lr, const float *scale,
		   const float *found_inf, float momentum, float dampening, float wd, int nesterov, void *stream);
int ft_cu_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, const float *lr, const float *t,
		     const float *scale, const float *found_inf, float beta1, float beta2, float eps, float wd,
		     void *stream);
/*
 * The same steps over count tensors at once (ft.SGDStepMulti, ft.AdamWStepMulti): host arrays
 * of device pointers and element counts (v of SGD may hold NULLs: no momentum), one launch per
 * 32 tensors, every element's arithmetic that of the single-tensor kernels.
 */
int ft_cu_sgd_multi(float *const *p, const float *const *g, float *const *v, const int64_t *n, int count,
		    const float *lr, const float *scale, const float *found_inf, float momentum, float dampening,
		    float wd, int nesterov, void *stream);
int ft_cu_adamw_multi(float *const *p, const float *const *g, float *const *m, float *const *v, const int64_t *n,
		      int count, const float *lr, const float *t, const float *scale, const float *found_inf,
		      float beta1, float beta2, float eps, float wd, void *stream);
/* y (m, n) = beta * C (of type dt) broadcast through strides (csi, csj): Gemm's bias, before the product
 * is added to it. y is float32, or with y_of_dt of type dt (a low-precision bias with beta 1, copied
 * exactly into the output the product is then added to: no float32 buffer) */
int ft_cu_gemm_bias(ft_cu_dtype dt, void *y, bool y_of_dt, const void *c, int64_t m, int64_t n, int64_t csi,
		    int64_t csj, float beta, void *stream);
/* y (of type dt) = x rounded to nearest even (for float32, a copy) */
int ft_cu_narrow(ft_cu_dtype dt, const float *x, void *y, int64_t n, void *stream);

/*
 * BatchNorm in training over x (nb, c, s) of storage type dt (x, y, dy, dx;
 * the parameters and statistics are float32, as cuDNN takes them under
 * autocast), as kernels/cpu/norm.c: per channel
 * the batch mean and population variance (sums in double), y = x * a + b with
 * a = scale * invstd, b = bias - mean * a from the saved float32 mean and
 * invstd = 1 / sqrt(var + eps) (so ft_cu_batch_norm_apply remakes y); saved mean and
 * 1 / sqrt(var + eps) for the backward; the running statistics (NULL: left
 * alone) become r * momentum + batch * (1 - momentum), the variance unbiased
 * (count / (count - 1)) as PyTorch's. ws: ft_cu_bn_workspace(nb, c, s, 2) bytes. relu: a
 * fused ReLU (runtime/train.c), y = max(x a + b, 0) before rounding (also for _apply).
 */
int ft_cu_batch_norm_train(ft_cu_dtype dt, const void *x, const float *scale, const float *bias, float *run_mean,
			   float *run_var, void *y, float *saved_mean, float *saved_invstd, void *ws, int64_t nb,
			   int64_t c, int64_t s, float eps, float momentum, int relu, void *stream);
/*
 * The blocks per channel that sum BatchNorm's statistics: enough blocks in all
 * to fill a GPU (about 1024), none with fewer than 16384 elements, at most 64.
 * With s == 1 (rows of c channels: channels last) a block takes 32 channels:
 * about 1024 blocks of 32-channel tiles, each over at least 64 rows, at most 512.
 */
static inline int64_t ft_cu_bn_parts(int64_t nb, int64_t c, int64_t s)
{
	if (s == 1) {
		int64_t tiles = (c + 31) / 32, q = tiles > 0 ? (1024 + tiles - 1) / tiles : 1, most = (nb + 63) / 64;
		q = q < most ? q : most;
		q = q < 512 ? q : 512;
		return q > 1 ? q : 1;
	}
	int64_t p = (nb * s + 16383) / 16384, fill = c > 0 ? (1024 + c - 1) / c : 1;
	p = p < fill ? p : fill;
	p = p < 64 ? p : 64;
	return p > 1 ? p : 1;
}
/* the workspace of BatchNorm train (coefs 2) or backward (coefs 3): the parts' sums, then the coefficients */
static inline size_t ft_cu_bn_workspace(int64_t nb, int64_t c, int64_t s, int coefs)
{
	return sizeof(double) * 2 * (size_t)(c * ft_cu_bn_parts(nb, c, s)) + sizeof(float) * (size_t)(coefs * c);
}
/*
 * A training forward's y again from its saved mean and invstd (the memory plan's recompute,
 * runtime/remat.c): the same a and b, bit for bit. ab is 2 * c floats of workspace.
 */
int ft_cu_batch_norm_apply(ft_cu_dtype dt, const void *x, const float *scale, const float *bias, const float *mean,
			   const float *invstd, void *y, float *ab, int64_t nb, int64_t c, int64_t s, int relu,
			   void *stream);
/* BatchNorm in inference: y = x * a + b from the running statistics; ab is 2 * c floats of workspace */
int ft_cu_batch_norm_infer(const float *x, const float *scale, const float *bias, const float *mean,
			   const float *var, float *y, float *ab, int64_t nb, int64_t c, int64_t s, float eps,
			   void *stream);
/*
 * Its backward (dy, x, scale, saved mean, saved invstd) -> dx, dscale, dbias:
 * per channel dbias = sum dy, dscale = sum dy * xhat, dx = scale * invstd *
 * (dy - dbias / M - xhat * dscale / M), in double per channel; with ry (the output of a
 * fused ReLU, of dy's type; NULL without) dy counts only where ry > 0. ws:
 * ft_cu_bn_workspace(nb, c, s, 3) bytes.
 */
int ft_cu_batch_norm_grad(ft_cu_dtype dt, const void *dy, const void *ry, const void *x, const float *scale,
			  const float *mean, const float *invstd, void *dx, float *dscale, float *dbias, void *ws,
			  int64_t nb, int64_t c, int64_t s, void *stream);

/*
 * 2-D depthwise convolution (depthwise.cu): x (n, c, h, w), one kh x kw filter per
 * channel, y (n, c, oh, ow); symmetric padding ph, pw. Kernels of at most
 * FT_CU_DW_MAX_TAPS taps.
 */
enum { FT_CU_DW_MAX_TAPS = 49 };
typedef struct ft_cu_dw {
	int64_t n, c, h, w, oh, ow;
	int kh, kw, sh, sw, ph, pw, dh, dw;
} ft_cu_dw;
/* the weight gradient's parts per channel: enough blocks to fill a GPU, at least 4096 positions a part */
static inline int64_t ft_cu_dw_parts(const ft_cu_dw *g)
{
	int64_t m = g->n * g->oh * g->ow, p = (m + 4095) / 4096, fill = g->c > 0 ? (1024 + g->c - 1) / g->c : 1;
	p = p < fill ? p : fill;
	p = p < 64 ? p : 64;
	return p > 1 ? p : 1;
}
/* the weight gradient's workspace: each part's sum of every tap */
static inline size_t ft_cu_dw_workspace(const ft_cu_dw *g)
{
	return sizeof(double) * (size_t)(ft_cu_dw_parts(g) * g->c * g->kh * g->kw);
}
/*
 * which 0: (a x, b w, bias or NULL) -> out y; 1: (a dy, b w) -> out dx; 2: (a dy,
 * b x) -> out dw, ws ft_cu_dw_workspace bytes. Products and sums in float32, the
 * weight gradient's in double, rounded once into dt.
 */
int ft_cu_depthwise(ft_cu_dtype dt, int which, const void *a, const void *b, const void *bias, void *out, void *ws,
		    const ft_cu_dw *g, void *stream);

/* a pooling window over (depth, height, width); 2-D pools have depth 1 */
typedef struct ft_cu_win {
	int64_t planes; /* N * C */
	int64_t in[3], out[3], k[3], s[3], d[3], p[3];
} ft_cu_win;

/* MaxPool without indices: padding never wins, NaN propagates, a window of padding only is -inf */
int ft_cu_max_pool(ft_cu_dtype dt, const void *x, void *y, const ft_cu_win *w, void *stream);
/*
 * each window's dy to the first of its maxima (the first NaN), as the CPU finds
 * it, summed in float32: in dx itself for float32, else in acc (dx's element
 * count of floats of workspace) and rounded into dx
 */
int ft_cu_max_pool_grad(ft_cu_dtype dt, const void *dy, const void *x, void *dx, float *acc, const ft_cu_win *w,
			void *stream);
/* GlobalAveragePool over planes of s values (sums in double), and its gradient dy / s */
int ft_cu_global_avg_pool(const float *x, float *y, int64_t planes, int64_t s, void *stream);
/* y (c) = x (n, c, hw) summed over n and hw per channel, in double, rounded once to dt: the
 * convolution's bias gradient (cuDNN's refuses bfloat16). With hw 1 (rows of c channels:
 * channels last) and ws of ft_cu_channel_sum_workspace bytes, the rows split into parts
 * as BatchNorm's sums are (one block a channel would walk all the rows alone) */
int ft_cu_channel_sum(ft_cu_dtype dt, const void *x, void *y, int64_t n, int64_t c, int64_t hw, void *ws,
		      void *stream);
static inline size_t ft_cu_channel_sum_workspace(int64_t n, int64_t c, int64_t hw)
{
	return hw == 1 ? ft_cu_bn_workspace(n, c, 1, 0) : 0;
}
int ft_cu_global_avg_pool_grad(const float *dy, float *dx, int64_t planes, int64_t s, void *stream);

/* ft.ImageNormalize: y (n, c, hw) float32 = (x / 255 - mean[c]) / std[c], x uint8; mean/std: c floats on the device */
int ft_cu_image_normalize(const uint8_t *x, float *y, const float *mean_std, int64_t n, int64_t c, int64_t hw,
			  void *stream);
/*
 * y (rank, dims) = x[off + sum_d i_d * st[d]] (elements of es bytes, 1, 2, 4 or 8):
 * Transpose, Slice and Expand are this copy with their strides. bc.st[0] holds
 * the strides; bc.st[1] is unused.
 */
int ft_cu_strided_copy(const void *x, int64_t off, void *y, const ft_cu_bcast *bc, int es, void *stream);
/* the inverse: dx (nx elements) zeroed, then dx[off + sum_d i_d * st[d]] = dy[i] (ft.SliceGrad) */
int ft_cu_strided_scatter(const void *dy, void *dx, int64_t nx, int64_t off, const ft_cu_bcast *bc, int es,
			  void *stream);
/*
 * Gather along an axis of x seen as (outer, dim, inner elements of es bytes):
 * y (outer, ni, inner) with int64 indices (negative from the end; out of range
 * gives zeros, the host checked constant indices).
 */
int ft_cu_gather(const void *x, const int64_t *idx, void *y, int64_t outer, int64_t dim, int64_t inner, int64_t ni,
		 int es, void *stream);
/* its gradient: dx (outer, dim, inner) zeroed, dy's rows added at their indices */
int ft_cu_gather_grad(const float *dy, const int64_t *idx, float *dx, int64_t outer, int64_t dim, int64_t inner,
		      int64_t ni, void *stream);
/* Softmax along len of (outer, len, inner), as kernels/cpu/reduce.c (max subtracted, sum in double) */
int ft_cu_softmax(const float *x, float *y, int64_t outer, int64_t len, int64_t inner, void *stream);
/* dx = y * (dy - sum dy * y) along len (the sum in double) */
int ft_cu_softmax_grad(const float *dy, const float *y, float *dx, int64_t outer, int64_t len, int64_t inner,
		       void *stream);
/*
 * LayerNormalization over rows of cols: mean and variance in double (two
 * passes, as the CPU), y = (x - mean) * invstd * scale + bias (bias NULL:
 * none); mean and invstd per row (either NULL).
 */
int ft_cu_layer_norm(const float *x, const float *scale, const float *bias, float *y, float *mean, float *invstd,
		     int64_t rows, int64_t cols, float eps, void *stream);
/* its backward: dx per row; dscale = sum_r dy * xhat and dbias = sum_r dy per column (in double) */
int ft_cu_layer_norm_grad(const float *dy, const float *x, const float *scale, const float *mean,
			  const float *invstd, float *dx, float *dscale, float *dbias, void *ws, int64_t rows, int64_t cols,
			  void *stream);
/* LayerNormGrad's workspace: the row parts' sums for dscale and dbias (ft_cu_sum_run's split) */
static inline size_t ft_cu_layer_norm_grad_workspace(int64_t rows, int64_t cols)
{
	return 2 * ft_cu_sum_run_workspace(1, rows, cols);
}

#ifdef __cplusplus
}
#endif

#endif
