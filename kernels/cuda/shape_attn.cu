// shape_attn.cu - what the Vision Transformer adds: strided copies (Transpose, Slice,
// Expand) and the Slice gradient, Gather and its gradient, Softmax and its gradient,
// LayerNormalization and its gradient (kernels/cuda/ft_cuda.h), with the CPU's formulas.
#include "ft_cuda.h"
#include "launch.cuh"

#include <cuda_runtime.h>
#include <stdint.h>

namespace {

using namespace ftcu;

__device__ inline int64_t strided_offset(const ft_cu_bcast &bc, int64_t i)
{
	int64_t off = 0;
	for (int d = bc.rank - 1; d >= 0; d--) {
		int64_t q = i / bc.dims[d];
		off += (i - q * bc.dims[d]) * bc.st[0][d];
		i = q;
	}
	return off;
}

template <typename T> __global__ void strided_copy(const T *x, int64_t off, T *y, int64_t n, ft_cu_bcast bc)
{
	FTCU_GRID_LOOP(i, n)
	y[i] = x[off + strided_offset(bc, i)];
}

__global__ void strided_scatter(const float *dy, float *dx, int64_t n, int64_t off, ft_cu_bcast bc)
{
	FTCU_GRID_LOOP(i, n)
	dx[off + strided_offset(bc, i)] = dy[i];
}

template <typename T>
__global__ void gather(const T *x, const int64_t *idx, T *y, int64_t outer, int64_t dim, int64_t inner, int64_t ni)
{
	FTCU_GRID_LOOP(i, outer * ni * inner)
	{
		int64_t in = i % inner, j = i / inner % ni, o = i / (inner * ni);
		int64_t v = idx[j];
		v = v < 0 ? v + dim : v;
		y[i] = v >= 0 && v < dim ? x[(o * dim + v) * inner + in] : T(0);
	}
}

__global__ void gather_grad(const float *dy, const int64_t *idx, float *dx, int64_t outer, int64_t dim,
			    int64_t inner, int64_t ni)
{
	FTCU_GRID_LOOP(i, outer * ni * inner)
	{
		int64_t in = i % inner, j = i / inner % ni, o = i / (inner * ni);
		int64_t v = idx[j];
		v = v < 0 ? v + dim : v;
		if (v >= 0 && v < dim)
			atomicAdd(dx + (o * dim + v) * inner + in, dy[i]);
	}
}

// one thread per (outer, inner) column
__global__ void softmax(const float *x, float *y, int64_t outer, int64_t len, int64_t inner)
{
	FTCU_GRID_LOOP(c, outer * inner)
	{
		int64_t o = c / inner, in = c % inner;
		const float *xc = x + o * len * inner + in;
		float *yc = y + o * len * inner + in;
		float m = -INFINITY;
		for (int64_t a = 0; a < len; a++)
			m = xc[a * inner] > m ? xc[a * inner] : m;
		double sum = 0;
		for (int64_t a = 0; a < len; a++) {
			float e = expf(xc[a * inner] - m);
			yc[a * inner] = e;
			sum += (double)e;
		}
		float scale = (float)(1.0 / sum);
		for (int64_t a = 0; a < len; a++)
			yc[a * inner] *= scale;
	}
}

__global__ void softmax_grad(const float *dy, const float *y, float *dx, int64_t outer, int64_t len, int64_t inner)
{
	FTCU_GRID_LOOP(c, outer * inner)
	{
		int64_t base = c / inner * len * inner + c % inner;
		double sum = 0;
		for (int64_t a = 0; a < len; a++)
			sum += (double)dy[base + a * inner] * (double)y[base + a * inner];
		float s = (float)sum;
		for (int64_t a = 0; a < len; a++) {
			int64_t k = base + a * inner;
			dx[k] = y[k] * (dy[k] - s);
		}
	}
}

// one block per row
__global__ void layer_norm(const float *x, const float *scale, const float *bias, float *y, float *mean,
			   float *invstd, int64_t cols, float eps)
{
	__shared__ double sh[kThreads];
	int64_t r = blockIdx.x;
	const float *xr = x + r * cols;
	float *yr = y + r * cols;
	double sum = 0;
	for (int64_t j = threadIdx.x; j < cols; j += kThreads)
		sum += xr[j];
	double m = block_sum(sum, sh) / (double)cols;
	double sq = 0;
	for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
		double d = xr[j] - m;
		sq += d * d;
	}
	double rs = 1.0 / sqrt(block_sum(sq, sh) / (double)cols + (double)eps);
	for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
		double v = (xr[j] - m) * rs * scale[j];
		yr[j] = (float)(bias ? v + bias[j] : v);
	}
	if (threadIdx.x == 0) {
		if (mean)
			mean[r] = (float)m;
		if (invstd)
			invstd[r] = (float)rs;
	}
}

