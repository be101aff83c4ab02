// elementwise.cu - elementwise kernels, their gradients, Cast and the loss scaler's
// unscale and update (kernels/cuda/ft_cuda.h). Grid-stride loops over int64 indices;
// float32 arithmetic with the same formulas as kernels/cpu/elementwise.c, on float32,
// float16 or bfloat16 storage (loaded to float32, stored rounded to nearest even, as the
// CPU backend's widened kernels do).
#include "ft_cuda.h"
#include "launch.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace {

using namespace ftcu;

__device__ inline float binary(ft_cu_binary op, float a, float b)
{
	switch (op) {
	case FT_CU_ADD: return a + b;
	case FT_CU_SUB: return a - b;
	case FT_CU_MUL: return a * b;
	default: return a / b;
	}
}

/*
 * The vectorised kernels: elementwise work on operands laid out as the output, V elements per
 * thread with one aligned 16-byte load or store per operand (V = 4 float32 or 8 of a 16-bit
 * type; a cast takes the V of its wider type) and 32-bit indices; the last n % V one per
 * thread, by the first threads of the grid. vec_ok says when they apply: every address aligned
 * to its vector (planned tensors are 64-byte aligned; a view at an odd offset is not) and n
 * within 32 bits.
 */
template <typename T> constexpr int vlen()
{
	return 16 / (int)sizeof(T);
}

template <typename T, int V> struct alignas(sizeof(T) * V) vec {
	T v[V];
};

size_t cu_size(ft_cu_dtype t)
{
	return t == FT_CU_F16 || t == FT_CU_BF16 ? 2 : 4;
}

// a: the vector's bytes (16, or a cast's narrower side)
bool vec_ok(int64_t n, size_t a, const void *p0, const void *p1, const void *p2 = nullptr)
{
	return n < ((int64_t)1 << 31) && (uintptr_t)p0 % a == 0 && (uintptr_t)p1 % a == 0 && (uintptr_t)p2 % a == 0;
}

template <typename T, int V> __device__ inline vec<T, V> vload(const T *p, uint32_t i)
{
	return reinterpret_cast<const vec<T, V> *>(p)[i];
}

template <typename T, int V> __device__ inline void vstore(T *p, uint32_t i, const vec<T, V> &v)
{
	reinterpret_cast<vec<T, V> *>(p)[i] = v;
}

template <typename T, int V> __global__ void binary_vec_kernel(ft_cu_binary op, const T *a, const T *b, T *y, uint32_t n)
{
	uint32_t nv = n / V, g = blockIdx.x * blockDim.x + threadIdx.x;
	for (uint32_t i = g; i < nv; i += gridDim.x * blockDim.x) {
		vec<T, V> x0 = vload<T, V>(a, i), x1 = vload<T, V>(b, i), r;
#pragma unroll
		for (int k = 0; k < V; k++)
			r.v[k] = st<T>(binary(op, ld(x0.v[k]), ld(x1.v[k])));
		vstore<T, V>(y, i, r);
	}
	if (g < n - nv * V)
		y[nv * V + g] = st<T>(binary(op, ld(a[nv * V + g]), ld(b[nv * V + g])));
}

// same_a, same_b: that operand is laid out as the output (no offset to walk)
template <typename T, typename I>
__global__ void binary_kernel(ft_cu_binary op, const T *a, const T *b, T *y, I n, ft_cu_bcast bc, bool same_a,
			      bool same_b)
{
	for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < n; i += (I)gridDim.x * blockDim.x) {
		float x0 = ld(same_a ? a[i] : a[walk_offset<I>(bc, 0, i)]);
		float x1 = ld(same_b ? b[i] : b[walk_offset<I>(bc, 1, i)]);
		y[i] = st<T>(binary(op, x0, x1));
	}
}

__device__ inline float hsig(float v) // NaN passes, as on the CPU
{
	return v < 0 ? 0.0f : v > 1 ? 1.0f : v;
}

