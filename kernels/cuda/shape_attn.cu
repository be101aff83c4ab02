// shape_attn.cu - what the Vision Transformer adds: strided copies (Transpose, Slice,
// Expand) and the Slice gradient, Gather and its gradient, Softmax and its gradient,
// LayerNormalization and its gradient (kernels/cuda/ft_cuda.h), with the CPU's formulas.
#include "ft_cuda.h"
#include "launch.cuh"

#include <cuda_runtime.h>
#include <stdint.h>

namespace {

using namespace ftcu;

// one strided side: y[i] = x[off + walk(i)] (a copy), or with Scatter dx[off + walk(i)] = dy[i]. The offsets
// by walk_offset, in 32 bits where walk32 allows (launch.cuh).
template <typename T, typename I, bool Scatter>
__global__ void strided(const T *src, T *dst, I off, I n, ft_cu_bcast bc)
{
	for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < n; i += (I)gridDim.x * blockDim.x) {
		I at = off + walk_offset<I>(bc, 0, i);
		if (Scatter)
			dst[at] = src[i];
		else
			dst[i] = src[at];
	}
}

template <typename T, bool Scatter>
void launch_typed(const void *src, void *dst, int64_t off, int64_t n, const ft_cu_bcast &bc, cudaStream_t s)
{
	if (walk32(bc, 1, n, off))
		strided<T, uint32_t, Scatter><<<blocks_for(n), kThreads, 0, s>>>((const T *)src, (T *)dst, (uint32_t)off,
										  (uint32_t)n, bc);
	else
		strided<T, int64_t, Scatter><<<blocks_for(n), kThreads, 0, s>>>((const T *)src, (T *)dst, off, n, bc);
}