// dx per row: invstd * (g - mean_j g - xhat * mean_j(g * xhat)), g = dy * scale
__global__ void layer_norm_grad_rows(const float *dy, const float *x, const float *scale, const float *mean,
				     const float *invstd, float *dx, int64_t cols)
{
	__shared__ double sh[kThreads];
	int64_t r = blockIdx.x;
	const float *gr = dy + r * cols, *xr = x + r * cols;
	double m = mean[r], is = invstd[r], sg = 0, sgx = 0;
	for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
		double gj = (double)gr[j] * scale[j];
		sg += gj;
		sgx += gj * (xr[j] - m) * is;
	}
	sg = block_sum(sg, sh) / (double)cols;
	sgx = block_sum(sgx, sh) / (double)cols;
	for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
		double gj = (double)gr[j] * scale[j], xh = (xr[j] - m) * is;
		dx[r * cols + j] = (float)(is * (gj - sg - xh * sgx));
	}
}

// one thread per column: sums over the rows
__global__ void layer_norm_grad_cols(const float *dy, const float *x, const float *mean, const float *invstd,
				     float *dscale, float *dbias, int64_t rows, int64_t cols)
{
	FTCU_GRID_LOOP(j, cols)
	{
		double ds = 0, db = 0;
		for (int64_t r = 0; r < rows; r++) {
			double g = dy[r * cols + j];
			ds += g * (x[r * cols + j] - (double)mean[r]) * (double)invstd[r];
			db += g;
		}
		if (dscale)
			dscale[j] = (float)ds;
		if (dbias)
			dbias[j] = (float)db;
	}
}

// mean_std: c means then c standard deviations
__global__ void image_normalize(const uint8_t *x, float *y, const float *mean_std, int64_t total, int64_t c,
				int64_t hw)
{
	FTCU_GRID_LOOP(i, total)
	{
		int64_t k = i / hw % c;
		y[i] = ((float)x[i] / 255.0f - mean_std[k]) / mean_std[c + k];
	}
}

} // namespace

extern "C" int ft_cu_strided_copy(const void *x, int64_t off, void *y, const ft_cu_bcast *bc, int es, void *stream)
{
	int64_t n = 1;
	for (int d = 0; d < bc->rank; d++)
		n *= bc->dims[d];
	cudaStream_t s = (cudaStream_t)stream;
	switch (es) {
	case 1: strided_copy<<<blocks_for(n), kThreads, 0, s>>>((const uint8_t *)x, off, (uint8_t *)y, n, *bc); break;
	case 2: strided_copy<<<blocks_for(n), kThreads, 0, s>>>((const uint16_t *)x, off, (uint16_t *)y, n, *bc); break;
	case 4: strided_copy<<<blocks_for(n), kThreads, 0, s>>>((const uint32_t *)x, off, (uint32_t *)y, n, *bc); break;
	default: strided_copy<<<blocks_for(n), kThreads, 0, s>>>((const uint64_t *)x, off, (uint64_t *)y, n, *bc);
	}
	return launched();
}