__device__ inline float unary(ft_cu_unary op, float x, float alpha, float beta)
{
	switch (op) {
	case FT_CU_RELU: return x < 0 ? 0.0f : x;
	case FT_CU_LEAKY_RELU: return x < 0 ? x * alpha : x;
	case FT_CU_SIGMOID: return 1.0f / (1.0f + expf(-x));
	case FT_CU_TANH: return tanhf(x);
	case FT_CU_ERF: return erff(x);
	case FT_CU_SQRT: return sqrtf(x);
	case FT_CU_EXP: return expf(x);
	case FT_CU_LOG: return logf(x);
	case FT_CU_NEG: return -x;
	case FT_CU_ABS: return fabsf(x);
	case FT_CU_RECIPROCAL: return 1.0f / x;
	case FT_CU_HARD_SIGMOID: return hsig(alpha * x + beta);
	case FT_CU_HARD_SWISH: return x * hsig(x / 6 + 0.5f);
	case FT_CU_SILU: return x * (1.0f / (1.0f + expf(-x)));
	case FT_CU_GELU: return x * (erff(x / 1.41421353816986083984375f) + 1.0f) * 0.5f;
	default: return x;
	}
}

template <typename T>
__global__ void unary_kernel(ft_cu_unary op, const T *x, T *y, int64_t n, float alpha, float beta)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
		y[i] = st<T>(unary(op, ld(x[i]), alpha, beta));
}

template <typename T, int V>
__global__ void unary_vec_kernel(ft_cu_unary op, const T *x, T *y, uint32_t n, float alpha, float beta)
{
	uint32_t nv = n / V, g = blockIdx.x * blockDim.x + threadIdx.x;
	for (uint32_t i = g; i < nv; i += gridDim.x * blockDim.x) {
		vec<T, V> a = vload<T, V>(x, i), r;
#pragma unroll
		for (int k = 0; k < V; k++)
			r.v[k] = st<T>(unary(op, ld(a.v[k]), alpha, beta));
		vstore<T, V>(y, i, r);
	}
	if (g < n - nv * V)
		y[nv * V + g] = st<T>(unary(op, ld(x[nv * V + g]), alpha, beta));
}

__device__ inline float unary_grad(ft_cu_unary_grad op, float d, float v, float p0, float p1)
{
	switch (op) {
	case FT_CU_RELU_GRAD: return v > 0 ? d : 0.0f;
	case FT_CU_LEAKY_RELU_GRAD: return v > 0 ? d : d * p0;
	case FT_CU_SIGMOID_GRAD: return d * v * (1.0f - v);
	case FT_CU_TANH_GRAD: return d * (1.0f - v * v);
	case FT_CU_ERF_GRAD: return d * 1.12837916709551257f * expf(-v * v);
	case FT_CU_HARD_SIGMOID_GRAD: return (p0 * v + p1 > 0) && (p0 * v + p1 < 1) ? d * p0 : 0.0f;
	case FT_CU_SILU_GRAD: { /* PyTorch's silu_backward */
		float s = 1.0f / (1.0f + expf(-v));
		return d * s * (1.0f + v * (1.0f - s));
	}
	case FT_CU_GELU_GRAD: { /* PyTorch's gelu_backward (approximate none) */
		float cdf = 0.5f * (1.0f + erff(v * 0.707106781186547524f));
		float pdf = expf(-0.5f * v * v) * 0.398942280401432678f;
		return d * (cdf + v * pdf);
	}
	default: /* FT_CU_HARD_SWISH_GRAD: PyTorch's hardswish_backward */
		return v < -3.0f ? 0.0f : v <= 3.0f ? d * (v / 3.0f + 0.5f) : d;
	}
}

template <typename T>
__global__ void unary_grad_kernel(ft_cu_unary_grad op, const T *dy, const T *s, T *dx, int64_t n, float p0, float p1)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
		dx[i] = st<T>(unary_grad(op, ld(dy[i]), ld(s[i]), p0, p1));
}

template <typename T, int V>
__global__ void unary_grad_vec_kernel(ft_cu_unary_grad op, const T *dy, const T *s, T *dx, uint32_t n, float p0,
				      float p1)
{
	uint32_t nv = n / V, g = blockIdx.x * blockDim.x + threadIdx.x;
	for (uint32_t i = g; i < nv; i += gridDim.x * blockDim.x) {
		vec<T, V> d = vload<T, V>(dy, i), v = vload<T, V>(s, i), r;
#pragma unroll
		for (int k = 0; k < V; k++)
			r.v[k] = st<T>(unary_grad(op, ld(d.v[k]), ld(v.v[k]), p0, p1));
		vstore<T, V>(dx, i, r);
	}
	if (g < n - nv * V)
		dx[nv * V + g] = st<T>(unary_grad(op, ld(dy[nv * V + g]), ld(s[nv * V + g]), p0, p1));
}

