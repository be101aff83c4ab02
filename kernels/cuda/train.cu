// train.cu - the loss, the reduction of broadcast gradients, gradient accumulation, the
// optimizer steps and Gemm's bias (kernels/cuda/ft_cuda.h), with kernels/cpu/train.c's
// formulas.
#include "ft_cuda.h"
#include "launch.cuh"

#include <cuda_runtime.h>

namespace {

using namespace ftcu;

__device__ float block_max(float v, float *shared)
{
	shared[threadIdx.x] = v;
	__syncthreads();
	for (int s = kThreads / 2; s > 0; s >>= 1) {
		if ((int)threadIdx.x < s)
			shared[threadIdx.x] = fmaxf(shared[threadIdx.x], shared[threadIdx.x + s]);
		__syncthreads();
	}
	float r = shared[0];
	__syncthreads();
	return r;
}

// one block per row
__global__ void sce_rows(const float *logits, const int64_t *labels, float *probs, double *row_loss, int64_t c,
			 float ls)
{
	__shared__ double dsh[kThreads];
	__shared__ float fsh[kThreads];
	int64_t i = blockIdx.x;
	const float *row = logits + i * c;
	float *p = probs + i * c;
	float mx = -INFINITY;
	for (int64_t k = threadIdx.x; k < c; k += kThreads)
		mx = fmaxf(mx, row[k]);
	mx = block_max(mx, fsh);
	double sum = 0;
	for (int64_t k = threadIdx.x; k < c; k += kThreads)
		sum += exp((double)row[k] - mx);
	sum = block_sum(sum, dsh);
	double lse = log(sum) + mx;
	int64_t y = labels[i];
	double loss = 0;
	for (int64_t k = threadIdx.x; k < c; k += kThreads) {
		double logp = (double)row[k] - lse;
		p[k] = (float)exp(logp);
		double target = (k == y ? 1.0 - ls : 0.0) + ls / (double)c;
		loss -= target * logp;
	}
	loss = block_sum(loss, dsh);
	if (threadIdx.x == 0)
		row_loss[i] = loss;
}

__global__ void sce_mean(const double *row_loss, int64_t n, float *loss)
{
	__shared__ double dsh[kThreads];
	double s = 0;
	for (int64_t i = threadIdx.x; i < n; i += kThreads)
		s += row_loss[i];
	s = block_sum(s, dsh);
	if (threadIdx.x == 0)
		*loss = (float)(s / (double)n);
}

__global__ void sce_grad(const float *dloss, const float *probs, const int64_t *labels, float *dx, int64_t n,
			 int64_t c, float ls)
{
	float scale = *dloss / (float)n;
	FTCU_GRID_LOOP(idx, n * c)
	{
		int64_t i = idx / c, k = idx - i * c;
		float target = (k == labels[i] ? 1.0f - ls : 0.0f) + ls / (float)c;
		dx[idx] = scale * (probs[idx] - target);
	}
}

template <typename T> __global__ void reduce_sum_to(const T *x, float *y, int64_t nx, ft_cu_bcast bc)
{
	FTCU_GRID_LOOP(i, nx)
	{
		int64_t off = 0, r = i;
		for (int d = bc.rank - 1; d >= 0; d--) {
			int64_t q = r / bc.dims[d];
			off += (r - q * bc.dims[d]) * bc.st[0][d];
			r = q;
		}
		atomicAdd(y + off, ld(x[i]));
	}
}

// ft_cu_sum_run, i == 1: grid (o, parts); block (o, p) sums x[o, r0:r1) (its part of r) in double
template <typename T> __global__ void sum_run_rows(const T *x, double *part, int64_t on, int64_t rn, int64_t parts)
{
	__shared__ double sh[kThreads];
	int64_t o = blockIdx.x, p = blockIdx.y, r0 = rn * p / parts, r1 = rn * (p + 1) / parts;
	const T *xo = x + o * rn;
	double sum = 0;
	for (int64_t r = r0 + threadIdx.x; r < r1; r += kThreads)
		sum += ld(xo[r]);
	sum = block_sum(sum, sh);
	if (threadIdx.x == 0)
		part[p * on + o] = sum;
}

// i > 1: grid (o * tiles of 32 columns, parts), block (32, 8): column i of x[o, r0:r1, :] in double,
// the 8 rows' sums added in order; reads are coalesced along i
template <typename T> __global__ void sum_run_cols(const T *x, double *part, int64_t on, int64_t rn, int64_t in,
						   int64_t parts)
{
	__shared__ double sh[8][33];
	int64_t tiles = (in + 31) / 32, o = blockIdx.x / tiles, i = (blockIdx.x % tiles) * 32 + threadIdx.x;
	int64_t p = blockIdx.y, r0 = rn * p / parts, r1 = rn * (p + 1) / parts;
	double sum = 0;
	if (i < in)
		for (int64_t r = r0 + threadIdx.y; r < r1; r += 8)
			sum += ld(x[(o * rn + r) * in + i]);
	sh[threadIdx.y][threadIdx.x] = sum;
	__syncthreads();
	if (threadIdx.y == 0 && i < in) {
		double t = 0;
		for (int k = 0; k < 8; k++)
			t += sh[k][threadIdx.x];
		part[p * on * in + o * in + i] = t;
	}
}

__global__ void grad_accum(float *acc, const float *g, const float *first, int64_t n)
{
	bool f = *first != 0.0f;
	FTCU_GRID_LOOP(i, n)
	acc[i] = f ? g[i] : acc[i] + g[i];
}

// one element of PyTorch's SGD and AdamW steps (kernels/cpu/train.c's arithmetic)
__device__ inline void sgd_at(float *p, const float *g, float *v, int64_t i, float rate, float s, float mom,
			      float damp, float wd, bool nesterov)
{
	float d = g[i] * s + wd * p[i];
	if (v && mom != 0.0f) {
		v[i] = mom * v[i] + (1.0f - damp) * d;
		d = nesterov ? d + mom * v[i] : v[i];
	}
	p[i] -= rate * d;
}

struct adamw_coef {
	float lr, s, step, bc2_sqrt, b1, b2, eps, wd;
	__device__ adamw_coef(float lr_, float t, float s_, float b1_, float b2_, float eps_, float wd_)
		: lr(lr_), s(s_), b1(b1_), b2(b2_), eps(eps_), wd(wd_)
	{
		float bc1 = 1.0f - powf(b1, t), bc2 = 1.0f - powf(b2, t);
		step = lr / bc1;
		bc2_sqrt = sqrtf(bc2);
	}
	__device__ void at(float *p, const float *g, float *m, float *v, int64_t i) const
	{
		float gi = g[i] * s;
		p[i] *= 1.0f - lr * wd;
		m[i] = b1 * m[i] + (1.0f - b1) * gi;
		v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
		p[i] -= step * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
	}
};

__global__ void sgd(float *p, const float *g, float *v, int64_t n, const float *lr, const float *scale,
		    const float *found_inf, float mom, float damp, float wd, bool nesterov)
{
	if (found_inf && *found_inf != 0.0f)
		return;
	float rate = *lr, s = scale ? *scale : 1.0f;
	FTCU_GRID_LOOP(i, n)
	sgd_at(p, g, v, i, rate, s, mom, damp, wd, nesterov);
}

__global__ void adamw(float *p, const float *g, float *m, float *v, int64_t n, const float *lr_, const float *t_,
		      const float *scale, const float *found_inf, float b1, float b2, float eps, float wd)
{
	if (found_inf && *found_inf != 0.0f)
		return;
	adamw_coef k(*lr_, *t_, scale ? *scale : 1.0f, b1, b2, eps, wd);
	FTCU_GRID_LOOP(i, n)
	k.at(p, g, m, v, i);
}

__global__ void sgd_multi(multi_list L, const float *lr, const float *scale, const float *found_inf, float mom,
			  float damp, float wd, bool nesterov)
{
	if (found_inf && *found_inf != 0.0f)
		return;
	float rate = *lr, s = scale ? *scale : 1.0f;
	int64_t i, stride;
	int t = multi_tensor(L, &i, &stride);
	for (; i < L.n[t]; i += stride)
		sgd_at(L.p[t], L.g[t], L.s1[t], i, rate, s, mom, damp, wd, nesterov);
}

__global__ void adamw_multi(multi_list L, const float *lr, const float *t_, const float *scale, const float *found_inf,
			    float b1, float b2, float eps, float wd)
{
	if (found_inf && *found_inf != 0.0f)
		return;
	adamw_coef k(*lr, *t_, scale ? *scale : 1.0f, b1, b2, eps, wd);
	int64_t i, stride;
	int t = multi_tensor(L, &i, &stride);
	for (; i < L.n[t]; i += stride)
		k.at(L.p[t], L.g[t], L.s1[t], L.s2[t], i);
}


// Y: float, or T itself (then beta is 1 and the copy exact)
template <typename T, typename Y>
__global__ void gemm_bias(Y *y, const T *c, int64_t m, int64_t n, int64_t csi, int64_t csj, float beta)
{
	FTCU_GRID_LOOP(idx, m * n)
	{
		int64_t i = idx / n, j = idx - i * n;
		y[idx] = st<Y>(beta * ld(c[i * csi + j * csj]));
	}
}

} // namespace

