/*
 * cuda_conv.c - Conv, ft.ConvGradInput and ft.ConvGradWeight on the CUDA
 * backend through cuDNN (its descriptor API), 2-D, on float32, float16 and
 * bfloat16 storage (float32 accumulation).
 *
 * prepare builds the node's descriptors once and picks cuDNN's first
 * heuristic algorithm that computes in plain float32 FMA (CUDNN_FMA_MATH: no
 * TF32, so the results are comparable with the CPU's to float32 rounding);
 * its workspace becomes the node's scratch in the plan, so a run allocates
 * nothing. Asymmetric padding (cuDNN takes one pad per axis) is not taken.
 *
 * 1 x 1 convolutions of stride 1 without padding or groups (most of ResNet-50's and
 * EfficientNet's) are matrix products, and their forward and input gradient run as
 * such through cuda_gemm.c: per image, y (K, HW) = W (K, C) x (C, HW) and
 * dx (C, HW) = W^T dy (K, HW), one strided-batched product over the images with W
 * shared; on a 1 x 1 image one product of the batch's rows, y (N, K) = x (N, C) W^T,
 * and the weight gradient too, dW (K, C) = dy^T (K, N) x (N, C).
 * cuDNN's fastest algorithm for those layers took 0.15 to 0.35 ms a call at batch 128
 * in bf16 on an H200 (tests/bench_conv_layout, 2026-11-28), 40 to 90 TFLOP/s, a
 * small part of what the tensor cores do on products of these sizes. The weight
 * gradient of a larger image, a sum over the images, stays with cuDNN. Channels last
 * (ft_channels_last, runtime/layout.c) every position is a row: all three are one product
 * of N H W rows, y (NHW, K) = x (NHW, C) W^T, as on a 1 x 1 image; other convolutions
 * take cuDNN's NHWC format (activations NHWC, the filter KRSC). FT_CONV_GEMM=0 gives them all
 * to cuDNN (opt-out, to measure one against the other).
 *
 * FT_CUDA_DEPTHWISE=1 (opt-in until measured against cuDNN on a GPU): depthwise
 * convolutions (group = input channels = output channels, at most 7 x 7) run
 * ftrun's own kernels (kernels/cuda/depthwise.cu) instead of cuDNN's grouped
 * convolution, which is slow for them in NCHW.
 */
#include "cuda_conv.h"

#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_gemm.h"
#include "shape_conv.h"

typedef struct conv_extra {
	cudnnTensorDescriptor_t x, y, bias; /* y: the output side (dy for the gradients) */
	cudnnFilterDescriptor_t w;
	cudnnConvolutionDescriptor_t conv;
	int algo;
	size_t workspace;
	cudnnMathType_t math; /* the algorithm's math type we accept */
	bool depthwise;       /* ftrun's kernels (depthwise.cu), not cuDNN */
	bool timed;           /* the algorithm chosen by cudnnFind* whatever FT_CUDNN_FIND says */
	bool gemm;            /* a 1 x 1 forward or input gradient as matrix products (cuda_gemm.c) */
	int64_t n, c, k, hw;  /*   its images, input and output channels, positions per image */
	ft_cu_dw dw;
} conv_extra;

static ft_status dnn_check(cudnnStatus_t e, const char *what)
{
	if (e == CUDNN_STATUS_SUCCESS)
		return FT_OK;
	return ft_error(FT_ERUNTIME, "cuDNN: %s: %s", what, cudnnGetErrorString(e));
}

static bool is_conv(ft_op op)
{
	return op == FT_OP_CONV || op == FT_OP_CONV_GRAD_INPUT || op == FT_OP_CONV_GRAD_WEIGHT;
}

bool ft_cuda_conv_supported(const ft_graph *g, const ft_node *n)
{
	if (!is_conv(n->op))
		return false;
	ft_dtype dt = ft_in(g, n, 0)->dtype;
	if (dt != FT_F32 && dt != FT_F16 && dt != FT_BF16)
		return false;
	for (int i = 0; i < n->n_in + n->n_out; i++) {
		int id = i < n->n_in ? n->in[i] : n->out[i - n->n_in];
		if (id >= 0 && g->tensors[id].dtype != dt)
			return false;
	}
	ft_conv_geom gm;
	if (ft_conv_geometry(g, n, &gm) != FT_OK) {
		ft_clear_error();
		return false;
	}
	if (gm.nsp != 2)
		return false;
	for (int i = 0; i < 2; i++)
		if (gm.pad_begin[i] != gm.pad_end[i])
			return false;
	return true;
}