// the loss scaler over a list of gradients (launch.cuh's multi_list, p): x *= 1 / scale,
// found = 1 where x was not finite (found zeroed before)
__global__ void unscale_multi(multi_list L, const float *scale, float *found)
{
	float inv = 1.0f / *scale;
	bool bad = false;
	int64_t i, stride;
	int t = multi_tensor(L, &i, &stride);
	for (float *x = L.p[t]; i < L.n[t]; i += stride) {
		bad |= !isfinite(x[i]);
		x[i] *= inv;
	}
	if (bad)
		*found = 1.0f;
}

// GradScaler's update (torch._amp_update_scale_), one thread
__global__ void update_scale_kernel(float *scale, float *tracker, const float *found, float interval, float backoff,
				    float growth)
{
	if (*found != 0.0f) {
		*scale *= backoff;
		*tracker = 0;
		return;
	}
	*tracker += 1;
	if (*tracker >= interval) {
		float grown = *scale * growth;
		if (isfinite(grown))
			*scale = grown;
		*tracker = 0;
	}
}

__device__ inline float load(const void *p, ft_cu_dtype t, int64_t i)
{
	switch (t) {
	case FT_CU_F16: return __half2float(((const __half *)p)[i]);
	case FT_CU_BF16: return __bfloat162float(((const __nv_bfloat16 *)p)[i]);
	default: return ((const float *)p)[i];
	}
}

__global__ void cast_kernel(const void *x, ft_cu_dtype from, void *y, ft_cu_dtype to, int64_t n)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
		float v = load(x, from, i);
		switch (to) {
		case FT_CU_F16: ((__half *)y)[i] = __float2half_rn(v); break;
		case FT_CU_BF16: ((__nv_bfloat16 *)y)[i] = __float2bfloat16_rn(v); break;
		default: ((float *)y)[i] = v;
		}
	}
}

// n elements of S cast to D, V at a time (see vec_ok)
template <typename S, typename D, int V> __global__ void cast_vec_kernel(const S *x, D *y, uint32_t n)
{
	uint32_t nv = n / V, g = blockIdx.x * blockDim.x + threadIdx.x;
	for (uint32_t i = g; i < nv; i += gridDim.x * blockDim.x) {
		vec<S, V> a = reinterpret_cast<const vec<S, V> *>(x)[i];
		vec<D, V> b;
#pragma unroll
		for (int k = 0; k < V; k++)
			b.v[k] = st<D>(ld(a.v[k]));
		reinterpret_cast<vec<D, V> *>(y)[i] = b;
	}
	if (g < n - nv * V)
		y[nv * V + g] = st<D>(ld(x[nv * V + g]));
}

template <typename S, typename D> int cast_vec(const void *x, void *y, int64_t n, cudaStream_t stream)
{
	constexpr int V = vlen<S>() < vlen<D>() ? vlen<S>() : vlen<D>();
	cast_vec_kernel<S, D, V><<<blocks_for(n / V + 1), kThreads, 0, stream>>>((const S *)x, (D *)y, (uint32_t)n);
	return launched();
}

template <typename S> int cast_vec_to(const void *x, ft_cu_dtype to, void *y, int64_t n, cudaStream_t stream)
{
	switch (to) {
	case FT_CU_F16: return cast_vec<S, __half>(x, y, n, stream);
	case FT_CU_BF16: return cast_vec<S, __nv_bfloat16>(x, y, n, stream);
	default: return cast_vec<S, float>(x, y, n, stream);
	}
}

} // namespace