extern "C" int ft_cu_softmax_cross_entropy(const float *logits, const int64_t *labels, float *loss, float *probs,
					   double *row_loss, int64_t n, int64_t c, float ls, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	sce_rows<<<(unsigned)n, kThreads, 0, s>>>(logits, labels, probs, row_loss, c, ls);
	sce_mean<<<1, kThreads, 0, s>>>(row_loss, n, loss);
	return launched();
}

extern "C" int ft_cu_softmax_cross_entropy_grad(const float *dloss, const float *probs, const int64_t *labels,
						float *dx, int64_t n, int64_t c, float ls, void *stream)
{
	sce_grad<<<blocks_for(n * c), kThreads, 0, (cudaStream_t)stream>>>(dloss, probs, labels, dx, n, c, ls);
	return launched();
}

extern "C" int ft_cu_reduce_sum_to(ft_cu_dtype dt, const void *x, void *y, float *acc, int64_t nx, int64_t ny,
				   const ft_cu_bcast *bc, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	float *sum = dt == FT_CU_F32 ? (float *)y : acc;
	cudaError_t e = cudaMemsetAsync(sum, 0, sizeof(float) * (size_t)ny, s);
	if (e != cudaSuccess)
		return (int)e;
#define L(T) reduce_sum_to<T><<<blocks_for(nx), kThreads, 0, s>>>((const T *)x, sum, nx, *bc)
	FTCU_BY_TYPE(dt, L)
#undef L
	if (dt != FT_CU_F32) /* the float32 sums rounded into y */
		return ft_cu_narrow(dt, sum, y, ny, stream);
	return launched();
}