static void release(conv_extra *e)
{
	if (!e)
		return;
	if (e->x)
		cudnnDestroyTensorDescriptor(e->x);
	if (e->y)
		cudnnDestroyTensorDescriptor(e->y);
	if (e->bias)
		cudnnDestroyTensorDescriptor(e->bias);
	if (e->w)
		cudnnDestroyFilterDescriptor(e->w);
	if (e->conv)
		cudnnDestroyConvolutionDescriptor(e->conv);
	free(e);
}

void ft_cuda_conv_release(ft_node *n)
{
	if (is_conv(n->op)) {
		release(n->extra);
		n->extra = NULL;
	}
}

static ft_status describe(const ft_graph *g, const ft_node *n, conv_extra *e)
{
	ft_conv_geom gm;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	ft_dtype dtype = ft_in(g, n, 0)->dtype;
	cudnnDataType_t dt = dtype == FT_F16 ? CUDNN_DATA_HALF : dtype == FT_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
	/* channels last (runtime/layout.c): activations NHWC and the filter KRSC, cuDNN's NHWC format */
	cudnnTensorFormat_t fmt = ft_channels_last(n) ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
	e->math = dtype == FT_F32 ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
	FT_TRY(dnn_check(cudnnCreateTensorDescriptor(&e->x), "tensor descriptor"));
	FT_TRY(dnn_check(cudnnCreateTensorDescriptor(&e->y), "tensor descriptor"));
	FT_TRY(dnn_check(cudnnCreateTensorDescriptor(&e->bias), "tensor descriptor"));
	FT_TRY(dnn_check(cudnnCreateFilterDescriptor(&e->w), "filter descriptor"));
	FT_TRY(dnn_check(cudnnCreateConvolutionDescriptor(&e->conv), "convolution descriptor"));
	FT_TRY(dnn_check(cudnnSetTensor4dDescriptor(e->x, fmt, dt, (int)gm.n, (int)gm.c_in, (int)gm.in[0],
						    (int)gm.in[1]),
			 "x descriptor"));
	FT_TRY(dnn_check(cudnnSetTensor4dDescriptor(e->y, fmt, dt, (int)gm.n, (int)gm.c_out, (int)gm.out[0],
						    (int)gm.out[1]),
			 "y descriptor"));
	FT_TRY(dnn_check(cudnnSetTensor4dDescriptor(e->bias, fmt, dt, 1, (int)gm.c_out, 1, 1), "bias descriptor"));
	FT_TRY(dnn_check(cudnnSetFilter4dDescriptor(e->w, dt, fmt, (int)gm.c_out,
						    (int)gm.w_cin, (int)gm.kernel[0], (int)gm.kernel[1]),
			 "filter descriptor"));
	FT_TRY(dnn_check(cudnnSetConvolution2dDescriptor(e->conv, (int)gm.pad_begin[0], (int)gm.pad_begin[1],
							 (int)gm.stride[0], (int)gm.stride[1], (int)gm.dil[0],
							 (int)gm.dil[1], CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
			 "convolution descriptor"));
	FT_TRY(dnn_check(cudnnSetConvolutionGroupCount(e->conv, (int)gm.group), "group count"));
	/*
	 * Kernels of 8 x 8 and more (a Vision Transformer's patch embedding, 16 x 16 stride 16):
	 * cuDNN's first heuristic choice for ViT-B/16's took 9.3 ms a forward call at batch 64 in
	 * bf16 on an H200 (2026-11-28), for 1.5 GFLOP. These are few and rare, so timing the
	 * candidates once costs little.
	 */
	/* FT_CUDNN_FIND=0: the heuristics' first here too */
	e->timed = gm.kernel[0] * gm.kernel[1] >= 64 && !ft_env_off("FT_CUDNN_FIND");
	/* float32 accumulation whatever the storage */
	return dnn_check(cudnnSetConvolutionMathType(e->conv, e->math), "math type");
}

enum { MAX_ALGOS = 16 };

/*
 * The first heuristic choice that succeeds in the accepted math (FMA for
 * float32) within the workspace cap: its algorithm, workspace and math type
 * (set on the descriptor, as the algorithm was chosen for it). FFT algorithms
 * can ask for gigabytes; PyTorch filters them the same way.
 */
#define PICK(PERF_T, CALL, ...)                                                                 \
	do {                                                                                    \
		PERF_T perf[MAX_ALGOS];                                                         \
		int got = 0;                                                                    \
		if (CALL(h, __VA_ARGS__, MAX_ALGOS, &got, perf) != CUDNN_STATUS_SUCCESS)        \
			got = 0;                                                                \
		for (int i = 0; i < got; i++)                                                   \
			if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= cap &&  \
			    (perf[i].mathType == e->math || e->math == CUDNN_TENSOR_OP_MATH)) {  \
				e->algo = (int)perf[i].algo;                                    \
				e->workspace = perf[i].memory;                                  \
				e->math = perf[i].mathType;                                     \
				return dnn_check(cudnnSetConvolutionMathType(e->conv, e->math), \
						 "math type");                                  \
			}                                                                       \
	} while (0)

