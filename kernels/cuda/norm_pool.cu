// norm_pool.cu - BatchNorm in training and its backward, MaxPool and its backward,
// GlobalAveragePool and its backward (kernels/cuda/ft_cuda.h), with the formulas and the
// tie-breaking of kernels/cpu/norm.c and kernels/cpu/conv.c.
#include "ft_cuda.h"
#include "launch.cuh"

#include <cuda_runtime.h>

namespace {

using namespace ftcu;

__device__ void block_sum2(double &a, double &b, double *sa, double *sb)
{
	sa[threadIdx.x] = a;
	sb[threadIdx.x] = b;
	__syncthreads();
	for (int s = kThreads / 2; s > 0; s >>= 1) {
		if ((int)threadIdx.x < s) {
			sa[threadIdx.x] += sa[threadIdx.x + s];
			sb[threadIdx.x] += sb[threadIdx.x + s];
		}
		__syncthreads();
	}
	a = sa[0];
	b = sb[0];
	__syncthreads();
}

// Channel k's elements, as (batch b, position j in the plane): part p of `parts` walks
// [m p / parts, m (p + 1) / parts) of its m = nb * s elements, kThreads apart, and leaves
// its two sums in part[(k * parts + p) * 2 + {0, 1}]. Many blocks per channel keep the
// GPU busy when channels are few and planes large (one block per channel used 64 of 132
// multiprocessors on ResNet-50's first layers); the parts are added in a fixed order
// afterwards, so the result does not depend on scheduling.
struct chan_walk {
	int64_t b, j, left;
	__device__ chan_walk(int64_t m, int64_t s, int p, int parts)
	{
		int64_t lo = m * p / parts, hi = m * (p + 1) / parts, i = lo + threadIdx.x;
		left = i < hi ? (hi - 1 - i) / kThreads + 1 : 0;
		b = i / s;
		j = i - b * s;
	}
	__device__ void next(int64_t s)
	{
		j += kThreads;
		if (j >= s) {
			int64_t q = j / s;
			b += q;
			j -= q * s;
		}
		left--;
	}
};

// the batch statistics' partial sums: sum x and sum x^2
template <typename T> __global__ void bn_stats_part(const T *x, double *part, int64_t nb, int64_t c, int64_t s)
{
	__shared__ double sa[kThreads], sb[kThreads];
	int64_t k = blockIdx.x;
	double sum = 0, sq = 0;
	for (chan_walk w(nb * s, s, (int)blockIdx.y, (int)gridDim.y); w.left > 0; w.next(s)) {
		double v = ld(x[(w.b * c + k) * s + w.j]);
		sum += v;
		sq += v * v;
	}
	block_sum2(sum, sq, sa, sb);
	if (threadIdx.x == 0) {
		part[(k * gridDim.y + blockIdx.y) * 2] = sum;
		part[(k * gridDim.y + blockIdx.y) * 2 + 1] = sq;
	}
}

// x as rows of c channels (s == 1: channels last, or no spatial axes): a block of 32 x 8
// threads takes 32 channels over its part of the rows, 8 rows at a time, so a warp reads
// 32 neighbouring channels of one row (the channel-per-block walk above would read one
// element per row, c apart). The 8 row lanes are added in order; the parts' sums go where
// bn_stats_part puts them, for bn_stats_finish.
constexpr int kRowLanes = kThreads / 32;

__device__ inline void rows_of_part(int64_t rows, int64_t *lo, int64_t *hi)
{
	*lo = rows * blockIdx.y / gridDim.y;
	*hi = rows * (blockIdx.y + 1) / gridDim.y;
}

__device__ inline void row_lanes_sum2(double &a, double &b, int64_t k, int64_t c, double *part)
{
	__shared__ double sa[kRowLanes][32], sb[kRowLanes][32];
	sa[threadIdx.y][threadIdx.x] = a;
	sb[threadIdx.y][threadIdx.x] = b;
	__syncthreads();
	if (threadIdx.y == 0 && k < c) {
		for (int i = 1; i < kRowLanes; i++) {
			a += sa[i][threadIdx.x];
			b += sb[i][threadIdx.x];
		}
		part[(k * gridDim.y + blockIdx.y) * 2] = a;
		part[(k * gridDim.y + blockIdx.y) * 2 + 1] = b;
	}
}

template <typename T> __global__ void bn_stats_rows(const T *x, double *part, int64_t rows, int64_t c)
{
	int64_t k = (int64_t)blockIdx.x * 32 + threadIdx.x, lo, hi;
	rows_of_part(rows, &lo, &hi);
	double sum = 0, sq = 0;
	if (k < c)
		for (int64_t r = lo + threadIdx.y; r < hi; r += kRowLanes) {
			double v = ld(x[r * c + k]);
			sum += v;
			sq += v * v;
		}
	row_lanes_sum2(sum, sq, k, c, part);
}

// per channel: the parts added in order, then the statistics and the affine map
// the affine map y = x * a + b from a training forward's saved (float32) mean and invstd, as
// kernels/cpu/norm.c's bn_coef_saved: the forward and BatchNormApply share it, bit for bit
__device__ inline void bn_coef_saved(float scale, float bias, float mean, float invstd, float *ab, int64_t c, int64_t k)
{
	// rounded operations that nvcc cannot contract into a fused multiply-add differently in the
	// two kernels that inline this
	double a = __dmul_rn((double)scale, (double)invstd);
	ab[k] = (float)a;
	ab[c + k] = (float)__dsub_rn((double)bias, __dmul_rn((double)mean, a));
}

__global__ void bn_saved_coef(const float *scale, const float *bias, const float *mean, const float *invstd,
			      float *ab, int64_t c)
{
	FTCU_GRID_LOOP(k, c)
	bn_coef_saved(scale[k], bias[k], mean[k], invstd[k], ab, c, k);
}

__global__ void bn_stats_finish(const double *part, int parts, const float *scale, const float *bias,
				float *run_mean, float *run_var, float *saved_mean, float *saved_invstd, float *ab,
				int64_t m, int64_t c, float eps, float momentum)
{
	FTCU_GRID_LOOP(k, c)
	{
		double sum = 0, sq = 0;
		for (int p = 0; p < parts; p++) {
			sum += part[(k * parts + p) * 2];
			sq += part[(k * parts + p) * 2 + 1];
		}
		double cnt = (double)m;
		double mean = cnt > 0 ? sum / cnt : 0.0, var = cnt > 0 ? sq / cnt - mean * mean : 0.0;
		var = var > 0 ? var : 0.0;
		double invstd = 1.0 / sqrt(var + (double)eps);
		saved_mean[k] = (float)mean;
		saved_invstd[k] = (float)invstd;
		bn_coef_saved(scale[k], bias[k], (float)mean, (float)invstd, ab, c, k);
		if (run_mean && run_var) {
			double unbias = cnt > 1 ? cnt / (cnt - 1) : 1.0;
			run_mean[k] = (float)(run_mean[k] * (double)momentum + mean * (1 - (double)momentum));
			run_var[k] = (float)(run_var[k] * (double)momentum + var * unbias * (1 - (double)momentum));
		}
	}
}

__global__ void bn_infer_coef(const float *scale, const float *bias, const float *mean, const float *var, float *ab,
			      int64_t c, float eps)
{
	FTCU_GRID_LOOP(k, c)
	{
		double invstd = 1.0 / sqrt((double)var[k] + (double)eps), a = scale[k] * invstd;
		ab[k] = (float)a;
		ab[c + k] = (float)(bias[k] - mean[k] * a);
	}
}

// the channel of element i of an (n, c, s) tensor: 32-bit division where the sizes allow (a
// 64-bit one is a long emulated sequence, and these kernels are otherwise memory-bound)
__device__ inline int64_t channel_of(int64_t i, int64_t n, int64_t c, int64_t s)
{
	if (n <= 0x7fffffff)
		return (int64_t)(((uint32_t)i / (uint32_t)s) % (uint32_t)c);
	return i / s % c;
}

// y = x a + b per channel; with relu (a fused ReLU, runtime/train.c) max(., 0) before rounding,
// as the CPU's kernel computes it
template <typename T>
__global__ void bn_apply(const T *x, const float *ab, T *y, int64_t n, int64_t c, int64_t s, bool relu)
{
	FTCU_GRID_LOOP(i, n)
	{
		int64_t k = channel_of(i, n, c, s);
		float v = ld(x[i]) * ab[k] + ab[c + k];
		y[i] = st<T>(relu && v < 0 ? 0.0f : v);
	}
}

// dy as the backward reads it: with a fused ReLU's output ry, dy where ry > 0, else 0 (ReluGrad)
template <typename T> __device__ inline double dy_at(const T *dy, const T *ry, int64_t i)
{
	return ry && !(ld(ry[i]) > 0.0f) ? 0.0 : (double)ld(dy[i]);
}

// the backward's partial sums: sum dy and sum dy (x - mean)
template <typename T>
__global__ void bn_grad_part(const T *dy, const T *ry, const T *x, const float *mean, double *part, int64_t nb,
			     int64_t c, int64_t s)
{
	__shared__ double sa[kThreads], sb[kThreads];
	int64_t k = blockIdx.x;
	double mk = mean[k], sum = 0, dot = 0;
	for (chan_walk w(nb * s, s, (int)blockIdx.y, (int)gridDim.y); w.left > 0; w.next(s)) {
		int64_t at = (w.b * c + k) * s + w.j;
		double g = dy_at(dy, ry, at);
		sum += g;
		dot += g * ((double)ld(x[at]) - mk);
	}
	block_sum2(sum, dot, sa, sb);
	if (threadIdx.x == 0) {
		part[(k * gridDim.y + blockIdx.y) * 2] = sum;
		part[(k * gridDim.y + blockIdx.y) * 2 + 1] = dot;
	}
}

// the backward's partial sums over rows of c channels (as bn_stats_rows)
template <typename T>
__global__ void bn_grad_rows(const T *dy, const T *ry, const T *x, const float *mean, double *part, int64_t rows,
			     int64_t c)
{
	int64_t k = (int64_t)blockIdx.x * 32 + threadIdx.x, lo, hi;
	rows_of_part(rows, &lo, &hi);
	double sum = 0, dot = 0;
	if (k < c) {
		double mk = mean[k];
		for (int64_t r = lo + threadIdx.y; r < hi; r += kRowLanes) {
			double g = dy_at(dy, ry, r * c + k);
			sum += g;
			dot += g * ((double)ld(x[r * c + k]) - mk);
		}
	}
	row_lanes_sum2(sum, dot, k, c, part);
}

__global__ void bn_grad_finish(const double *part, int parts, const float *scale, const float *mean,
			       const float *invstd, float *dscale, float *dbias, float *coef, int64_t m, int64_t c)
{
	FTCU_GRID_LOOP(k, c)
	{
		double sum = 0, dot = 0;
		for (int p = 0; p < parts; p++) {
			sum += part[(k * parts + p) * 2];
			dot += part[(k * parts + p) * 2 + 1];
		}
		double is = invstd[k], cnt = (double)m, mk = mean[k];
		dbias[k] = (float)sum;
		dscale[k] = (float)(dot * is);
		double a = scale[k] * is, gm = cnt > 0 ? sum / cnt : 0.0;
		double b = cnt > 0 ? -a * is * is * dot / cnt : 0.0;
		coef[k] = (float)a;
		coef[c + k] = (float)b;
		coef[2 * c + k] = (float)(-a * gm - b * mk);
	}
}

template <typename T>
__global__ void bn_grad_apply(const T *dy, const T *ry, const T *x, const float *coef, T *dx, int64_t n, int64_t c,
			      int64_t s)
{
	FTCU_GRID_LOOP(i, n)
	{
		int64_t k = channel_of(i, n, c, s);
		dx[i] = st<T>(coef[k] * (float)dy_at(dy, ry, i) + coef[c + k] * ld(x[i]) + coef[2 * c + k]);
	}
}

// taps t in [lo, hi) of a window starting at `start` with dilation d inside [0, in)
__device__ inline void tap_range(int64_t start, int64_t k, int64_t d, int64_t in, int64_t &lo, int64_t &hi)
{
	int64_t a = start < 0 ? (-start + d - 1) / d : 0;
	int64_t b = start >= in ? 0 : (in - 1 - start) / d + 1;
	if (b > k)
		b = k;
	lo = a;
	hi = b > a ? b : a;
}

// the input offset (within its plane) of the window's maximum for output o of plane p, -1 for none
template <typename T> __device__ inline int64_t window_max(const T *xp, const ft_cu_win &w, int64_t o, float &best)
{
	int64_t ow = o % w.out[2], oh = o / w.out[2] % w.out[1], od = o / (w.out[2] * w.out[1]);
	int64_t sd = od * w.s[0] - w.p[0], sh = oh * w.s[1] - w.p[1], sw = ow * w.s[2] - w.p[2];
	int64_t d0, d1, h0, h1, w0, w1;
	tap_range(sd, w.k[0], w.d[0], w.in[0], d0, d1);
	tap_range(sh, w.k[1], w.d[1], w.in[1], h0, h1);
	tap_range(sw, w.k[2], w.d[2], w.in[2], w0, w1);
	int64_t at = -1;
	best = -INFINITY;
	for (int64_t kd = d0; kd < d1; kd++)
		for (int64_t kh = h0; kh < h1; kh++) {
			int64_t row = ((sd + kd * w.d[0]) * w.in[1] + sh + kh * w.d[1]) * w.in[2];
			for (int64_t kw = w0; kw < w1; kw++) {
				float e = ld(xp[row + sw + kw * w.d[2]]);
				if (at < 0 || e > best || (e != e && best == best)) {
					best = e;
					at = row + sw + kw * w.d[2];
				}
			}
		}
	return at;
}

template <typename T> __global__ void max_pool(const T *x, T *y, ft_cu_win w)
{
	int64_t osz = w.out[0] * w.out[1] * w.out[2], isz = w.in[0] * w.in[1] * w.in[2];
	FTCU_GRID_LOOP(i, w.planes * osz)
	{
		float best;
		window_max(x + i / osz * isz, w, i % osz, best);
		y[i] = st<T>(best); /* exact: one of the window's values, or -inf */
	}
}

// into float32 (dx itself for float32, else the workspace, rounded into dx afterwards)
template <typename T> __global__ void max_pool_grad(const T *dy, const T *x, float *dx, ft_cu_win w)
{
	int64_t osz = w.out[0] * w.out[1] * w.out[2], isz = w.in[0] * w.in[1] * w.in[2];
	FTCU_GRID_LOOP(i, w.planes * osz)
	{
		float best;
		int64_t p = i / osz, at = window_max(x + p * isz, w, i % osz, best);
		if (at >= 0)
			atomicAdd(dx + p * isz + at, ld(dy[i]));
	}
}

// one block per plane
__global__ void global_avg(const float *x, float *y, int64_t s)
{
	__shared__ double sh[kThreads];
	const float *xp = x + blockIdx.x * s;
	double sum = 0;
	for (int64_t i = threadIdx.x; i < s; i += kThreads)
		sum += xp[i];
	sum = block_sum(sum, sh);
	if (threadIdx.x == 0)
		y[blockIdx.x] = (float)(sum / (double)s);
}

// one block per channel of x (n, c, hw): y[ch] = the sum over n and hw, in double, rounded once
template <typename T> __global__ void channel_sum(const T *x, T *y, int64_t n, int64_t c, int64_t hw)
{
	__shared__ double sh[kThreads];
	int64_t ch = blockIdx.x;
	double sum = 0;
	for (int64_t b = 0; b < n; b++) {
		const T *xp = x + (b * c + ch) * hw;
		for (int64_t i = threadIdx.x; i < hw; i += kThreads)
			sum += ld(xp[i]);
	}
	sum = block_sum(sum, sh);
	if (threadIdx.x == 0)
		y[ch] = st<T>((float)sum);
}

// the parts of bn_stats_rows added in order per channel: y[k] = their sums, rounded once
template <typename T> __global__ void channel_sum_finish(const double *part, int parts, T *y, int64_t c)
{
	FTCU_GRID_LOOP(k, c)
	{
		double sum = 0;
		for (int p = 0; p < parts; p++)
			sum += part[(k * parts + p) * 2];
		y[k] = st<T>((float)sum);
	}
}

__global__ void global_avg_grad(const float *dy, float *dx, int64_t n, int64_t s)
{
	FTCU_GRID_LOOP(i, n)
	dx[i] = (float)((double)dy[i / s] / (double)s);
}

} // namespace

