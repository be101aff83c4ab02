// launch.cuh - what every kernel file of kernels/cuda shares: the block size, grid sizing,
// the grid-stride loop, the launch status and block-wide sums (C++, for nvcc only).
#ifndef FT_CUDA_LAUNCH_CUH
#define FT_CUDA_LAUNCH_CUH

#include "ft_cuda.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

namespace ftcu {

constexpr int kThreads = 256;

// blocks for n elements in a grid-stride loop (at most 8 x 65535: the loop covers the rest)
inline int blocks_for(int64_t n)
{
	int64_t b = (n + kThreads - 1) / kThreads;
	return (int)(b < 65535 * 8 ? (b > 0 ? b : 1) : 65535 * 8);
}

// the status of the last launch (0: queued)
inline int launched(void)
{
	return (int)cudaGetLastError();
}

// the sum of v over the kThreads threads of a block, in every thread; sh: kThreads doubles of shared memory
__device__ inline double block_sum(double v, double *sh)
{
	sh[threadIdx.x] = v;
	__syncthreads();
	for (int s = kThreads / 2; s > 0; s >>= 1) {
		if ((int)threadIdx.x < s)
			sh[threadIdx.x] += sh[threadIdx.x + s];
		__syncthreads();
	}
	double r = sh[0];
	__syncthreads();
	return r;
}

// storage <-> float32: loads widen, stores round to nearest even (the CPU's ft_cpu_widen/narrow)
__device__ inline float ld(float v) { return v; }
__device__ inline float ld(__half v) { return __half2float(v); }
__device__ inline float ld(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T> __device__ inline T st(float v);
template <> __device__ inline float st<float>(float v) { return v; }
template <> __device__ inline __half st<__half>(float v) { return __float2half_rn(v); }
template <> __device__ inline __nv_bfloat16 st<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

// Multi-tensor kernels (the optimizer steps, the loss scaler's unscale): up to kMulti tensors a
// launch, their pointers in the kernel's parameters
// (about 1.5 KB), the launch's blocks split among them by size (first[t] .. first[t + 1] are
// tensor t's), each block finding its tensor by a walk over at most kMulti bounds.
constexpr int kMulti = 32;
struct multi_list {
	float *p[kMulti], *s1[kMulti], *s2[kMulti];
	const float *g[kMulti];
	int64_t n[kMulti];
	int first[kMulti + 1];
	int count;
};

__device__ inline int multi_tensor(const multi_list &L, int64_t *lo, int64_t *stride)
{
	int t = 0;
	while (t + 1 < L.count && (int)blockIdx.x >= L.first[t + 1])
		t++;
	*lo = (int64_t)(blockIdx.x - L.first[t]) * blockDim.x + threadIdx.x;
	*stride = (int64_t)(L.first[t + 1] - L.first[t]) * blockDim.x;
	return t;
}

// the tensors [at, at + count) of a multi-tensor kernel as a list (count <= kMulti): blocks as
// blocks_for gives them, at most 1024 a tensor, none for an empty one; *blocks their sum
inline multi_list multi_of(float *const *p, const float *const *g, float *const *s1, float *const *s2, const int64_t *n,
		    int at, int count, int *blocks)
{
	multi_list L;
	L.count = count;
	L.first[0] = 0;
	for (int j = 0; j < count; j++) {
		L.p[j] = p[at + j];
		L.g[j] = g[at + j];
		L.s1[j] = s1 ? s1[at + j] : nullptr;
		L.s2[j] = s2 ? s2[at + j] : nullptr;
		L.n[j] = n[at + j];
		int b = n[at + j] > 0 ? blocks_for(n[at + j]) : 0;
		L.first[j + 1] = L.first[j] + (b < 1024 ? b : 1024);
	}
	*blocks = L.first[count];
	return L;
}

} // namespace ftcu

#define FTCU_GRID_LOOP(i, n) \
	for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

namespace ftcu {

// y[j] = sum over p of part[p * n + j], added in part order in double, rounded to float32 and then T: the
// second pass of the reductions split over blocks (ReduceSumTo's runs, depthwise weight gradients)
template <typename T> __global__ void sum_parts(const double *part, T *y, int64_t n, int64_t parts)
{
	FTCU_GRID_LOOP(j, n)
	{
		double sum = 0;
		for (int64_t p = 0; p < parts; p++)
			sum += part[p * n + j];
		y[j] = st<T>((float)sum);
	}
}

// the offset in operand j (strides bc.st[j]) of element i of the row-major walk over bc.dims. I: the index
// type, uint32_t where walk32 allows: a 64-bit division is a long software sequence on the GPU, and one per
// axis and operand made broadcast Adds and Transposes several times slower than their memory traffic.
template <typename I> __device__ inline I walk_offset(const ft_cu_bcast &bc, int j, I i)
{
	I off = 0;
	for (int d = bc.rank - 1; d >= 0; d--) {
		I dim = (I)bc.dims[d], q = i / dim;
		off += (i - q * dim) * (I)bc.st[j][d];
		i = q;
	}
	return off;
}

// whether n elements and every offset of the first `operands` operands (plus base) fit in 32 bits
inline bool walk32(const ft_cu_bcast &bc, int operands, int64_t n, int64_t base)
{
	if (n > INT32_MAX)
		return false;
	for (int j = 0; j < operands; j++) {
		int64_t last = base;
		for (int d = 0; d < bc.rank; d++)
			last += (bc.dims[d] - 1) * (bc.st[j][d] < 0 ? -bc.st[j][d] : bc.st[j][d]);
		if (last > INT32_MAX)
			return false;
	}
	return true;
}

// y = x rounded to T (float32 sums into their low-precision tensor)
template <typename T> __global__ void narrow(const float *x, T *y, int64_t n)
{
	FTCU_GRID_LOOP(i, n)
	y[i] = st<T>(x[i]);
}

} // namespace ftcu

// a launch of LAUNCH(T) for the storage type dt (ft_cu_dtype)
#define FTCU_BY_TYPE(dt, LAUNCH)                       \
	switch (dt) {                                  \
	case FT_CU_F16: LAUNCH(__half); break;         \
	case FT_CU_BF16: LAUNCH(__nv_bfloat16); break; \
	default: LAUNCH(float);                        \
	}

#endif