static ft_status pick(void *handle, ft_op op, conv_extra *e)
{
	cudnnHandle_t h = handle;
	/* a quarter of the free device memory, at most 1 GiB, for one convolution's workspace */
	size_t free_b = 0, total_b = 0, cap = (size_t)1 << 30;
	if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess && free_b / 4 < cap)
		cap = free_b / 4;
	/*
	 * FT_CUDNN_FIND=1: cuDNN times the candidates on this GPU (cudnnFind*, as
	 * PyTorch's cudnn.benchmark) and the fastest that fits is taken; else, or
	 * when that fails, its heuristics' order. Not yet the default: the two are
	 * to be compared on a GPU first (docs/cuda.md).
	 */
	bool find = e->timed || ft_env_on("FT_CUDNN_FIND");
	switch (op) {
	case FT_OP_CONV:
		if (find)
			PICK(cudnnConvolutionFwdAlgoPerf_t, cudnnFindConvolutionForwardAlgorithm, e->x, e->w, e->conv, e->y);
		PICK(cudnnConvolutionFwdAlgoPerf_t, cudnnGetConvolutionForwardAlgorithm_v7, e->x, e->w, e->conv, e->y);
		break;
	case FT_OP_CONV_GRAD_INPUT:
		if (find)
			PICK(cudnnConvolutionBwdDataAlgoPerf_t, cudnnFindConvolutionBackwardDataAlgorithm, e->w, e->y,
			     e->conv, e->x);
		PICK(cudnnConvolutionBwdDataAlgoPerf_t, cudnnGetConvolutionBackwardDataAlgorithm_v7, e->w, e->y, e->conv,
		     e->x);
		break;
	default:
		if (find)
			PICK(cudnnConvolutionBwdFilterAlgoPerf_t, cudnnFindConvolutionBackwardFilterAlgorithm, e->x, e->y,
			     e->conv, e->w);
		PICK(cudnnConvolutionBwdFilterAlgoPerf_t, cudnnGetConvolutionBackwardFilterAlgorithm_v7, e->x, e->y,
		     e->conv, e->w);
		break;
	}
	return ft_error(FT_EUNSUPPORTED, "cuDNN offers no algorithm for this convolution in %s math within a "
			"%zu MiB workspace", e->math == CUDNN_FMA_MATH ? "float32 FMA" : "tensor-op", cap >> 20);
}

/* FT_CUDA_DEPTHWISE=1 and a depthwise convolution: its geometry for depthwise.cu */
static bool depthwise(const ft_graph *g, const ft_node *n, ft_cu_dw *dw)
{
	ft_conv_geom gm;
	if (!ft_env_on("FT_CUDA_DEPTHWISE") || ft_conv_geometry(g, n, &gm) != FT_OK) {
		ft_clear_error();
		return false;
	}
	if (gm.nsp != 2 || ft_channels_last(n) || gm.group != gm.c_in || gm.c_out != gm.c_in || gm.w_cin != 1 ||
	    gm.kernel[0] * gm.kernel[1] > FT_CU_DW_MAX_TAPS)
		return false;
	*dw = (ft_cu_dw){ .n = gm.n, .c = gm.c_in, .h = gm.in[0], .w = gm.in[1], .oh = gm.out[0], .ow = gm.out[1],
			  .kh = (int)gm.kernel[0], .kw = (int)gm.kernel[1], .sh = (int)gm.stride[0],
			  .sw = (int)gm.stride[1], .ph = (int)gm.pad_begin[0], .pw = (int)gm.pad_begin[1],
			  .dh = (int)gm.dil[0], .dw = (int)gm.dil[1] };
	return true;
}

/* a 1 x 1 convolution, stride 1, no padding, no groups: its forward and input gradient as products,
   and its weight gradient where every image is one position (hw 1, or channels last) */
