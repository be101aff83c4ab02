// elementwise.cu - elementwise kernels, their gradients and Cast
// (kernels/cuda/ft_cuda.h). Grid-stride loops over int64 indices; float32
// arithmetic with the same formulas as kernels/cpu/elementwise.c.
#include "ft_cuda.h"
#include "launch.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace {

using namespace ftcu;

// the offset of output element i in input j: the broadcast walk of the CPU walker
__device__ inline int64_t bcast_offset(const ft_cu_bcast &bc, int j, int64_t i)
{
	int64_t off = 0;
	for (int d = bc.rank - 1; d >= 0; d--) {
		int64_t q = i / bc.dims[d];
		off += (i - q * bc.dims[d]) * bc.st[j][d];
		i = q;
	}
	return off;
}

__device__ inline float binary(ft_cu_binary op, float a, float b)
{
	switch (op) {
	case FT_CU_ADD: return a + b;
	case FT_CU_SUB: return a - b;
	case FT_CU_MUL: return a * b;
	default: return a / b;
	}
}

__global__ void binary_kernel(ft_cu_binary op, const float *a, const float *b, float *y, int64_t n, ft_cu_bcast bc,
			      bool same)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
		float x0 = same ? a[i] : a[bcast_offset(bc, 0, i)];
		float x1 = same ? b[i] : b[bcast_offset(bc, 1, i)];
		y[i] = binary(op, x0, x1);
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
	default: return x;
	}
}

__global__ void unary_kernel(ft_cu_unary op, const float *x, float *y, int64_t n, float alpha, float beta)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
		y[i] = unary(op, x[i], alpha, beta);
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
	default: /* FT_CU_HARD_SWISH_GRAD: PyTorch's hardswish_backward */
		return v < -3.0f ? 0.0f : v <= 3.0f ? d * (v / 3.0f + 0.5f) : d;
	}
}

__global__ void unary_grad_kernel(ft_cu_unary_grad op, const float *dy, const float *s, float *dx, int64_t n,
				  float p0, float p1)
{
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x)
		dx[i] = unary_grad(op, dy[i], s[i], p0, p1);
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

} // namespace

extern "C" int ft_cu_binary_f32(ft_cu_binary op, const float *a, const float *b, float *y, int64_t n,
				const ft_cu_bcast *bc, void *stream)
{
	bool same = true;
	for (int j = 0; j < 2; j++) {
		int64_t expect = 1;
		for (int d = bc->rank - 1; d >= 0; d--) {
			same &= bc->st[j][d] == expect || bc->dims[d] == 1;
			expect *= bc->dims[d];
		}
	}
	binary_kernel<<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(op, a, b, y, n, *bc, same);
	return launched();
}

extern "C" int ft_cu_unary_f32(ft_cu_unary op, const float *x, float *y, int64_t n, float alpha, float beta,
			       void *stream)
{
	unary_kernel<<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(op, x, y, n, alpha, beta);
	return launched();
}

extern "C" int ft_cu_unary_grad_f32(ft_cu_unary_grad op, const float *dy, const float *s, float *dx, int64_t n,
				    float alpha, float beta, void *stream)
{
	unary_grad_kernel<<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(op, dy, s, dx, n, alpha, beta);
	return launched();
}

extern "C" int ft_cu_cast(const void *x, ft_cu_dtype from, void *y, ft_cu_dtype to, int64_t n, void *stream)
{
	cast_kernel<<<blocks_for(n), kThreads, 0, (cudaStream_t)stream>>>(x, from, y, to, n);
	return launched();
}
