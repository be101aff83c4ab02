/*
 * bench_conv_layout.c - what a channels-last layout pass would buy (issue 5): cuDNN's fastest
 * time (cudnnFind*, which times every algorithm on this GPU) for the convolutions of
 * ResNet-50 and a few of EfficientNet-B0's depthwise ones, forward, backward-data and
 * backward-filter, with the activations and filters in NCHW (ftrun's layout today) and in
 * NHWC (PyTorch's channels_last), in bf16 with float32 accumulation. Prints one row per
 * convolution and the totals weighted by how often each occurs in one training step.
 *
 * usage: bench_conv_layout [BATCH]     (default 128; needs a GPU, exits 77 without one)
 */
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct shape {
	const char *what;
	int hw, cin, cout, k, stride, groups, count; /* count: occurrences in one network */
} shape;

static const shape shapes[] = {
	{ "resnet50 conv1 7x7/2", 224, 3, 64, 7, 2, 1, 1 },
	{ "l1 1x1 64>64", 56, 64, 64, 1, 1, 1, 1 },
	{ "l1 3x3 64>64", 56, 64, 64, 3, 1, 1, 3 },
	{ "l1 1x1 64>256", 56, 64, 256, 1, 1, 1, 4 },
	{ "l1 1x1 256>64", 56, 256, 64, 1, 1, 1, 2 },
	{ "l2 1x1 256>128", 56, 256, 128, 1, 1, 1, 1 },
	{ "l2 3x3/2 128>128", 56, 128, 128, 3, 2, 1, 1 },
	{ "l2 1x1/2 256>512", 56, 256, 512, 1, 2, 1, 1 },
	{ "l2 1x1 128>512", 28, 128, 512, 1, 1, 1, 4 },
	{ "l2 1x1 512>128", 28, 512, 128, 1, 1, 1, 3 },
	{ "l2 3x3 128>128", 28, 128, 128, 3, 1, 1, 3 },
	{ "l3 1x1 512>256", 28, 512, 256, 1, 1, 1, 1 },
	{ "l3 3x3/2 256>256", 28, 256, 256, 3, 2, 1, 1 },
	{ "l3 1x1/2 512>1024", 28, 512, 1024, 1, 2, 1, 1 },
	{ "l3 1x1 256>1024", 14, 256, 1024, 1, 1, 1, 6 },
	{ "l3 1x1 1024>256", 14, 1024, 256, 1, 1, 1, 5 },
	{ "l3 3x3 256>256", 14, 256, 256, 3, 1, 1, 5 },
	{ "l4 1x1 1024>512", 14, 1024, 512, 1, 1, 1, 1 },
	{ "l4 3x3/2 512>512", 14, 512, 512, 3, 2, 1, 1 },
	{ "l4 1x1/2 1024>2048", 14, 1024, 2048, 1, 2, 1, 1 },
	{ "l4 1x1 512>2048", 7, 512, 2048, 1, 1, 1, 3 },
	{ "l4 1x1 2048>512", 7, 2048, 512, 1, 1, 1, 2 },
	{ "l4 3x3 512>512", 7, 512, 512, 3, 1, 1, 2 },
	{ "effnet dw 3x3 32", 112, 32, 32, 3, 1, 32, 1 },
	{ "effnet dw 3x3/2 96", 112, 96, 96, 3, 2, 96, 1 },
	{ "effnet dw 3x3 144", 56, 144, 144, 3, 1, 144, 1 },
	{ "effnet dw 5x5 240", 28, 240, 240, 5, 1, 240, 1 },
	{ "effnet dw 3x3 480", 14, 480, 480, 3, 1, 480, 2 },
	{ "effnet dw 5x5 672", 14, 672, 672, 5, 1, 672, 3 },
	{ "effnet dw 5x5 1152", 7, 1152, 1152, 5, 1, 1152, 3 },
};

#define CK(x)                                                                                   \
	do {                                                                                    \
		cudnnStatus_t s_ = (x);                                                         \
		if (s_ != CUDNN_STATUS_SUCCESS) {                                               \
			fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudnnGetErrorString(s_)); \
			exit(1);                                                                \
		}                                                                               \
	} while (0)

enum { ALGOS = 16 };

/* the fastest successful algorithm's time in ms (cudnnFind* times them), -1 if none */
#define BEST(PERF_T, FIND, ...)                                                                 \
	do {                                                                                    \
		PERF_T p[ALGOS];                                                                \
		int got = 0;                                                                    \
		if (FIND(__VA_ARGS__, ALGOS, &got, p, ws, ws_bytes) != CUDNN_STATUS_SUCCESS)    \
			got = 0;                                                                \
		for (int i = 0; i < got; i++)                                                   \
			if (p[i].status == CUDNN_STATUS_SUCCESS)                                \
				return p[i].time;                                               \
		return -1;                                                                      \
	} while (0)

typedef struct conv {
	cudnnHandle_t h;
	cudnnTensorDescriptor_t x, y;
	cudnnFilterDescriptor_t w;
	cudnnConvolutionDescriptor_t c;
	void *dx, *dy, *dw, *ws;
	size_t ws_bytes;
} conv;

static float fwd(conv *v)
{
	void *ws = v->ws;
	size_t ws_bytes = v->ws_bytes;
	BEST(cudnnConvolutionFwdAlgoPerf_t, cudnnFindConvolutionForwardAlgorithmEx, v->h, v->x, v->dx, v->w, v->dw, v->c,
	     v->y, v->dy);
}