static bool as_gemm(const ft_graph *g, const ft_node *n, conv_extra *e)
{
	ft_conv_geom gm;
	if (ft_conv_geometry(g, n, &gm) != FT_OK) {
		ft_clear_error();
		return false;
	}
	if (ft_env_off("FT_CONV_GEMM") || gm.nsp != 2 || gm.group != 1)
		return false;
	for (int i = 0; i < 2; i++)
		if (gm.kernel[i] != 1 || gm.stride[i] != 1 || gm.pad_begin[i] != 0 || gm.pad_end[i] != 0)
			return false;
	e->n = gm.n;
	e->c = gm.c_in;
	e->k = gm.c_out;
	e->hw = gm.in[0] * gm.in[1];
	if (ft_channels_last(n)) { /* (N, H, W, C): every position a row, as a batch of 1 x 1 images */
		e->n *= e->hw;
		e->hw = 1;
	}
	return n->op != FT_OP_CONV_GRAD_WEIGHT || e->hw == 1; /* (a sum over the images: one product on 1 x 1) */
}

/*
 * y = W x per image (forward: x (C, HW) -> y (K, HW)) or dx = W^T dy (input gradient); on a
 * 1 x 1 image also the weight gradient, dW (K, C) = dy^T (K, N) x (N, C)
 */
static ft_status run_gemm(ft_cuda_blas *blas, const ft_graph *g, const ft_node *n, const conv_extra *e)
{
	const ft_tensor *in = ft_in(g, n, 0), *w = ft_in(g, n, 1), *y = ft_out(g, n, 0);
	bool fwd = n->op == FT_OP_CONV;
	int64_t from = fwd ? e->c : e->k, to = fwd ? e->k : e->c; /* channels in, out of this product */
	ft_gemm p = { .dt = y->dtype, .yt = y->dtype, .alpha = 1.0f, .batch = 1, .y = y->data };
	if (n->op == FT_OP_CONV_GRAD_WEIGHT) { /* (dy (N, K), x (N, C)) -> dW (K, C) */
		p.m = e->k;
		p.n = e->c;
		p.k = e->n;
		p.ta = true;
		p.a = in->data;
		p.b = w->data;
	} else if (e->hw == 1) { /* the batch as rows: y (N, to) = in (N, from) op(W), W (K, C) */
		p.m = e->n;
		p.n = to;
		p.k = from;
		p.tb = fwd;
		p.a = in->data;
		p.b = w->data;
	} else { /* per image: y (to, HW) = op(W) in (from, HW), W shared */
		p.m = to;
		p.n = e->hw;
		p.k = from;
		p.ta = !fwd;
		p.a = w->data;
		p.sa = 0;
		p.b = in->data;
		p.sb = from * e->hw;
		p.batch = e->n;
	}
	return ft_cuda_gemm(blas, &p);
}

ft_status ft_cuda_conv_prepare(void *handle, const ft_graph *g, ft_node *n, size_t *scratch)
{
	ft_cuda_conv_release(n);
	conv_extra *e = ft_xcalloc(1, sizeof(*e));
	ft_status st = describe(g, n, e);
	if (!st && as_gemm(g, n, e)) {
		e->gemm = true;
		e->workspace = 0;
	} else if (!st && depthwise(g, n, &e->dw)) {
		e->depthwise = true;
		e->workspace = n->op == FT_OP_CONV_GRAD_WEIGHT ? ft_cu_dw_workspace(&e->dw) : 0;
	} else if (!st) {
		st = pick(handle, n->op, e);
	}
	if (st) {
		release(e);
		return ft_node_error(g, n, st, "%s", ft_last_error());
	}
	if (n->op == FT_OP_CONV_GRAD_WEIGHT && n->n_out > 1 && n->out[1] >= 0) {
		/* the bias gradient's sums run after the weight gradient, in the same workspace */
		int64_t nb, ch, hw;
		ft_cuda_ncs(n, ft_in(g, n, 0), &nb, &ch, &hw);
		size_t sums = ft_cu_channel_sum_workspace(nb, ch, hw);
		e->workspace = sums > e->workspace ? sums : e->workspace;
	}
	n->extra = e;
	*scratch = e->workspace;
	return FT_OK;
}