extern "C" int ft_cu_sum_run(ft_cu_dtype dt, const void *x, void *y, void *ws, int64_t o, int64_t r, int64_t i,
			     void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	if (o * i == 0) /* (nothing to write: a grid of 0 blocks is an invalid launch) */
		return 0;
	int64_t parts = ft_cu_sum_run_parts(o, r, i);
	double *part = (double *)ws;
	if (i == 1) {
		dim3 grid((unsigned)o, (unsigned)parts);
#define L(T) sum_run_rows<T><<<grid, kThreads, 0, s>>>((const T *)x, part, o, r, parts)
		FTCU_BY_TYPE(dt, L)
#undef L
	} else {
		dim3 grid((unsigned)(o * ((i + 31) / 32)), (unsigned)parts), block(32, 8);
#define L(T) sum_run_cols<T><<<grid, block, 0, s>>>((const T *)x, part, o, r, i, parts)
		FTCU_BY_TYPE(dt, L)
#undef L
	}
#define L(T) sum_parts<T><<<blocks_for(o * i), kThreads, 0, s>>>(part, (T *)y, o * i, parts)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_grad_accum(float *acc, const float *g, const float *first, int64_t n, void *stream)
{
	grad_accum<<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(acc, g, first, n);
	return launched();
}

extern "C" int ft_cu_sgd_step(float *p, const float *g, float *v, int64_t n, const float *lr, const float *scale,
			      const float *found_inf, float momentum, float dampening, float wd, int nesterov,
			      void *stream)
{
	sgd<<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(p, g, v, n, lr, scale, found_inf, momentum, dampening,
								  wd, nesterov != 0);
	return launched();
}

extern "C" int ft_cu_sgd_multi(float *const *p, const float *const *g, float *const *v, const int64_t *n, int count,
			       const float *lr, const float *scale, const float *found_inf, float momentum,
			       float dampening, float wd, int nesterov, void *stream)
{
	for (int at = 0; at < count; at += kMulti) {
		int blocks, k = count - at < kMulti ? count - at : kMulti;
		multi_list L = multi_of(p, g, v, nullptr, n, at, k, &blocks);
		if (blocks)
			sgd_multi<<<blocks, kThreads, 0, (cudaStream_t)stream>>>(L, lr, scale, found_inf, momentum, dampening,
										 wd, nesterov != 0);
	}
	return launched();
}

extern "C" int ft_cu_adamw_multi(float *const *p, const float *const *g, float *const *m, float *const *v,
				 const int64_t *n, int count, const float *lr, const float *t, const float *scale,
				 const float *found_inf, float beta1, float beta2, float eps, float wd, void *stream)
{
	for (int at = 0; at < count; at += kMulti) {
		int blocks, k = count - at < kMulti ? count - at : kMulti;
		multi_list L = multi_of(p, g, m, v, n, at, k, &blocks);
		if (blocks)
			adamw_multi<<<blocks, kThreads, 0, (cudaStream_t)stream>>>(L, lr, t, scale, found_inf, beta1, beta2,
										   eps, wd);
	}
	return launched();
}

extern "C" int ft_cu_adamw_step(float *p, const float *g, float *m, float *v, int64_t n, const float *lr,
				const float *t, const float *scale, const float *found_inf, float beta1, float beta2,
				float eps, float wd, void *stream)
{
	adamw<<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(p, g, m, v, n, lr, t, scale, found_inf, beta1, beta2,
								    eps, wd);
	return launched();
}

extern "C" int ft_cu_gemm_bias(ft_cu_dtype dt, void *y, bool y_of_dt, const void *c, int64_t m, int64_t n,
			       int64_t csi, int64_t csj, float beta, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
#define L(T)                                                                                                      \
	if (y_of_dt)                                                                                              \
		gemm_bias<T, T><<<blocks_for(m * n), kThreads, 0, s>>>((T *)y, (const T *)c, m, n, csi, csj, beta); \
	else                                                                                                      \
		gemm_bias<T, float><<<blocks_for(m * n), kThreads, 0, s>>>((float *)y, (const T *)c, m, n, csi, csj, beta)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_narrow(ft_cu_dtype dt, const float *x, void *y, int64_t n, void *stream)
{
#define L(T) narrow<T><<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(x, (T *)y, n)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}