extern "C" int ft_cu_apply_binary(ft_cu_binary op, ft_cu_dtype dt, const void *a, const void *b, void *y, int64_t n,
			    const ft_cu_bcast *bc, void *stream)
{
	bool same[2] = { true, true };
	for (int j = 0; j < 2; j++) {
		int64_t expect = 1;
		for (int d = bc->rank - 1; d >= 0; d--) {
			same[j] &= bc->st[j][d] == expect || bc->dims[d] == 1;
			expect *= bc->dims[d];
		}
	}
	cudaStream_t s = (cudaStream_t)stream;
	if (same[0] && same[1] && vec_ok(n, 16, a, b, y)) {
#define L(T)                                                                                                   \
	binary_vec_kernel<T, vlen<T>()><<<blocks_for(n / vlen<T>() + 1), kThreads, 0, s>>>(                        \
		op, (const T *)a, (const T *)b, (T *)y, (uint32_t)n)
		FTCU_BY_TYPE(dt, L)
#undef L
		return launched();
	}
	bool narrow = walk32(*bc, 2, n, 0);
#define L(T)                                                                                                     \
	if (narrow)                                                                                              \
		binary_kernel<T, uint32_t><<<blocks_for(n), kThreads, 0, s>>>(op, (const T *)a, (const T *)b, (T *)y, \
									      (uint32_t)n, *bc, same[0], same[1]); \
	else                                                                                                     \
		binary_kernel<T, int64_t><<<blocks_for(n), kThreads, 0, s>>>(op, (const T *)a, (const T *)b, (T *)y,  \
									     n, *bc, same[0], same[1])
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_apply_unary(ft_cu_unary op, ft_cu_dtype dt, const void *x, void *y, int64_t n, float alpha,
				 float beta, void *stream)
{
	if (vec_ok(n, 16, x, y)) {
#define L(T)                                                                                                   \
	unary_vec_kernel<T, vlen<T>()><<<blocks_for(n / vlen<T>() + 1), kThreads, 0, (cudaStream_t)stream>>>(      \
		op, (const T *)x, (T *)y, (uint32_t)n, alpha, beta)
		FTCU_BY_TYPE(dt, L)
#undef L
		return launched();
	}
#define L(T) \
	unary_kernel<T><<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(op, (const T *)x, (T *)y, n, alpha, beta)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_apply_unary_grad(ft_cu_unary_grad op, ft_cu_dtype dt, const void *dy, const void *s, void *dx,
				int64_t n, float alpha, float beta, void *stream)
{
	if (vec_ok(n, 16, dy, s, dx)) {
#define L(T)                                                                                                   \
	unary_grad_vec_kernel<T, vlen<T>()><<<blocks_for(n / vlen<T>() + 1), kThreads, 0, (cudaStream_t)stream>>>( \
		op, (const T *)dy, (const T *)s, (T *)dx, (uint32_t)n, alpha, beta)
		FTCU_BY_TYPE(dt, L)
#undef L
		return launched();
	}
#define L(T)                                                                                                       \
	unary_grad_kernel<T><<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(op, (const T *)dy, (const T *)s, \
										   (T *)dx, n, alpha, beta)
	FTCU_BY_TYPE(dt, L)
#undef L
	return launched();
}

extern "C" int ft_cu_amp_unscale(const float *scale, float *const *grads, const int64_t *counts, int n_grads,
				 float *found, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	cudaError_t e = cudaMemsetAsync(found, 0, sizeof(float), s);
	if (e != cudaSuccess)
		return (int)e;
	for (int at = 0; at < n_grads; at += kMulti) { /* one launch per kMulti gradients */
		int blocks, k = n_grads - at < kMulti ? n_grads - at : kMulti;
		multi_list L = multi_of(grads, (const float *const *)grads, nullptr, nullptr, counts, at, k, &blocks);
		if (blocks)
			unscale_multi<<<blocks, kThreads, 0, s>>>(L, scale, found);
	}
	return launched();
}

extern "C" int ft_cu_amp_update_scale(float *scale, float *tracker, const float *found, float interval,
				      float backoff, float growth, void *stream)
{
	update_scale_kernel<<<1, 1, 0, (cudaStream_t)stream>>>(scale, tracker, found, interval, backoff, growth);
	return launched();
}

extern "C" int ft_cu_cast(const void *x, ft_cu_dtype from, void *y, ft_cu_dtype to, int64_t n, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	/* the typed, vectorised kernel where vec_ok allows; the general one otherwise */
	/* V elements of the wider type make 16 bytes; the narrower side's vector is half or the same */
	size_t wide = cu_size(from) > cu_size(to) ? cu_size(from) : cu_size(to);
	if (vec_ok(n, cu_size(from) * (16 / wide), x, nullptr) && vec_ok(n, cu_size(to) * (16 / wide), y, nullptr)) {
		switch (from) {
		case FT_CU_F16: return cast_vec_to<__half>(x, to, y, n, s);
		case FT_CU_BF16: return cast_vec_to<__nv_bfloat16>(x, to, y, n, s);
		default: return cast_vec_to<float>(x, to, y, n, s);
		}
	}
	cast_kernel<<<blocks_for(n), kThreads, 0, s>>>(x, from, y, to, n);
	return launched();
}
