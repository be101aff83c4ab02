// depthwise.cu - 2-D depthwise convolutions (one filter per channel: group = input channels =
// output channels) in NCHW, forward and both backward passes, in place of cuDNN's grouped
// convolution (runtime/cuda_conv.c, FT_CUDA_DEPTHWISE=1). The forward and the input gradient take
// one thread per output element, products and sums in float32. The weight gradient splits each
// channel's positions over parts (enough blocks to fill the GPU): each thread sums its positions
// in float32, the block adds its threads in double, and the parts are added in order in double:
// the same bits every run.
#include "ft_cuda.h"
#include "launch.cuh"

using namespace ftcu;

namespace {

constexpr int kMaxTaps = FT_CU_DW_MAX_TAPS;

// the offset in its channel's (h, w) plane of the input under tap (i, j) of output (oy, ox); -1 in the padding
__device__ inline int64_t tap(const ft_cu_dw &g, int64_t oy, int64_t ox, int i, int j)
{
	int64_t iy = oy * g.sh - g.ph + i * g.dh, ix = ox * g.sw - g.pw + j * g.dw;
	return iy >= 0 && iy < g.h && ix >= 0 && ix < g.w ? iy * g.w + ix : -1;
}

template <typename T> __global__ void dw_forward(const T *x, const T *w, const T *b, T *y, ft_cu_dw g)
{
	FTCU_GRID_LOOP(idx, g.n * g.c * g.oh * g.ow)
	{
		int64_t ox = idx % g.ow, t = idx / g.ow, oy = t % g.oh;
		t /= g.oh;
		int64_t c = t % g.c, n = t / g.c;
		const T *xp = x + (n * g.c + c) * g.h * g.w, *wp = w + c * g.kh * g.kw;
		float acc = b ? ld(b[c]) : 0.0f;
		for (int i = 0; i < g.kh; i++)
			for (int j = 0; j < g.kw; j++) {
				int64_t at = tap(g, oy, ox, i, j);
				if (at >= 0)
					acc += ld(xp[at]) * ld(wp[i * g.kw + j]);
			}
		y[idx] = st<T>(acc);
	}
}

// dx[n, c, iy, ix] = the sum over the taps (i, j) whose output (oy, ox) reads (iy, ix) of dy * w
template <typename T> __global__ void dw_grad_input(const T *dy, const T *w, T *dx, ft_cu_dw g)
{
	FTCU_GRID_LOOP(idx, g.n * g.c * g.h * g.w)
	{
		int64_t ix = idx % g.w, t = idx / g.w, iy = t % g.h;
		t /= g.h;
		int64_t c = t % g.c, n = t / g.c;
		const T *dyp = dy + (n * g.c + c) * g.oh * g.ow, *wp = w + c * g.kh * g.kw;
		float acc = 0.0f;
		for (int i = 0; i < g.kh; i++) {
			int64_t ty = iy + g.ph - i * g.dh;
			if (ty < 0 || ty % g.sh)
				continue;
			int64_t oy = ty / g.sh;
			if (oy >= g.oh)
				continue;
			for (int j = 0; j < g.kw; j++) {
				int64_t tx = ix + g.pw - j * g.dw;
				if (tx < 0 || tx % g.sw)
					continue;
				int64_t ox = tx / g.sw;
				if (ox < g.ow)
					acc += ld(dyp[oy * g.ow + ox]) * ld(wp[i * g.kw + j]);
			}
		}
		dx[idx] = st<T>(acc);
	}
}

// grid (c, parts): block (c, p) sums dy * x over its part of channel c's (n, oy, ox) for every tap
template <typename T> __global__ void dw_grad_weight_part(const T *dy, const T *x, double *part, ft_cu_dw g,
							  int64_t parts)
{
	__shared__ double sh[kThreads];
	int64_t c = blockIdx.x, p = blockIdx.y, m = g.n * g.oh * g.ow;
	int64_t m0 = m * p / parts, m1 = m * (p + 1) / parts;
	int taps = g.kh * g.kw;
	float acc[kMaxTaps];
	for (int k = 0; k < taps; k++)
		acc[k] = 0.0f;
	for (int64_t q = m0 + threadIdx.x; q < m1; q += kThreads) {
		int64_t ox = q % g.ow, t = q / g.ow, oy = t % g.oh, n = t / g.oh;
		float d = ld(dy[((n * g.c + c) * g.oh + oy) * g.ow + ox]);
		const T *xp = x + (n * g.c + c) * g.h * g.w;
		for (int i = 0; i < g.kh; i++)
			for (int j = 0; j < g.kw; j++) {
				int64_t at = tap(g, oy, ox, i, j);
				if (at >= 0)
					acc[i * g.kw + j] += d * ld(xp[at]);
			}
	}
	for (int k = 0; k < taps; k++) {
		double s = block_sum((double)acc[k], sh);
		if (threadIdx.x == 0)
			part[(p * g.c + c) * taps + k] = s;
	}
}

} // namespace

extern "C" int ft_cu_depthwise(ft_cu_dtype dt, int which, const void *a, const void *b, const void *bias, void *out,
			       void *ws, const ft_cu_dw *g, void *stream)
{
	cudaStream_t s = (cudaStream_t)stream;
	if (g->kh * g->kw > kMaxTaps)
		return (int)cudaErrorInvalidValue;
	if (which == 0) { /* (x, w, bias) -> y */
		if (g->n * g->c * g->oh * g->ow == 0)
			return 0;
#define L(T) dw_forward<T><<<blocks_for(g->n * g->c * g->oh * g->ow), kThreads, 0, s>>>( \
	(const T *)a, (const T *)b, (const T *)bias, (T *)out, *g)
		FTCU_BY_TYPE(dt, L)
#undef L
	} else if (which == 1) { /* (dy, w) -> dx */
		if (g->n * g->c * g->h * g->w == 0)
			return 0;
#define L(T) dw_grad_input<T><<<blocks_for(g->n * g->c * g->h * g->w), kThreads, 0, s>>>( \
	(const T *)a, (const T *)b, (T *)out, *g)
		FTCU_BY_TYPE(dt, L)
#undef L
	} else { /* (dy, x) -> dw */
		if (g->c == 0)
			return 0;
		int64_t parts = ft_cu_dw_parts(g);
		dim3 grid((unsigned)g->c, (unsigned)parts);
		int64_t nw = g->c * g->kh * g->kw;
#define L(T)                                                                                             \
	dw_grad_weight_part<T><<<grid, kThreads, 0, s>>>((const T *)a, (const T *)b, (double *)ws, *g, parts); \
	sum_parts<T><<<blocks_for(nw), kThreads, 0, s>>>((const double *)ws, (T *)out, nw, parts)
		FTCU_BY_TYPE(dt, L)
#undef L
	}
	return launched();
}