ft_status ft_cuda_conv_run(void *handle, ft_cuda_blas *blas, const ft_graph *g, ft_node *n, void *workspace,
			  size_t workspace_bytes)
{
	cudnnHandle_t h = handle;
	conv_extra *e = n->extra;
	if (!e || workspace_bytes < e->workspace)
		return ft_node_error(g, n, FT_ERUNTIME, "convolution not prepared, or its workspace is smaller than planned");
	const float one = 1.0f, zero = 0.0f;
	void *ws = e->workspace ? workspace : NULL;
	if (e->gemm) {
		ft_status st = run_gemm(blas, g, n, e);
		if (st)
			return ft_node_error(g, n, st, "%s", ft_last_error());
		const ft_tensor *b = n->op == FT_OP_CONV ? ft_in(g, n, 2) : NULL;
		if (b)
			FT_TRY(dnn_check(cudnnAddTensor(h, &one, e->bias, b->data, &one, e->y, ft_out(g, n, 0)->data),
					 "convolution bias"));
		if (n->op != FT_OP_CONV_GRAD_WEIGHT)
			return FT_OK;
		/* the weight gradient's bias below, as cuDNN's path does it */
	}
	if (e->depthwise) {
		cudaStream_t s = NULL;
		FT_TRY(dnn_check(cudnnGetStream(h, &s), "stream"));
		const ft_tensor *y = ft_out(g, n, 0);
		int which = n->op == FT_OP_CONV ? 0 : n->op == FT_OP_CONV_GRAD_INPUT ? 1 : 2;
		const ft_tensor *bias = which == 0 ? ft_in(g, n, 2) : NULL;
		int err = ft_cu_depthwise(ft_cuda_dtype(y->dtype), which, ft_in(g, n, 0)->data, ft_in(g, n, 1)->data,
					  bias ? bias->data : NULL, y->data, ws, &e->dw, s);
		if (err)
			return ft_node_error(g, n, FT_ERUNTIME, "depthwise convolution: %s",
					     cudaGetErrorString((cudaError_t)err));
		if (which < 2)
			return FT_OK;
		/* the weight gradient's bias below, as cuDNN's path does it */
	}
	switch (n->op) {
	case FT_OP_CONV: {
		const ft_tensor *b = ft_in(g, n, 2);
		FT_TRY(dnn_check(cudnnConvolutionForward(h, &one, e->x, ft_in(g, n, 0)->data, e->w, ft_in(g, n, 1)->data,
							 e->conv, (cudnnConvolutionFwdAlgo_t)e->algo, ws, e->workspace,
							 &zero, e->y, ft_out(g, n, 0)->data),
				 "convolution forward"));
		if (b)
			FT_TRY(dnn_check(cudnnAddTensor(h, &one, e->bias, b->data, &one, e->y, ft_out(g, n, 0)->data),
					 "convolution bias"));
		return FT_OK;
	}
	case FT_OP_CONV_GRAD_INPUT: /* (dy, w) -> dx */
		return dnn_check(cudnnConvolutionBackwardData(h, &one, e->w, ft_in(g, n, 1)->data, e->y,
							      ft_in(g, n, 0)->data, e->conv,
							      (cudnnConvolutionBwdDataAlgo_t)e->algo, ws, e->workspace,
							      &zero, e->x, ft_out(g, n, 0)->data),
				 "convolution backward data");
	default: { /* (dy, x) -> dw [, db] */
		if (!e->depthwise && !e->gemm) /* (depthwise, products: dw made above) */
			FT_TRY(dnn_check(cudnnConvolutionBackwardFilter(h, &one, e->x, ft_in(g, n, 1)->data, e->y,
									ft_in(g, n, 0)->data, e->conv,
									(cudnnConvolutionBwdFilterAlgo_t)e->algo, ws,
									e->workspace, &zero, e->w, ft_out(g, n, 0)->data),
					 "convolution backward filter"));
		/* db: dy summed per channel by ftrun's kernel (cuDNN's refuses bfloat16), in double like the CPU's */
		const ft_tensor *db = n->n_out > 1 ? ft_out(g, n, 1) : NULL;
		if (db && db->data) {
			const ft_tensor *dy = ft_in(g, n, 0);
			int64_t nb, ch, hw;
			ft_cuda_ncs(n, dy, &nb, &ch, &hw);
			cudaStream_t s = NULL;
			FT_TRY(dnn_check(cudnnGetStream(h, &s), "stream"));
			int err = ft_cu_channel_sum(ft_cuda_dtype(dy->dtype), dy->data, db->data, nb, ch, hw, workspace, s);
			if (err)
				return ft_node_error(g, n, FT_ERUNTIME, "bias gradient: %s",
						     cudaGetErrorString((cudaError_t)err));
		}
		return FT_OK;
	}
	}
}