extern "C" int ft_cu_batch_norm_train(ft_cu_dtype dt, const void *x, const float *scale, const float *bias,
				      float *run_mean, float *run_var, void *y, float *saved_mean, float *saved_invstd,
				      void *ws, int64_t nb, int64_t c, int64_t s, float eps, float momentum, int relu,
				      void *stream)
{
	cudaStream_t st = (cudaStream_t)stream;
	if (c == 0 || nb * s == 0) /* nothing to normalise (a grid of 0 blocks is an invalid launch) */
		return 0;
	int parts = (int)ft_cu_bn_parts(nb, c, s);
	double *part = (double *)ws;                   /* the workspace: the parts' two sums each, */
	float *ab = (float *)(part + 2 * c * parts); /* then the coefficients (ft_cu_bn_workspace) */
	dim3 grid((unsigned)c, (unsigned)parts), tiles((unsigned)((c + 31) / 32), (unsigned)parts), lanes(32, kRowLanes);
#define L(T)                                                                                                    \
	if (s == 1)                                                                                             \
		bn_stats_rows<T><<<tiles, lanes, 0, st>>>((const T *)x, part, nb, c);                             \
	else                                                                                                    \
		bn_stats_part<T><<<grid, kThreads, 0, st>>>((const T *)x, part, nb, c, s);                        \
	bn_stats_finish<<<blocks_for(c), kThreads, 0, st>>>(part, parts, scale, bias, run_mean, run_var,          \
							    saved_mean, saved_invstd, ab, nb * s, c, eps, momentum); \
	bn_apply<T><<<blocks_for(nb * c * s), kThreads, 0, st>>>((const T *)x, ab, (T *)y, nb * c * s, c, s, relu != 0)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_batch_norm_apply(ft_cu_dtype dt, const void *x, const float *scale, const float *bias,
				      const float *mean, const float *invstd, void *y, float *ab, int64_t nb, int64_t c,
				      int64_t s, int relu, void *stream)
{
	cudaStream_t st = (cudaStream_t)stream;
	if (c == 0 || nb * s == 0)
		return 0;
	bn_saved_coef<<<blocks_for(c), kThreads, 0, st>>>(scale, bias, mean, invstd, ab, c);
#define L(T)                                                                                               \
	bn_apply<T><<<blocks_for(nb * c * s), kThreads, 0, st>>>((const T *)x, ab, (T *)y, nb * c * s, c, s, relu != 0)
	FTCU_BY_TYPE(dt, L);
#undef L
	return launched();
}

extern "C" int ft_cu_batch_norm_infer(const float *x, const float *scale, const float *bias, const float *mean,
				      const float *var, float *y, float *ab, int64_t nb, int64_t c, int64_t s, float eps,
				      void *stream)
{
	cudaStream_t st = (cudaStream_t)stream;
	bn_infer_coef<<<blocks_for(c), kThreads, 0, st>>>(scale, bias, mean, var, ab, c, eps);
	bn_apply<float><<<blocks_for(nb * c * s), kThreads, 0, st>>>(x, ab, y, nb * c * s, c, s, false);
	return launched();
}

extern "C" int ft_cu_batch_norm_grad(ft_cu_dtype dt, const void *dy, const void *ry, const void *x,
				     const float *scale, const float *mean, const float *invstd, void *dx, float *dscale,
				     float *dbias, void *ws, int64_t nb, int64_t c, int64_t s, void *stream)
{
	cudaStream_t st = (cudaStream_t)stream;
	if (c == 0 || nb * s == 0)
		return 0;
	int parts = (int)ft_cu_bn_parts(nb, c, s);
	double *part = (double *)ws;                   /* the workspace: the parts' two sums each, */
	float *coef = (float *)(part + 2 * c * parts); /* then the coefficients (ft_cu_bn_workspace) */
	dim3 grid((unsigned)c, (unsigned)parts), tiles((unsigned)((c + 31) / 32), (unsigned)parts), lanes(32, kRowLanes);
#define L(T)                                                                                                       \
	if (s == 1)                                                                                                \
		bn_grad_rows<T><<<tiles, lanes, 0, st>>>((const T *)dy, (const T *)ry, (const T *)x, mean, part, nb, c); \
	else                                                                                                       \
		bn_grad_part<T><<<grid, kThreads, 0, st>>>((const T *)dy, (const T *)ry, (const T *)x, mean, part, nb, c, \
							   s);                                                              \
	bn_grad_finish<<<blocks_for(c), kThreads, 0, st>>>(part, parts, scale, mean, invstd, dscale, dbias, coef,    \
							   nb * s, c);                                               \
	if (dx)                                                                                                    \
		bn_grad_apply<T><<<blocks_for(nb * c * s), kThreads, 0, st>>>((const T *)dy, (const T *)ry, (const T *)x, \
									      coef, (T *)dx, nb * c * s, c, s)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_max_pool(ft_cu_dtype dt, const void *x, void *y, const ft_cu_win *w, void *stream)
{
	int64_t n = w->planes * w->out[0] * w->out[1] * w->out[2];
#define L(T) max_pool<T><<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>((const T *)x, (T *)y, *w)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_max_pool_grad(ft_cu_dtype dt, const void *dy, const void *x, void *dx, float *acc,
				   const ft_cu_win *w, void *stream)
{
	cudaStream_t st = (cudaStream_t)stream;
	int64_t nx = w->planes * w->in[0] * w->in[1] * w->in[2], n = w->planes * w->out[0] * w->out[1] * w->out[2];
	float *sum = dt == FT_CU_F32 ? (float *)dx : acc;
	cudaError_t e = cudaMemsetAsync(sum, 0, sizeof(float) * (size_t)nx, st);
	if (e != cudaSuccess)
		return (int)e;
#define L(T) max_pool_grad<T><<<blocks_for(n), kThreads, 0, st>>>((const T *)dy, (const T *)x, sum, *w)
	FTCU_BY_TYPE(dt, L)
#undef L
	if (dt != FT_CU_F32) /* the float32 sums rounded into dx */
		return ft_cu_narrow(dt, sum, dx, nx, stream);
	return launched();
}

extern "C" int ft_cu_global_avg_pool(const float *x, float *y, int64_t planes, int64_t s, void *stream)
{
	global_avg<<<(unsigned)planes, kThreads, 0, (cudaStream_t)stream>>>(x, y, s);
	return launched();
}

extern "C" int ft_cu_channel_sum(ft_cu_dtype dt, const void *x, void *y, int64_t n, int64_t c, int64_t hw, void *ws,
				 void *stream)
{
	cudaStream_t st = (cudaStream_t)stream;
	if (c == 0)
		return 0;
	if (hw == 1 && n > 0 && ws) { /* rows of c channels (channels last): tiles over parts of the rows */
		int parts = (int)ft_cu_bn_parts(n, c, 1);
		dim3 tiles((unsigned)((c + 31) / 32), (unsigned)parts), lanes(32, kRowLanes);
#define L(T)                                                                                           \
	bn_stats_rows<T><<<tiles, lanes, 0, st>>>((const T *)x, (double *)ws, n, c);                     \
	channel_sum_finish<T><<<blocks_for(c), kThreads, 0, st>>>((const double *)ws, parts, (T *)y, c)
		FTCU_BY_TYPE(dt, L)
#undef L
		return launched();
	}
#define L(T) channel_sum<T><<<(unsigned)c, kThreads, 0, st>>>((const T *)x, (T *)y, n, c, hw)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_global_avg_pool_grad(const float *dy, float *dx, int64_t planes, int64_t s, void *stream)
{
	global_avg_grad<<<blocks_for(planes * s), kThreads, 0, (cudaStream_t)stream>>>(dy, dx, planes * s, s);
	return launched();
}