extern "C" int ft_cu_strided_scatter(const float *dy, float *dx, int64_t nx, int64_t off, const ft_cu_bcast *bc,
				     void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	cudaError_t e = cudaMemsetAsync(dx, 0, sizeof(float) * (size_t)nx, s);
	if (e != cudaSuccess)
		return (int)e;
	int64_t n = 1;
	for (int d = 0; d < bc->rank; d++)
		n *= bc->dims[d];
	strided_scatter<<<blocks_for(n), kThreads, 0, s>>>(dy, dx, n, off, *bc);
	return launched();
}

extern "C" int ft_cu_gather(const void *x, const int64_t *idx, void *y, int64_t outer, int64_t dim, int64_t inner,
			    int64_t ni, int es, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	int b = blocks_for(outer * ni * inner);
	switch (es) {
	case 1: gather<<<b, kThreads, 0, s>>>((const uint8_t *)x, idx, (uint8_t *)y, outer, dim, inner, ni); break;
	case 2: gather<<<b, kThreads, 0, s>>>((const uint16_t *)x, idx, (uint16_t *)y, outer, dim, inner, ni); break;
	case 4: gather<<<b, kThreads, 0, s>>>((const uint32_t *)x, idx, (uint32_t *)y, outer, dim, inner, ni); break;
	default: gather<<<b, kThreads, 0, s>>>((const uint64_t *)x, idx, (uint64_t *)y, outer, dim, inner, ni);
	}
	return launched();
}

extern "C" int ft_cu_gather_grad(const float *dy, const int64_t *idx, float *dx, int64_t outer, int64_t dim,
				 int64_t inner, int64_t ni, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	cudaError_t e = cudaMemsetAsync(dx, 0, sizeof(float) * (size_t)(outer * dim * inner), s);
	if (e != cudaSuccess)
		return (int)e;
	gather_grad<<<blocks_for(outer * ni * inner), kThreads, 0, s>>>(dy, idx, dx, outer, dim, inner, ni);
	return launched();
}

extern "C" int ft_cu_softmax(const float *x, float *y, int64_t outer, int64_t len, int64_t inner, void *stream)
{
	softmax<<<blocks_for(outer * inner), kThreads, 0, (cudaStream_t)stream>>>(x, y, outer, len, inner);
	return launched();
}

extern "C" int ft_cu_softmax_grad(const float *dy, const float *y, float *dx, int64_t outer, int64_t len,
				  int64_t inner, void *stream)
{
	softmax_grad<<<blocks_for(outer * inner), kThreads, 0, (cudaStream_t)stream>>>(dy, y, dx, outer, len, inner);
	return launched();
}

extern "C" int ft_cu_layer_norm(const float *x, const float *scale, const float *bias, float *y, float *mean,
				float *invstd, int64_t rows, int64_t cols, float eps, void *stream)
{
	if (rows > 0 && cols > 0) /* as the CPU: nothing written for empty rows */
		layer_norm<<<(unsigned)rows, kThreads, 0, (cudaStream_t)stream>>>(x, scale, bias, y, mean, invstd, cols,
										 eps);
	return launched();
}

extern "C" int ft_cu_layer_norm_grad(const float *dy, const float *x, const float *scale, const float *mean,
				     const float *invstd, float *dx, float *dscale, float *dbias, int64_t rows,
				     int64_t cols, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	if (dx && rows > 0)
		layer_norm_grad_rows<<<(unsigned)rows, kThreads, 0, s>>>(dy, x, scale, mean, invstd, dx, cols);
	layer_norm_grad_cols<<<blocks_for(cols), kThreads, 0, s>>>(dy, x, mean, invstd, dscale, dbias, rows, cols);
	return launched();
}

extern "C" int ft_cu_image_normalize(const uint8_t *x, float *y, const float *mean_std, int64_t n, int64_t c,
				     int64_t hw, void *stream)
{
	image_normalize<<<blocks_for(n * c * hw), kThreads, 0, (cudaStream_t)stream>>>(x, y, mean_std, n * c * hw, c,
										     hw);
	return launched();
}