// elements of es bytes moved as unsigned integers of that size. Where the innermost axis is
// contiguous on the strided side too (a Transpose that keeps the last axis, as all of ViT's
// do, a Slice of whole rows, an Expand of rows), k neighbouring elements move as one word of
// es k bytes, up to 16: the axis, every other stride and the offset divisible by k, both
// addresses aligned to the word. One thread then moves 16 bytes and works out its offset
// once for them, where it did so for each 2-byte element.
template <bool Scatter>
void launch_strided(const void *src, void *dst, int64_t off, const ft_cu_bcast &bc0, int es, cudaStream_t s)
{
	ft_cu_bcast bc = bc0;
	int r = bc.rank;
	for (int w = 16; r > 0 && bc.st[0][r - 1] == 1 && w > es; w /= 2) {
		int64_t k = w / es;
		bool ok = w % es == 0 && bc.dims[r - 1] % k == 0 && off % k == 0 && (uintptr_t)src % w == 0 &&
			  (uintptr_t)dst % w == 0;
		for (int d = 0; ok && d < r - 1; d++)
			ok = bc.st[0][d] % k == 0;
		if (!ok)
			continue;
		bc.dims[r - 1] /= k;
		for (int d = 0; d < r - 1; d++)
			bc.st[0][d] /= k;
		off /= k;
		es = w;
		break;
	}
	int64_t n = 1;
	for (int d = 0; d < bc.rank; d++)
		n *= bc.dims[d];
	switch (es) {
	case 1: launch_typed<uint8_t, Scatter>(src, dst, off, n, bc, s); break;
	case 2: launch_typed<uint16_t, Scatter>(src, dst, off, n, bc, s); break;
	case 4: launch_typed<uint32_t, Scatter>(src, dst, off, n, bc, s); break;
	case 8: launch_typed<uint64_t, Scatter>(src, dst, off, n, bc, s); break;
	default: launch_typed<uint4, Scatter>(src, dst, off, n, bc, s);
	}
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

// inner == 1 (the attention's rows, contiguous): one warp per row, the lanes reading along it together.
// One thread per row read 197 floats 788 bytes apart from its neighbours' and took 1.3 ms (Softmax) and
// 1.8 ms (its gradient) a call of ViT-B/16 at batch 64 on an H200.
__device__ inline float warp_max(float v)
{
	for (int o = 16; o > 0; o >>= 1) {
		float w = __shfl_xor_sync(0xffffffffu, v, o);
		v = w > v ? w : v;
	}
	return v;
}

__device__ inline double warp_sum(double v)
{
	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

constexpr int kWarps = kThreads / 32;

__global__ void softmax_rows(const float *x, float *y, int64_t rows, int64_t len)
{
	int lane = threadIdx.x & 31;
	for (int64_t r = blockIdx.x * (int64_t)kWarps + threadIdx.x / 32; r < rows; r += (int64_t)gridDim.x * kWarps) {
		const float *xr = x + r * len;
		float *yr = y + r * len;
		float m = -INFINITY;
		for (int64_t a = lane; a < len; a += 32)
			m = xr[a] > m ? xr[a] : m;
		m = warp_max(m);
		double sum = 0;
		for (int64_t a = lane; a < len; a += 32)
			sum += (double)expf(xr[a] - m);
		float scale = (float)(1.0 / warp_sum(sum));
		for (int64_t a = lane; a < len; a += 32)
			yr[a] = expf(xr[a] - m) * scale;
	}
}

__global__ void softmax_grad_rows(const float *dy, const float *y, float *dx, int64_t rows, int64_t len)
{
	int lane = threadIdx.x & 31;
	for (int64_t r = blockIdx.x * (int64_t)kWarps + threadIdx.x / 32; r < rows; r += (int64_t)gridDim.x * kWarps) {
		int64_t base = r * len;
		double sum = 0;
		for (int64_t a = lane; a < len; a += 32)
			sum += (double)dy[base + a] * (double)y[base + a];
		float s = (float)warp_sum(sum);
		for (int64_t a = lane; a < len; a += 32)
			dx[base + a] = y[base + a] * (dy[base + a] - s);
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

// dscale and dbias, split like ft_cu_sum_run's columns: grid (tiles of 32 columns, parts of the rows),
// block (32, 8); block (t, p) writes its part's sums of dy * xhat and dy for its 32 columns into
// part[p * cols + j] and part[(parts + p) * cols + j], in double, the 8 row lanes added in order.
// (One thread per column over all the rows, as before, kept 24 warps busy for ViT's 768 columns:
// 5.3 ms a call on an H200, a third of a ViT step.)
__global__ void layer_norm_grad_cols(const float *dy, const float *x, const float *mean, const float *invstd,
				     double *part, int64_t rows, int64_t cols, int64_t parts)
{
	__shared__ double sh[2][8][33];
	int64_t j = blockIdx.x * 32 + threadIdx.x, p = blockIdx.y, r0 = rows * p / parts, r1 = rows * (p + 1) / parts;
	double ds = 0, db = 0;
	if (j < cols)
		for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
			double g = dy[r * cols + j];
			ds += g * (x[r * cols + j] - (double)mean[r]) * (double)invstd[r];
			db += g;
		}
	sh[0][threadIdx.y][threadIdx.x] = ds;
	sh[1][threadIdx.y][threadIdx.x] = db;
	__syncthreads();
	if (threadIdx.y < 2 && j < cols) {
		double t = 0;
		for (int k = 0; k < 8; k++)
			t += sh[threadIdx.y][k][threadIdx.x];
		part[(threadIdx.y * parts + p) * cols + j] = t;
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
	launch_strided<false>(x, y, off, *bc, es, (cudaStream_t)stream);
	return launched();
}

extern "C" int ft_cu_strided_scatter(const void *dy, void *dx, int64_t nx, int64_t off, const ft_cu_bcast *bc, int es,
				     void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	cudaError_t e = cudaMemsetAsync(dx, 0, (size_t)es * (size_t)nx, s);
	if (e != cudaSuccess)
		return (int)e;
	launch_strided<true>(dy, dx, off, *bc, es, s);
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
	if (inner == 1)
		softmax_rows<<<blocks_for(outer * 32), kThreads, 0, (cudaStream_t)stream>>>(x, y, outer, len);
	else
		softmax<<<blocks_for(outer * inner), kThreads, 0, (cudaStream_t)stream>>>(x, y, outer, len, inner);
	return launched();
}

extern "C" int ft_cu_softmax_grad(const float *dy, const float *y, float *dx, int64_t outer, int64_t len,
				  int64_t inner, void *stream)
{
	if (inner == 1)
		softmax_grad_rows<<<blocks_for(outer * 32), kThreads, 0, (cudaStream_t)stream>>>(dy, y, dx, outer, len);
	else
		softmax_grad<<<blocks_for(outer * inner), kThreads, 0, (cudaStream_t)stream>>>(dy, y, dx, outer, len,
												  inner);
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
				     const float *invstd, float *dx, float *dscale, float *dbias, void *ws, int64_t rows,
				     int64_t cols, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	if (dx && rows > 0)
		layer_norm_grad_rows<<<(unsigned)rows, kThreads, 0, s>>>(dy, x, scale, mean, invstd, dx, cols);
	if (cols == 0)
		return launched();
	int64_t parts = ft_cu_sum_run_parts(1, rows, cols);
	double *part = (double *)ws;
	dim3 grid((unsigned)((cols + 31) / 32), (unsigned)parts), block(32, 8);
	layer_norm_grad_cols<<<grid, block, 0, s>>>(dy, x, mean, invstd, part, rows, cols, parts);
	if (dscale)
		sum_parts<float><<<blocks_for(cols), kThreads, 0, s>>>(part, dscale, cols, parts);
	if (dbias)
		sum_parts<float><<<blocks_for(cols), kThreads, 0, s>>>(part + parts * cols, dbias, cols, parts);
	return launched();
}

extern "C" int ft_cu_image_normalize(const uint8_t *x, float *y, const float *mean_std, int64_t n, int64_t c,
				     int64_t hw, void *stream)
{
	image_normalize<<<blocks_for(n * c * hw), kThreads, 0, (cudaStream_t)stream>>>(x, y, mean_std, n * c * hw, c,
										     hw);
	return launched();
}