static float bwd_data(conv *v)
{
	void *ws = v->ws;
	size_t ws_bytes = v->ws_bytes;
	BEST(cudnnConvolutionBwdDataAlgoPerf_t, cudnnFindConvolutionBackwardDataAlgorithmEx, v->h, v->w, v->dw, v->y,
	     v->dy, v->c, v->x, v->dx);
}

static float bwd_filter(conv *v)
{
	void *ws = v->ws;
	size_t ws_bytes = v->ws_bytes;
	BEST(cudnnConvolutionBwdFilterAlgoPerf_t, cudnnFindConvolutionBackwardFilterAlgorithmEx, v->h, v->x, v->dx, v->y,
	     v->dy, v->c, v->w, v->dw);
}

/* times[3]: forward, backward-data, backward-filter of s in layout f */
static void measure(conv *v, const shape *s, int n, cudnnTensorFormat_t f, float *times)
{
	int pad = s->k / 2, out = (s->hw + 2 * pad - s->k) / s->stride + 1;
	CK(cudnnSetTensor4dDescriptor(v->x, f, CUDNN_DATA_BFLOAT16, n, s->cin, s->hw, s->hw));
	CK(cudnnSetTensor4dDescriptor(v->y, f, CUDNN_DATA_BFLOAT16, n, s->cout, out, out));
	CK(cudnnSetFilter4dDescriptor(v->w, CUDNN_DATA_BFLOAT16, f, s->cout, s->cin / s->groups, s->k, s->k));
	CK(cudnnSetConvolution2dDescriptor(v->c, pad, pad, s->stride, s->stride, 1, 1, CUDNN_CROSS_CORRELATION,
					   CUDNN_DATA_FLOAT));
	CK(cudnnSetConvolutionGroupCount(v->c, s->groups));
	CK(cudnnSetConvolutionMathType(v->c, CUDNN_TENSOR_OP_MATH));
	times[0] = fwd(v);
	times[1] = s->cin == 3 ? 0 : bwd_data(v); /* (the first layer needs no input gradient) */
	times[2] = bwd_filter(v);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 128, devices = 0;
	if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
		printf("SKIP: no GPU\n");
		return 77;
	}
	conv v = { 0 };
	CK(cudnnCreate(&v.h));
	CK(cudnnCreateTensorDescriptor(&v.x));
	CK(cudnnCreateTensorDescriptor(&v.y));
	CK(cudnnCreateFilterDescriptor(&v.w));
	CK(cudnnCreateConvolutionDescriptor(&v.c));
	size_t most = 0;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const shape *s = &shapes[i];
		size_t x = (size_t)n * s->cin * s->hw * s->hw, y = (size_t)n * s->cout * s->hw * s->hw;
		most = x > most ? x : most;
		most = y > most ? y : most;
	}
	v.ws_bytes = (size_t)1 << 30;
	if (cudaMalloc(&v.dx, 2 * most) != cudaSuccess || cudaMalloc(&v.dy, 2 * most) != cudaSuccess ||
	    cudaMalloc(&v.dw, (size_t)2 * 2048 * 2048 * 9) != cudaSuccess || cudaMalloc(&v.ws, v.ws_bytes) != cudaSuccess) {
		fprintf(stderr, "cudaMalloc failed\n");
		return 1;
	}
	cudaMemset(v.dx, 0, 2 * most);
	cudaMemset(v.dy, 0, 2 * most);
	struct cudaDeviceProp prop;
	cudaGetDeviceProperties(&prop, 0);
	printf("cuDNN %zu on %s, batch %d, bf16, float32 accumulation; fastest algorithm per case (cudnnFind*), ms\n",
	       cudnnGetVersion(), prop.name, n);
	printf("%-22s %5s | %8s %8s %8s | %8s %8s %8s | %6s\n", "convolution", "count", "fwd NCHW", "bwd-d", "bwd-w",
	       "fwd NHWC", "bwd-d", "bwd-w", "ratio");
	double tot[2][2] = { { 0 } }; /* [resnet50, effnet dw][NCHW, NHWC], weighted by count */
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const shape *s = &shapes[i];
		float a[3], b[3];
		measure(&v, s, n, CUDNN_TENSOR_NCHW, a);
		measure(&v, s, n, CUDNN_TENSOR_NHWC, b);
		double sa = a[0] + a[1] + a[2], sb = b[0] + b[1] + b[2];
		int net = s->groups > 1;
		tot[net][0] += s->count * sa;
		tot[net][1] += s->count * sb;
		printf("%-22s %5d | %8.3f %8.3f %8.3f | %8.3f %8.3f %8.3f | %6.2f\n", s->what, s->count, a[0], a[1], a[2],
		       b[0], b[1], b[2], sb > 0 ? sa / sb : 0);
	}
	printf("resnet50 convolutions, one step: NCHW %.1f ms, NHWC %.1f ms (%.2fx)\n", tot[0][0], tot[0][1],
	       tot[0][1] > 0 ? tot[0][0] / tot[0][1] : 0);
	printf("the EfficientNet-B0 depthwise sample: NCHW %.1f ms, NHWC %.1f ms (%.2fx)\n", tot[1][0], tot[1][1],
	       tot[1][1] > 0 ? tot[1][0] / tot[1][1] : 0);
	return 0;
}
