/*
 * backend_cuda.c - the CUDA backend (issue 5), built when the CUDA toolkit is
 * found (meson option cuda, FT_HAVE_CUDA).
 *
 * Memory is device memory from cudaMalloc in the executor's few planned
 * blocks; nodes are queued on one stream and sync() waits for it. This is the
 * first slice of the backend: elementwise arithmetic with broadcasting, the
 * unary activations and their gradients, Cast between float32/float16/
 * bfloat16, the shape ops that move bytes unchanged, 2-D convolutions and
 * their gradients through cuDNN (runtime/cuda_conv.c), BatchNorm in training
 * and its backward, MaxPool and GlobalAveragePool and their backward,
 * Gemm/MatMul/ft.MatMulT through cuBLASLt (runtime/cuda_gemm.c; float32 with
 * TF32 off), Transpose,
 * Slice, Expand, Concat, Gather, Softmax, LayerNormalization and their
 * gradients, the loss and its gradient, the
 * reduction of broadcast gradients, gradient accumulation and the SGD and
 * AdamW steps, in float32.
 * supports_op says exactly that, so a graph with any other node is refused
 * (`--device cuda` lists every such node), and `--device auto` stays on the
 * CPU for it (ft_pick_backend). tests/test_cuda_ops.c compares every op here
 * with the CPU kernels on a GPU.
 */
#include "backend.h"

#include <cuda_runtime_api.h>
#include <cudnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"
#include "cpu/matmul.h"
#include "cpu/reduce.h"
#include "cpu/shape.h"
#include "cpu/util.h"
#include "cuda/ft_cuda.h"
#include "cuda_conv.h"
#include "cuda_gemm.h"
#include "shape_conv.h"

/* cuBLASLt's workspace, held for the backend's life: the size NVIDIA advises for Hopper */
enum { LT_WORKSPACE = 32 << 20 };

typedef struct cuda_ctx {
	int device;
	cudaStream_t stream;
	ft_cuda_blas *blas; /* cuda_gemm.c: cuBLASLt, cuBLAS */
	void *lt_workspace;
	cudnnHandle_t dnn;
	void *workspace; /* the executor's, for the nodes' scratch */
	size_t workspace_bytes;
	/* the asynchronous uploads since the last sync, between two events, and their total time */
	cudaEvent_t up0, up1;
	bool up_pending;
	double up_seconds;
	/* copy_ahead: its own stream, one copy at a time between two events, timed when done */
	cudaStream_t copy;
	cudaEvent_t ahead0, ahead1;
	bool ahead_pending;
	/* device memory through cuda_alloc: each allocation, the bytes held now and at most (cuda_memory) */
	struct held { void *p; size_t bytes; } *held;
	int n_held, cap_held;
	size_t held_bytes, peak_bytes;
	size_t used0;    /* the device's memory in use once its context and streams were made (cudaMemGetInfo) */
} cuda_ctx;

static bool is_storage(ft_dtype t)
{
	return t == FT_F32 || t == FT_F16 || t == FT_BF16;
}

/* the inputs from `in` on and the outputs from `out` on are float32 */
static bool f32_from(const ft_graph *g, const ft_node *n, int in, int out)
{
	for (int i = in; i < n->n_in; i++)
		if (n->in[i] >= 0 && g->tensors[n->in[i]].dtype != FT_F32)
			return false;
	for (int i = out; i < n->n_out; i++)
		if (n->out[i] >= 0 && g->tensors[n->out[i]].dtype != FT_F32)
			return false;
	return true;
}

static bool all_f32(const ft_graph *g, const ft_node *n)
{
	return f32_from(g, n, 0, 0);
}

/* every float tensor of n in one storage type the kernels take (float32, float16, bfloat16) */
static bool same_float_type(const ft_graph *g, const ft_node *n)
{
	ft_dtype dt = FT_UNDEF;
	for (int i = 0; i < n->n_in + n->n_out; i++) {
		int id = i < n->n_in ? n->in[i] : n->out[i - n->n_in];
		if (id < 0)
			continue;
		ft_dtype t = g->tensors[id].dtype;
		if (!is_storage(t) || (dt != FT_UNDEF && t != dt))
			return false;
		dt = t;
	}
	return true;
}

static int binary_op(ft_op op)
{
	switch (op) {
	case FT_OP_ADD: return FT_CU_ADD;
	case FT_OP_SUB: return FT_CU_SUB;
	case FT_OP_MUL: return FT_CU_MUL;
	case FT_OP_DIV: return FT_CU_DIV;
	default: return -1;
	}
}

static int unary_op(ft_op op)
{
	switch (op) {
	case FT_OP_RELU: return FT_CU_RELU;
	case FT_OP_LEAKY_RELU: return FT_CU_LEAKY_RELU;
	case FT_OP_SIGMOID: return FT_CU_SIGMOID;
	case FT_OP_TANH: return FT_CU_TANH;
	case FT_OP_ERF: return FT_CU_ERF;
	case FT_OP_SQRT: return FT_CU_SQRT;
	case FT_OP_EXP: return FT_CU_EXP;
	case FT_OP_LOG: return FT_CU_LOG;
	case FT_OP_NEG: return FT_CU_NEG;
	case FT_OP_ABS: return FT_CU_ABS;
	case FT_OP_RECIPROCAL: return FT_CU_RECIPROCAL;
	case FT_OP_HARD_SIGMOID: return FT_CU_HARD_SIGMOID;
	case FT_OP_HARD_SWISH: return FT_CU_HARD_SWISH;
	case FT_OP_SILU: return FT_CU_SILU;
	case FT_OP_GELU: return FT_CU_GELU;
	default: return -1;
	}
}

static int unary_grad_op(ft_op op)
{
	switch (op) {
	case FT_OP_RELU_GRAD: return FT_CU_RELU_GRAD;
	case FT_OP_LEAKY_RELU_GRAD: return FT_CU_LEAKY_RELU_GRAD;
	case FT_OP_SIGMOID_GRAD: return FT_CU_SIGMOID_GRAD;
	case FT_OP_TANH_GRAD: return FT_CU_TANH_GRAD;
	case FT_OP_ERF_GRAD: return FT_CU_ERF_GRAD;
	case FT_OP_HARD_SIGMOID_GRAD: return FT_CU_HARD_SIGMOID_GRAD;
	case FT_OP_HARD_SWISH_GRAD: return FT_CU_HARD_SWISH_GRAD;
	case FT_OP_SILU_GRAD: return FT_CU_SILU_GRAD;
	case FT_OP_GELU_GRAD: return FT_CU_GELU_GRAD;
	default: return -1;
	}
}

static bool byte_size_ok(const ft_tensor *t)
{
	size_t es = ft_dtype_size(t->dtype);
	return t->rank <= FT_CU_MAX_RANK && (es == 1 || es == 2 || es == 4 || es == 8);
}

/* a Gemm whose bias C goes into its low-precision output y as it is: C of y's type, beta 1 */
static bool gemm_bias_in_y(const ft_graph *g, const ft_node *n)
{
	const ft_tensor *cb = ft_in(g, n, 2), *y = ft_out(g, n, 0);
	return cb && y->dtype != FT_F32 && cb->dtype == y->dtype && ft_attr_float(n, "beta", 1.0f) == 1.0f;
}

/* a Gemm whose bias C is one value per column of y, of y's type, beta 1: added in the product's epilogue */
static bool gemm_bias_epilogue(const ft_graph *g, const ft_node *n)
{
	const ft_tensor *cb = ft_in(g, n, 2), *y = ft_out(g, n, 0);
	return cb && cb->dtype == y->dtype && ft_attr_float(n, "beta", 1.0f) == 1.0f && y->rank == 2 &&
	       cb->numel == y->dims[1] && cb->numel > 0 && (cb->rank == 1 || (cb->rank == 2 && cb->dims[0] == 1));
}

/* the executor's workspace for a node that asked for bytes of it (cuda_prepare), or NULL */
static float *scratch(cuda_ctx *c, size_t bytes)
{
	return c->workspace_bytes >= bytes ? c->workspace : NULL;
}

/* the LayerNorm view of x and whether scale (and bias) are one value per column */
static bool ln_view(const ft_graph *g, const ft_node *n, const ft_tensor *x, const ft_tensor *scale,
		    const ft_tensor *bias, int64_t *rows, int64_t *cols)
{
	int axis;
	if (ft_ln_split(g, n, x, &axis, rows, cols) != FT_OK) {
		ft_clear_error();
		return false;
	}
	return scale && scale->numel == *cols && (!bias || bias->numel == *cols);
}

/* what the Vision Transformer adds: data movement, Gather, Softmax, LayerNorm and their gradients */
static bool attn_op_ok(const ft_graph *g, const ft_node *n)
{
	int64_t rows, cols;
	switch (n->op) {
	case FT_OP_TRANSPOSE:
	case FT_OP_EXPAND:
		return byte_size_ok(ft_in(g, n, 0)) && ft_out(g, n, 0)->rank <= FT_CU_MAX_RANK;
	case FT_OP_SLICE: /* starts/ends/axes/steps read once, at prepare, from constants */
		for (int i = 1; i < n->n_in; i++)
			if (ft_in(g, n, i) && ft_in(g, n, i)->kind != FT_TK_CONST)
				return false;
		return byte_size_ok(ft_in(g, n, 0));
	case FT_OP_CONCAT:
		return true;
	case FT_OP_IMAGE_NORMALIZE:
		return ft_in(g, n, 0)->dtype == FT_U8 && ft_out(g, n, 0)->dtype == FT_F32 && ft_in(g, n, 0)->rank == 4;
	case FT_OP_GATHER:
		return byte_size_ok(ft_in(g, n, 0)) && ft_in(g, n, 1)->dtype == FT_I64;
	case FT_OP_SLICE_GRAD: /* moves elements of any size (zeros are zero bytes in every float type) */
		return ft_in(g, n, 0)->dtype == ft_out(g, n, 0)->dtype && byte_size_ok(ft_out(g, n, 0));
	case FT_OP_GATHER_GRAD:
		return ft_in(g, n, 0)->dtype == FT_F32 && ft_in(g, n, 1)->dtype == FT_I64;
	case FT_OP_SOFTMAX:
	case FT_OP_SOFTMAX_GRAD:
		return all_f32(g, n);
	case FT_OP_LAYER_NORM:
		return all_f32(g, n) && ln_view(g, n, ft_in(g, n, 0), ft_in(g, n, 1), ft_in(g, n, 2), &rows, &cols);
	case FT_OP_LAYER_NORM_GRAD:
		return all_f32(g, n) && ln_view(g, n, ft_in(g, n, 1), ft_in(g, n, 2), NULL, &rows, &cols);
	default:
		return false;
	}
}

/* the training ops of the first slice, all float32 but the labels (int64) */
static bool train_op_ok(const ft_graph *g, const ft_node *n)
{
	switch (n->op) {
	case FT_OP_SOFTMAX_CROSS_ENTROPY:
		return ft_in(g, n, 0)->dtype == FT_F32 && ft_in(g, n, 0)->rank == 2 && ft_in(g, n, 1)->dtype == FT_I64 &&
		       ft_in(g, n, 0)->dims[0] > 0;
	case FT_OP_SOFTMAX_CROSS_ENTROPY_GRAD:
		return ft_in(g, n, 0)->dtype == FT_F32 && ft_in(g, n, 1)->dtype == FT_F32 && ft_in(g, n, 1)->rank == 2 &&
		       ft_in(g, n, 2)->dtype == FT_I64;
	case FT_OP_REDUCE_SUM_TO:
		return same_float_type(g, n) && ft_in(g, n, 0)->rank <= FT_CU_MAX_RANK;
	case FT_OP_BATCH_NORM: /* inference: Y only */
		return all_f32(g, n) && (n->n_out < 2 || n->out[1] < 0) && ft_attr_int(n, "training_mode", 0) == 0;
	case FT_OP_BATCH_NORM_TRAIN: /* x and y in one storage type, the rest float32 */
	case FT_OP_BATCH_NORM_APPLY:
		return is_storage(ft_in(g, n, 0)->dtype) && ft_out(g, n, 0)->dtype == ft_in(g, n, 0)->dtype &&
		       f32_from(g, n, 1, 1);
	case FT_OP_BATCH_NORM_GRAD: { /* dy, x, dx (and a fused ReLU's output) in one storage type, the rest float32 */
		ft_dtype t = ft_in(g, n, 0)->dtype;
		const ft_tensor *ry = ft_in(g, n, 5);
		bool stats = true;
		for (int i = 2; i < 5; i++)
			stats &= ft_in(g, n, i)->dtype == FT_F32;
		return is_storage(t) && ft_in(g, n, 1)->dtype == t && (!ft_out(g, n, 0) || ft_out(g, n, 0)->dtype == t) &&
		       (!ry || ry->dtype == t) && stats && f32_from(g, n, 6, 1);
	}
	case FT_OP_GLOBAL_AVERAGE_POOL:
		return all_f32(g, n);
	case FT_OP_MAX_POOL_GRAD:
		return same_float_type(g, n);
	case FT_OP_MAX_POOL: /* without the Indices output */
		return same_float_type(g, n) && (n->n_out < 2 || n->out[1] < 0);
	case FT_OP_GLOBAL_POOL_GRAD:
		return all_f32(g, n) && strcmp(ft_attr_string(n, "mode", "avg"), "max") != 0;
	default:
		return attn_op_ok(g, n);
	case FT_OP_SGD_STEP_MULTI: /* all float32 (ft_infer_multi_step) */
	case FT_OP_ADAMW_STEP_MULTI:
		return all_f32(g, n);
	case FT_OP_GRAD_ACCUM:
	case FT_OP_SGD_STEP:
	case FT_OP_ADAMW_STEP:
	case FT_OP_GEMM:
	case FT_OP_MATMUL:
	case FT_OP_MATMUL_T:
		return same_float_type(g, n);
	case FT_OP_AMP_UNSCALE:
	case FT_OP_AMP_UPDATE_SCALE:
		return all_f32(g, n);
	}
}

static bool cuda_supports_op(void *ctx, const ft_graph *g, const ft_node *n)
{
	(void)ctx;
	if (train_op_ok(g, n) || ft_cuda_conv_supported(g, n))
		return true;
	if (binary_op(n->op) >= 0)
		return same_float_type(g, n) && ft_out(g, n, 0)->rank <= FT_CU_MAX_RANK;
	if (unary_op(n->op) >= 0 || unary_grad_op(n->op) >= 0)
		return same_float_type(g, n);
	if (n->op == FT_OP_CAST)
		return ft_cuda_dtype(ft_in(g, n, 0)->dtype) >= 0 && ft_cuda_dtype(ft_out(g, n, 0)->dtype) >= 0;
	if (ft_op_is_view(n->op))
		return true;
	return false;
}

bool ft_cuda_supports(const ft_graph *g, const ft_node *n)
{
	return cuda_supports_op(NULL, g, n);
}

static void *cuda_alloc(void *ctx, size_t bytes)
{
	cuda_ctx *c = ctx;
	void *p = NULL;
	cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
	if (e != cudaSuccess)
		ft_fatal(__FILE__, __LINE__, "cudaMalloc of %zu bytes: %s", bytes, cudaGetErrorString(e));
	if (c->n_held == c->cap_held) {
		c->cap_held = c->cap_held ? 2 * c->cap_held : 16;
		c->held = ft_xrealloc(c->held, sizeof(*c->held) * (size_t)c->cap_held);
	}
	c->held[c->n_held++] = (struct held){ p, bytes };
	c->held_bytes += bytes;
	c->peak_bytes = c->held_bytes > c->peak_bytes ? c->held_bytes : c->peak_bytes;
	return p;
}

static void cuda_free(void *ctx, void *p)
{
	cuda_ctx *c = ctx;
	for (int i = 0; i < c->n_held; i++)
		if (c->held[i].p == p) {
			c->held_bytes -= c->held[i].bytes;
			c->held[i] = c->held[--c->n_held];
			break;
		}
	cudaFree(p);
}

/* the device's memory in use now, by anyone (this process's context and libraries included) */
static size_t device_in_use(void)
{
	size_t free_b = 0, total = 0;
	if (cudaMemGetInfo(&free_b, &total) != cudaSuccess) {
		cudaGetLastError();
		return 0;
	}
	return total - free_b;
}

static void cuda_memory(void *ctx, size_t *peak, size_t *used)
{
	cuda_ctx *c = ctx;
	size_t now = device_in_use();
	*peak = c->peak_bytes;
	*used = now > c->used0 ? now - c->used0 : 0;
}

static void *cuda_host_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	void *p = NULL;
	cudaError_t e = cudaHostAlloc(&p, bytes ? bytes : 1, cudaHostAllocDefault);
	if (e != cudaSuccess)
		ft_fatal(__FILE__, __LINE__, "cudaHostAlloc of %zu bytes: %s", bytes, cudaGetErrorString(e));
	return p;
}

static void cuda_host_free(void *ctx, void *p)
{
	(void)ctx;
	cudaFreeHost(p);
}

/* after the stream was waited for: the time of the asynchronous uploads queued since the last wait */
static void uploads_done(cuda_ctx *c)
{
	if (!c->up_pending)
		return;
	float ms = 0;
	if (cudaEventElapsedTime(&ms, c->up0, c->up1) == cudaSuccess)
		c->up_seconds += ms / 1e3;
	c->up_pending = false;
}

/* page-locked (cudaHostAlloc) host memory: its uploads need not wait */
static bool is_pinned(const void *p)
{
	struct cudaPointerAttributes a;
	if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
		cudaGetLastError();
		return false;
	}
	return a.type == cudaMemoryTypeHost;
}

static bool cuda_owns(void *ctx, const void *p)
{
	(void)ctx;
	struct cudaPointerAttributes a;
	if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
		cudaGetLastError();
		return false;
	}
	return a.type == cudaMemoryTypeDevice;
}

static void cuda_upload(void *ctx, void *dst, const void *src, size_t bytes)
{
	cuda_ctx *c = ctx;
	/*
	 * From pageable memory the caller may reuse its buffer at once: wait. From
	 * the loader's page-locked ring the copy runs asynchronously, ahead of the
	 * nodes queued after it; the slot goes back to the ring only after the
	 * step, which ends with sync(). Those copies are timed by events (the
	 * caller's clock sees only their queueing), read at the sync.
	 */
	bool pinned = is_pinned(src);
	cudaError_t e = cudaSuccess;
	if (pinned && !c->up_pending)
		e = cudaEventRecord(c->up0, c->stream);
	if (e == cudaSuccess)
		e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream);
	if (e == cudaSuccess && pinned) {
		e = cudaEventRecord(c->up1, c->stream);
		c->up_pending = true;
	}
	if (e == cudaSuccess && !pinned) {
		e = cudaStreamSynchronize(c->stream);
		uploads_done(c);
	}
	if (e != cudaSuccess)
		ft_fatal(__FILE__, __LINE__, "host-to-device copy of %zu bytes: %s", bytes, cudaGetErrorString(e));
}

/* the copy ahead's time, once it is done (it was waited for by the compute stream, then that was) */
static void ahead_done(cuda_ctx *c, bool wait)
{
	if (!c->ahead_pending)
		return;
	if (!wait && cudaEventQuery(c->ahead1) == cudaErrorNotReady)
		return; /* (not an error: it is still copying) */
	float ms = 0;
	if (cudaEventSynchronize(c->ahead1) == cudaSuccess && cudaEventElapsedTime(&ms, c->ahead0, c->ahead1) == cudaSuccess)
		c->up_seconds += ms / 1e3;
	c->ahead_pending = false;
}

static void cuda_copy_ahead(void *ctx, void *dst, const void *src, size_t bytes)
{
	cuda_ctx *c = ctx;
	if (!is_pinned(src)) { /* pageable: an ordinary upload (it waits for the stream) */
		cuda_upload(ctx, dst, src, bytes);
		return;
	}
	ahead_done(c, true); /* the previous one was waited for by an earlier step */
	cudaError_t e = cudaEventRecord(c->ahead0, c->copy);
	if (e == cudaSuccess)
		e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->copy);
	if (e == cudaSuccess)
		e = cudaEventRecord(c->ahead1, c->copy);
	if (e != cudaSuccess)
		ft_fatal(__FILE__, __LINE__, "host-to-device copy ahead of %zu bytes: %s", bytes, cudaGetErrorString(e));
	c->ahead_pending = true;
}

static void cuda_copy_wait(void *ctx)
{
	cuda_ctx *c = ctx;
	if (!c->ahead_pending)
		return;
	cudaError_t e = cudaStreamWaitEvent(c->stream, c->ahead1, 0);
	if (e != cudaSuccess)
		ft_fatal(__FILE__, __LINE__, "cudaStreamWaitEvent: %s", cudaGetErrorString(e));
}

static void cuda_download(void *ctx, void *dst, const void *src, size_t bytes)
{
	cuda_ctx *c = ctx;
	cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream);
	if (e == cudaSuccess)
		e = cudaStreamSynchronize(c->stream);
	uploads_done(c);
	if (e != cudaSuccess)
		ft_fatal(__FILE__, __LINE__, "device-to-host copy of %zu bytes: %s", bytes, cudaGetErrorString(e));
}

/*
 * ReduceSumTo x -> y whose summed axes (x's axes of more than one element that y
 * broadcasts) are one run: x as (o, r, i) with y (o, i), for ft_cu_sum_run. False
 * when they are not (the bias of an (N, C, H, W) activation: axes 0, 2 and 3).
 */
static bool sum_run(const ft_tensor *x, const ft_tensor *y, int64_t *o, int64_t *r, int64_t *i)
{
	int64_t st[FT_MAX_RANK];
	ft_broadcast_strides(y, x->rank, x->dims, st);
	int first = -1, last = -1;
	for (int d = 0; d < x->rank; d++)
		if (st[d] == 0 && x->dims[d] > 1) {
			if (first < 0)
				first = d;
			last = d;
		}
	if (x->numel == 0)
		return false;
	*o = *r = *i = 1;
	if (first < 0) { /* nothing summed: a copy, as columns */
		*i = x->numel;
		return *i == y->numel && (*i + 31) / 32 < INT32_MAX;
	}
	for (int d = 0; d < x->rank; d++) {
		if (d >= first && d <= last && st[d] != 0 && x->dims[d] > 1)
			return false; /* a kept axis inside the run: two runs */
		if (d < first)
			*o *= x->dims[d];
		else if (d <= last)
			*r *= x->dims[d];
		else
			*i *= x->dims[d];
	}
	return *o * *i == y->numel && *o * ((*i + 31) / 32) < INT32_MAX;
}

static float attr(const ft_node *n, const char *name, float def)
{
	return ft_attr_float(n, name, def);
}

/* y = alpha op(A) op(B) (+ bias per column) + beta y, one product (cuda_gemm.c) */
static ft_status gemm(cuda_ctx *c, ft_dtype dt, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
		      const void *a, const void *b, float beta, void *y, ft_dtype yt, const void *bias)
{
	ft_gemm p = { .dt = dt, .yt = yt, .ta = ta, .tb = tb, .m = m, .n = n, .k = k, .batch = 1,
		      .alpha = alpha, .beta = beta, .a = a, .b = b, .bias = bias, .y = y };
	return ft_cuda_gemm(c->blas, &p);
}

/*
 * MatMul's batch as few library calls as its layout allows: with B shared and A's
 * matrices back to back (not transposed), one product of batch * m rows; with
 * both offsets a fixed stride apart, one strided-batched call; else (a batch
 * broadcast in a pattern, as (2,3,..) x (1,3,..)) one product per matrix
 */
static ft_status matmul_batches(cuda_ctx *c, const ft_mm_shape *s, ft_dtype dt, const char *a, const char *b, char *y)
{
	size_t es = ft_dtype_size(dt);
	int64_t a0, b0, a1 = 0, b1 = 0, ao, bo;
	ft_mm_offsets(s, 0, &a0, &b0);
	if (s->batch > 1)
		ft_mm_offsets(s, 1, &a1, &b1);
	int64_t sa = a1 - a0, sb = b1 - b0;
	bool strided = s->batch > 1 && s->batch <= INT32_MAX && s->k > 0;
	for (int64_t bi = 2; strided && bi < s->batch; bi++) {
		ft_mm_offsets(s, bi, &ao, &bo);
		strided = ao == a0 + bi * sa && bo == b0 + bi * sb;
	}
	if (strided && sb == 0 && !s->ta && sa == s->m * s->k)
		return gemm(c, dt, false, s->tb, s->batch * s->m, s->n, s->k, (float)s->alpha, a + a0 * es, b + b0 * es,
			    0.0f, y, dt, NULL);
	if (strided) {
		ft_gemm p = { .dt = dt, .yt = dt, .ta = s->ta, .tb = s->tb, .m = s->m, .n = s->n, .k = s->k,
			      .batch = s->batch, .alpha = (float)s->alpha, .a = a + a0 * es, .sa = sa,
			      .b = b + b0 * es, .sb = sb, .y = y };
		return ft_cuda_gemm(c->blas, &p);
	}
	for (int64_t bi = 0; bi < s->batch; bi++) {
		ft_mm_offsets(s, bi, &ao, &bo);
		FT_TRY(gemm(c, dt, s->ta, s->tb, s->m, s->n, s->k, (float)s->alpha, a + ao * es, b + bo * es, 0.0f,
			    y + (size_t)(bi * s->m * s->n) * es, dt, NULL));
	}
	return FT_OK;
}

static const void *data_or_null(const ft_graph *g, const ft_node *n, int i)
{
	const ft_tensor *t = ft_in(g, n, i);
	return t ? t->data : NULL;
}

/* the strides of x walked in y's order: bc for ft_cu_strided_copy */
static void copy_plan(const ft_tensor *y, const int64_t *st, ft_cu_bcast *bc)
{
	memset(bc, 0, sizeof(*bc));
	bc->rank = y->rank;
	for (int d = 0; d < y->rank; d++) {
		bc->dims[d] = y->dims[d];
		bc->st[0][d] = st[d];
	}
}

/* (outer, dim, inner) of a Gather / GatherGrad over x along the node's axis */
static void gather_view(const ft_node *n, const ft_tensor *x, int64_t *outer, int64_t *dim, int64_t *inner)
{
	*dim = x->dims[ft_axis_view(n, 0, x, outer, inner)];
}

static ft_status run_attn_op(cuda_ctx *c, const ft_graph *g, ft_node *n)
{
	const char *name = ft_op_table[n->op].name;
	ft_tensor *y = n->n_out > 0 && n->out[0] >= 0 ? &g->tensors[n->out[0]] : NULL;
	int64_t xs[FT_MAX_RANK], st[FT_MAX_RANK];
	ft_cu_bcast bc;
	switch (n->op) {
	case FT_OP_TRANSPOSE: {
		const ft_tensor *x = ft_in(g, n, 0);
		int perm[FT_MAX_RANK];
		FT_TRY(ft_transpose_perm(g, n, x->rank, perm));
		if (!y->numel)
			return FT_OK;
		ft_strides(x->rank, x->dims, xs);
		for (int i = 0; i < x->rank; i++)
			st[i] = xs[perm[i]];
		copy_plan(y, st, &bc);
		return ft_cuda_check(ft_cu_strided_copy(x->data, 0, y->data, &bc, (int)ft_dtype_size(x->dtype), c->stream),
				  name);
	}
	case FT_OP_EXPAND: {
		const ft_tensor *x = ft_in(g, n, 0);
		if (!y->numel)
			return FT_OK;
		ft_broadcast_strides(x, y->rank, y->dims, st);
		copy_plan(y, st, &bc);
		return ft_cuda_check(ft_cu_strided_copy(x->data, 0, y->data, &bc, (int)ft_dtype_size(x->dtype), c->stream),
				  name);
	}
	case FT_OP_SLICE: {
		const ft_tensor *x = ft_in(g, n, 0);
		const ft_slice_params *p = n->extra;
		if (!p)
			return ft_node_error(g, n, FT_ERUNTIME, "Slice not prepared");
		if (!y->numel)
			return FT_OK;
		int64_t off = 0;
		ft_strides(x->rank, x->dims, xs);
		for (int i = 0; i < x->rank; i++) {
			off += p->start[i] * xs[i];
			st[i] = p->step[i] * xs[i];
		}
		copy_plan(y, st, &bc);
		return ft_cuda_check(ft_cu_strided_copy(x->data, off, y->data, &bc, (int)ft_dtype_size(x->dtype),
						     c->stream),
				  name);
	}
	case FT_OP_SLICE_GRAD: { /* as kernels/cpu/shape.c: dy written into zeros at start, with step */
		const ft_tensor *dy = ft_in(g, n, 0);
		const int64_t *starts, *steps;
		ft_attr_ints(n, "starts", &starts);
		ft_attr_ints(n, "steps", &steps);
		int64_t off = 0;
		ft_strides(y->rank, y->dims, xs);
		for (int i = 0; i < y->rank; i++) {
			off += starts[i] * xs[i];
			st[i] = (dy->dims[i] > 1 ? steps[i] : 1) * xs[i];
		}
		copy_plan(dy, st, &bc);
		return ft_cuda_check(ft_cu_strided_scatter(dy->data, y->data, y->numel, off, &bc, (int)ft_dtype_size(y->dtype),
							c->stream),
				  name);
	}
	case FT_OP_CONCAT: { /* y is (outer, sum of the axis dims, inner): one 2-D copy per input */
		int64_t outer, inner;
		int axis = ft_axis_view(n, 0, y, &outer, &inner);
		inner *= (int64_t)ft_dtype_size(y->dtype);
		if (!y->numel)
			return FT_OK;
		size_t row = (size_t)(y->dims[axis] * inner), at = 0;
		for (int i = 0; i < n->n_in; i++) {
			const ft_tensor *x = ft_in(g, n, i);
			size_t chunk = (size_t)(x->dims[axis] * inner);
			if (chunk && outer == 1) /* one run: no pitch limit */
				FT_TRY(ft_cuda_check(cudaMemcpyAsync((char *)y->data + at, x->data, chunk,
								  cudaMemcpyDeviceToDevice, c->stream),
						  name));
			else if (chunk)
				FT_TRY(ft_cuda_check(cudaMemcpy2DAsync((char *)y->data + at, row, x->data, chunk, chunk,
								    (size_t)outer, cudaMemcpyDeviceToDevice, c->stream),
						  name));
			at += chunk;
		}
		return FT_OK;
	}
	case FT_OP_GATHER: {
		const ft_tensor *x = ft_in(g, n, 0), *idx = ft_in(g, n, 1);
		int64_t outer, dim, inner;
		gather_view(n, x, &outer, &dim, &inner);
		if (!y->numel)
			return FT_OK;
		return ft_cuda_check(ft_cu_gather(x->data, idx->data, y->data, outer, dim, inner, idx->numel,
					       (int)ft_dtype_size(x->dtype), c->stream),
				  name);
	}
	case FT_OP_GATHER_GRAD: {
		const ft_tensor *dy = ft_in(g, n, 0), *idx = ft_in(g, n, 1);
		int64_t outer, dim, inner;
		gather_view(n, y, &outer, &dim, &inner);
		return ft_cuda_check(ft_cu_gather_grad(dy->data, idx->data, y->data, outer, dim, inner, idx->numel,
						    c->stream),
				  name);
	}
	case FT_OP_SOFTMAX:
	case FT_OP_SOFTMAX_GRAD: {
		const ft_tensor *x = ft_in(g, n, 0);
		int64_t outer, len, inner;
		FT_TRY(ft_softmax_view(g, n, x, &outer, &len, &inner));
		if (!x->numel)
			return FT_OK;
		if (n->op == FT_OP_SOFTMAX)
			return ft_cuda_check(ft_cu_softmax(x->data, y->data, outer, len, inner, c->stream), name);
		return ft_cuda_check(ft_cu_softmax_grad(x->data, ft_in(g, n, 1)->data, y->data, outer, len, inner,
						     c->stream),
				  name);
	}
	case FT_OP_IMAGE_NORMALIZE: { /* the per-channel mean and std, uploaded at prepare, in n->extra */
		const ft_tensor *x = ft_in(g, n, 0);
		if (!n->extra)
			return ft_node_error(g, n, FT_ERUNTIME, "ImageNormalize not prepared");
		return ft_cuda_check(ft_cu_image_normalize(x->data, y->data, n->extra, x->dims[0], x->dims[1],
							x->dims[2] * x->dims[3], c->stream),
				  name);
	}
	case FT_OP_LAYER_NORM: {
		const ft_tensor *x = ft_in(g, n, 0), *scale = ft_in(g, n, 1), *bias = ft_in(g, n, 2);
		int64_t rows, cols;
		if (!ln_view(g, n, x, scale, bias, &rows, &cols))
			return ft_node_error(g, n, FT_EUNSUPPORTED, "scale or bias not one value per column");
		const ft_tensor *mean = n->n_out > 1 ? ft_out(g, n, 1) : NULL, *inv = n->n_out > 2 ? ft_out(g, n, 2) : NULL;
		return ft_cuda_check(ft_cu_layer_norm(x->data, scale->data, bias ? bias->data : NULL, y->data,
						   mean ? mean->data : NULL, inv ? inv->data : NULL, rows, cols,
						   attr(n, "epsilon", 1e-5f), c->stream),
				  name);
	}
	case FT_OP_LAYER_NORM_GRAD: {
		const ft_tensor *x = ft_in(g, n, 1), *scale = ft_in(g, n, 2);
		int64_t rows, cols;
		if (!ln_view(g, n, x, scale, NULL, &rows, &cols))
			return ft_node_error(g, n, FT_EUNSUPPORTED, "scale not one value per column");
		size_t ws_bytes = ft_cu_layer_norm_grad_workspace(rows, cols);
		void *ws = scratch(c, ws_bytes);
		if (!ws && ws_bytes)
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		return ft_cuda_check(ft_cu_layer_norm_grad(ft_in(g, n, 0)->data, x->data, scale->data, ft_in(g, n, 3)->data,
							ft_in(g, n, 4)->data, y ? y->data : NULL,
							ft_out(g, n, 1)->data, ft_out(g, n, 2)->data, ws, rows, cols,
							c->stream),
				  name);
	}
	default:
		return ft_node_error(g, n, FT_EUNSUPPORTED, "the cuda backend does not run this op yet");
	}
}

/* the pooling window of a MaxPool / MaxPoolGrad node (depth 1 and height 1 for fewer spatial dims) */
static ft_status window_of(const ft_graph *g, const ft_node *n, ft_cu_win *w)
{
	ft_conv_geom gm;
	FT_TRY(ft_conv_geometry(g, n, &gm));
	w->planes = gm.n * gm.c_in;
	int off = 3 - gm.nsp;
	for (int i = 0; i < 3; i++) {
		int j = i - off;
		w->in[i] = j >= 0 ? gm.in[j] : 1;
		w->out[i] = j >= 0 ? gm.out[j] : 1;
		w->k[i] = j >= 0 ? gm.kernel[j] : 1;
		w->s[i] = j >= 0 ? gm.stride[j] : 1;
		w->d[i] = j >= 0 ? gm.dil[j] : 1;
		w->p[i] = j >= 0 ? gm.pad_begin[j] : 0;
	}
	return FT_OK;
}

/* (N, C, S) of a BatchNorm input */

static ft_status run_norm_pool_op(cuda_ctx *c, const ft_graph *g, ft_node *n)
{
	const char *name = ft_op_table[n->op].name;
	ft_tensor *y = n->n_out > 0 && n->out[0] >= 0 ? &g->tensors[n->out[0]] : NULL;
	int64_t nb, ch, sp;
	switch (n->op) {
	case FT_OP_BATCH_NORM_TRAIN: {
		const ft_tensor *x = ft_in(g, n, 0), *rm = ft_in(g, n, 3), *rv = ft_in(g, n, 4);
		bool upd = rm->kind == FT_TK_STATE && rv->kind == FT_TK_STATE; /* as the CPU kernel */
		ft_cuda_ncs(n, x, &nb, &ch, &sp);
		float *ab = scratch(c, ft_cu_bn_workspace(nb, ch, sp, 2));
		if (!ab)
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		return ft_cuda_check(ft_cu_batch_norm_train(ft_cuda_dtype(x->dtype), x->data, ft_in(g, n, 1)->data,
							 ft_in(g, n, 2)->data,
							 upd ? rm->data : NULL, upd ? rv->data : NULL, y->data,
							 ft_out(g, n, 1)->data, ft_out(g, n, 2)->data, ab, nb, ch, sp,
							 attr(n, "epsilon", 1e-5f), attr(n, "momentum", 0.9f),
							 (int)ft_attr_int(n, "ft_relu", 0), c->stream),
				  name);
	}
	case FT_OP_BATCH_NORM_APPLY: /* a training forward's y again, from its saved statistics */
	case FT_OP_BATCH_NORM: {     /* inference, from the running ones */
		const ft_tensor *x = ft_in(g, n, 0);
		ft_cuda_ncs(n, x, &nb, &ch, &sp);
		float *ab = scratch(c, 2 * sizeof(float) * (size_t)ch);
		if (!ab)
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		const void *s = ft_in(g, n, 1)->data, *b = ft_in(g, n, 2)->data, *m = ft_in(g, n, 3)->data,
			   *v = ft_in(g, n, 4)->data;
		int rc = n->op == FT_OP_BATCH_NORM
				 ? ft_cu_batch_norm_infer(x->data, s, b, m, v, y->data, ab, nb, ch, sp,
							  attr(n, "epsilon", 1e-5f), c->stream)
				 : ft_cu_batch_norm_apply(ft_cuda_dtype(x->dtype), x->data, s, b, m, v, y->data, ab, nb,
							  ch, sp, (int)ft_attr_int(n, "ft_relu", 0), c->stream);
		return ft_cuda_check(rc, name);
	}
	case FT_OP_BATCH_NORM_GRAD: {
		const ft_tensor *x = ft_in(g, n, 1);
		ft_cuda_ncs(n, x, &nb, &ch, &sp);
		float *coef = scratch(c, ft_cu_bn_workspace(nb, ch, sp, 3));
		if (!coef)
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		return ft_cuda_check(ft_cu_batch_norm_grad(ft_cuda_dtype(x->dtype), ft_in(g, n, 0)->data,
							data_or_null(g, n, 5), x->data,
							ft_in(g, n, 2)->data,
							ft_in(g, n, 3)->data, ft_in(g, n, 4)->data, y ? y->data : NULL,
							ft_out(g, n, 1)->data, ft_out(g, n, 2)->data, coef, nb, ch, sp,
							c->stream),
				  name);
	}
	case FT_OP_MAX_POOL: {
		ft_cu_win w;
		FT_TRY(window_of(g, n, &w));
		return ft_cuda_check(ft_cu_max_pool(ft_cuda_dtype(y->dtype), ft_in(g, n, 0)->data, y->data, &w, c->stream), name);
	}
	case FT_OP_MAX_POOL_GRAD: {
		ft_cu_win w;
		FT_TRY(window_of(g, n, &w));
		float *acc = y->dtype == FT_F32 ? NULL : scratch(c, sizeof(float) * (size_t)y->numel);
		if (y->dtype != FT_F32 && !acc)
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		return ft_cuda_check(ft_cu_max_pool_grad(ft_cuda_dtype(y->dtype), ft_in(g, n, 0)->data, ft_in(g, n, 1)->data,
						      y->data, acc, &w, c->stream),
				  name);
	}
	case FT_OP_GLOBAL_AVERAGE_POOL: {
		const ft_tensor *x = ft_in(g, n, 0);
		int64_t planes = x->dims[0] * x->dims[1];
		if (!planes || !x->numel)
			return FT_OK;
		return ft_cuda_check(ft_cu_global_avg_pool(x->data, y->data, planes, x->numel / planes, c->stream), name);
	}
	case FT_OP_GLOBAL_POOL_GRAD: {
		const ft_tensor *x = ft_in(g, n, 1);
		int64_t planes = x->dims[0] * x->dims[1];
		if (!planes || !x->numel)
			return FT_OK;
		return ft_cuda_check(ft_cu_global_avg_pool_grad(ft_in(g, n, 0)->data, y->data, planes, x->numel / planes,
							     c->stream),
				  name);
	}
	default:
		return run_attn_op(c, g, n);
	}
}

static ft_status run_train_op(cuda_ctx *c, const ft_graph *g, ft_node *n)
{
	const char *name = ft_op_table[n->op].name;
	ft_tensor *y = n->n_out > 0 && n->out[0] >= 0 ? &g->tensors[n->out[0]] : NULL;
	switch (n->op) {
	case FT_OP_SOFTMAX_CROSS_ENTROPY: {
		const ft_tensor *x = ft_in(g, n, 0);
		if (c->workspace_bytes < sizeof(double) * (size_t)x->dims[0])
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		return ft_cuda_check(ft_cu_softmax_cross_entropy(x->data, ft_in(g, n, 1)->data, y->data,
							     ft_out(g, n, 1)->data, c->workspace, x->dims[0],
							     x->dims[1], attr(n, "label_smoothing", 0.0f), c->stream),
				  name);
	}
	case FT_OP_SOFTMAX_CROSS_ENTROPY_GRAD: {
		const ft_tensor *p = ft_in(g, n, 1);
		return ft_cuda_check(ft_cu_softmax_cross_entropy_grad(ft_in(g, n, 0)->data, p->data, ft_in(g, n, 2)->data,
								  y->data, p->dims[0], p->dims[1],
								  attr(n, "label_smoothing", 0.0f), c->stream),
				  name);
	}
	case FT_OP_REDUCE_SUM_TO: {
		const ft_tensor *x = ft_in(g, n, 0);
		int64_t o, r, i;
		if (sum_run(x, y, &o, &r, &i)) {
			size_t ws_bytes = ft_cu_sum_run_workspace(o, r, i);
			void *ws = scratch(c, ws_bytes);
			if (!ws && ws_bytes)
				return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
			return ft_cuda_check(ft_cu_sum_run(ft_cuda_dtype(y->dtype), x->data, y->data, ws, o, r, i, c->stream),
					  name);
		}
		ft_cu_bcast bc = { .rank = x->rank };
		memcpy(bc.dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
		ft_broadcast_strides(y, x->rank, x->dims, bc.st[0]);
		float *acc = y->dtype == FT_F32 ? NULL : scratch(c, sizeof(float) * (size_t)y->numel);
		if (y->dtype != FT_F32 && !acc)
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		return ft_cuda_check(ft_cu_reduce_sum_to(ft_cuda_dtype(y->dtype), x->data, y->data, acc, x->numel, y->numel, &bc,
						      c->stream),
				  name);
	}
	case FT_OP_GRAD_ACCUM: {
		const ft_tensor *acc = ft_in(g, n, 0);
		return ft_cuda_check(ft_cu_grad_accum(acc->data, ft_in(g, n, 1)->data, ft_in(g, n, 2)->data, acc->numel,
						   c->stream),
				  name);
	}
	case FT_OP_SGD_STEP: {
		const ft_tensor *p = ft_in(g, n, 0);
		return ft_cuda_check(ft_cu_sgd_step(p->data, ft_in(g, n, 1)->data, (float *)data_or_null(g, n, 2),
						 p->numel, ft_in(g, n, 3)->data, data_or_null(g, n, 4),
						 data_or_null(g, n, 5), attr(n, "momentum", 0.0f),
						 attr(n, "dampening", 0.0f), attr(n, "weight_decay", 0.0f),
						 ft_attr_int(n, "nesterov", 0) != 0, c->stream),
				  name);
	}
	case FT_OP_ADAMW_STEP: {
		const ft_tensor *p = ft_in(g, n, 0);
		return ft_cuda_check(ft_cu_adamw_step(p->data, ft_in(g, n, 1)->data, ft_in(g, n, 2)->data,
						   ft_in(g, n, 3)->data, p->numel, ft_in(g, n, 4)->data,
						   ft_in(g, n, 5)->data, data_or_null(g, n, 6), data_or_null(g, n, 7),
						   attr(n, "beta1", 0.9f), attr(n, "beta2", 0.999f),
						   attr(n, "epsilon", 1e-8f), attr(n, "weight_decay", 0.0f), c->stream),
				  name);
	}
	case FT_OP_SGD_STEP_MULTI:
	case FT_OP_ADAMW_STEP_MULTI: { /* the scalars, then per tensor (p, grad, state...) */
		bool sgd = n->op == FT_OP_SGD_STEP_MULTI;
		int head = sgd ? 3 : 4, per = sgd ? 3 : 4, count = (n->n_in - head) / per;
		void **ptr = ft_xmalloc(sizeof(void *) * 4 * ((size_t)count + 1));
		int64_t *cnt = ft_xmalloc(sizeof(int64_t) * ((size_t)count + 1));
		float **p = (float **)ptr, **gr = p + count, **s1 = gr + count, **s2 = s1 + count;
		for (int j = 0; j < count; j++) {
			int at = head + per * j;
			p[j] = ft_in(g, n, at)->data;
			gr[j] = ft_in(g, n, at + 1)->data;
			s1[j] = (float *)data_or_null(g, n, at + 2);
			s2[j] = sgd ? NULL : ft_in(g, n, at + 3)->data;
			cnt[j] = ft_in(g, n, at)->numel;
		}
		int rc = sgd ? ft_cu_sgd_multi(p, (const float *const *)gr, s1, cnt, count, ft_in(g, n, 0)->data,
					       data_or_null(g, n, 1), data_or_null(g, n, 2), attr(n, "momentum", 0.0f),
					       attr(n, "dampening", 0.0f), attr(n, "weight_decay", 0.0f),
					       ft_attr_int(n, "nesterov", 0) != 0, c->stream)
			     : ft_cu_adamw_multi(p, (const float *const *)gr, s1, s2, cnt, count, ft_in(g, n, 0)->data,
						 ft_in(g, n, 1)->data, data_or_null(g, n, 2), data_or_null(g, n, 3),
						 attr(n, "beta1", 0.9f), attr(n, "beta2", 0.999f), attr(n, "epsilon", 1e-8f),
						 attr(n, "weight_decay", 0.0f), c->stream);
		free(ptr);
		free(cnt);
		return ft_cuda_check(rc, name);
	}
	case FT_OP_GEMM: {
		const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1), *cb = ft_in(g, n, 2);
		bool ta = ft_attr_int(n, "transA", 0) != 0, tb = ft_attr_int(n, "transB", 0) != 0;
		int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
		int64_t nn = tb ? b->dims[0] : b->dims[1];
		if (y->numel == 0)
			return FT_OK;
		if (!cb)
			return gemm(c, y->dtype, ta, tb, m, nn, k, attr(n, "alpha", 1.0f), a->data, b->data, 0.0f, y->data,
				    y->dtype, NULL);
		/*
		 * alpha AB + beta C rounded once, as the CPU's widened kernel. A bias of one
		 * value per column in y's type with beta 1 (a Linear's, in every precision)
		 * goes into the product's epilogue. Else beta C goes into float32 (y itself
		 * for float32, else the workspace), the product is added to it in float32
		 * and the sum rounded into y; a low-precision C with beta 1 in another
		 * shape is exact in y's own type: copied there, and the product added to it.
		 */
		int64_t cm = cb->rank == 2 ? cb->dims[0] : 1, cn = cb->rank >= 1 ? cb->dims[cb->rank - 1] : 1;
		if (gemm_bias_epilogue(g, n))
			return gemm(c, y->dtype, ta, tb, m, nn, k, attr(n, "alpha", 1.0f), a->data, b->data, 0.0f, y->data,
				    y->dtype, cb->data);
		bool in_y = gemm_bias_in_y(g, n);
		void *acc = in_y || y->dtype == FT_F32 ? y->data : scratch(c, sizeof(float) * (size_t)y->numel);
		if (!acc)
			return ft_node_error(g, n, FT_ERUNTIME, "the cuda backend's workspace is smaller than planned");
		FT_TRY(ft_cuda_check(ft_cu_gemm_bias(ft_cuda_dtype(cb->dtype), acc, in_y, cb->data, m, nn, cm == 1 ? 0 : cn,
						  cn == 1 ? 0 : 1, attr(n, "beta", 1.0f), c->stream),
				  name));
		FT_TRY(gemm(c, y->dtype, ta, tb, m, nn, k, attr(n, "alpha", 1.0f), a->data, b->data, 1.0f, acc,
			    in_y ? y->dtype : FT_F32, NULL));
		if (y->dtype == FT_F32 || in_y)
			return FT_OK;
		return ft_cuda_check(ft_cu_narrow(ft_cuda_dtype(y->dtype), acc, y->data, y->numel, c->stream), name);
	}
	case FT_OP_MATMUL:
	case FT_OP_MATMUL_T: {
		const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1);
		bool t = n->op == FT_OP_MATMUL_T;
		ft_mm_shape s;
		ft_mm_shape_of(a, b, t && ft_attr_int(n, "transA", 0) != 0, t && ft_attr_int(n, "transB", 0) != 0,
			       t ? attr(n, "alpha", 1.0f) : 1.0, &s);
		if (y->numel == 0)
			return FT_OK;
		return matmul_batches(c, &s, y->dtype, a->data, b->data, y->data);
	}
	case FT_OP_AMP_UNSCALE: { /* (scale, grads...) -> found_inf; the gradients in place */
		int k = n->n_in - 1;
		float **grads = ft_xmalloc(sizeof(float *) * (size_t)(k + 1));
		int64_t *counts = ft_xmalloc(sizeof(int64_t) * (size_t)(k + 1));
		for (int i = 0; i < k; i++) {
			grads[i] = ft_in(g, n, i + 1)->data;
			counts[i] = ft_in(g, n, i + 1)->numel;
		}
		ft_status st = ft_cuda_check(ft_cu_amp_unscale(ft_in(g, n, 0)->data, grads, counts, k, y->data, c->stream),
					  name);
		free(grads);
		free(counts);
		return st;
	}
	case FT_OP_AMP_UPDATE_SCALE:
		return ft_cuda_check(ft_cu_amp_update_scale(ft_in(g, n, 0)->data, ft_in(g, n, 1)->data, ft_in(g, n, 2)->data,
							 (float)ft_attr_int(n, "growth_interval", 2000),
							 attr(n, "backoff_factor", 0.5f), attr(n, "growth_factor", 2.0f),
							 c->stream),
				  name);
	default:
		return run_norm_pool_op(c, g, n);
	}
}

static void cuda_release_node(void *ctx, ft_node *n);

static ft_status cuda_prepare_node(void *ctx, const ft_graph *g, ft_node *n, size_t *scratch, size_t *state)
{
	cuda_ctx *c = ctx;
	int64_t o, r, i;
	*state = 0;
	*scratch = 0;
	if (ft_cuda_conv_supported(g, n))
		return ft_cuda_conv_prepare(c->dnn, g, n, scratch);
	if (n->op == FT_OP_SLICE) { /* its constant inputs are host memory until the executor uploads them */
		ft_slice_params *p = ft_xcalloc(1, sizeof(*p));
		ft_status st = ft_slice_params_get(g, n, p);
		if (st) {
			free(p);
			return st;
		}
		free(n->extra);
		n->extra = p;
		return FT_OK;
	}
	if (n->op == FT_OP_IMAGE_NORMALIZE) { /* mean then std per channel, on the device (std 0 means 1) */
		int64_t ch = ft_in(g, n, 0)->dims[1];
		const float *mean, *sd;
		if (ft_attr_floats(n, "mean", &mean) < ch || ft_attr_floats(n, "std", &sd) < ch)
			return ft_node_error(g, n, FT_EBADINPUT, "mean and std need %lld values", (long long)ch);
		float *host = ft_xmalloc(2 * sizeof(float) * (size_t)ch);
		for (int64_t k = 0; k < ch; k++) {
			host[k] = mean[k];
			host[ch + k] = sd[k] != 0 ? sd[k] : 1.0f;
		}
		cuda_release_node(ctx, n);
		n->extra = cuda_alloc(ctx, 2 * sizeof(float) * (size_t)ch);
		cuda_upload(ctx, n->extra, host, 2 * sizeof(float) * (size_t)ch);
		free(host);
		*state = 2 * sizeof(float) * (size_t)ch;
		return FT_OK;
	}
	if (n->op == FT_OP_GATHER && ft_in(g, n, 1)->kind == FT_TK_CONST) { /* check constant indices once */
		const ft_tensor *x = ft_in(g, n, 0), *idx = ft_in(g, n, 1);
		int64_t outer, dim, inner;
		gather_view(n, x, &outer, &dim, &inner);
		for (int64_t j = 0; j < idx->numel; j++) {
			int64_t v = ((const int64_t *)idx->data)[j];
			if (v < -dim || v >= dim)
				return ft_node_error(g, n, FT_EBADINPUT, "index %lld is out of range for a dimension of %lld",
						     (long long)v, (long long)dim);
		}
	}
	if (n->op == FT_OP_SOFTMAX_CROSS_ENTROPY)
		*scratch = sizeof(double) * (size_t)ft_in(g, n, 0)->dims[0];
	else if (n->op == FT_OP_BATCH_NORM || n->op == FT_OP_BATCH_NORM_APPLY || n->op == FT_OP_BATCH_NORM_TRAIN ||
		 n->op == FT_OP_BATCH_NORM_GRAD) {
		int64_t nb, ch, sp; /* (the channels: axis 1, or the last of a channels-last node's x) */
		bool train = n->op == FT_OP_BATCH_NORM_TRAIN, grad = n->op == FT_OP_BATCH_NORM_GRAD;
		ft_cuda_ncs(n, ft_in(g, n, grad ? 1 : 0), &nb, &ch, &sp);
		*scratch = train || grad ? ft_cu_bn_workspace(nb, ch, sp, train ? 2 : 3) : 2 * sizeof(float) * (size_t)ch;
	}
	else if (n->op == FT_OP_LAYER_NORM_GRAD && ln_view(g, n, ft_in(g, n, 1), ft_in(g, n, 2), NULL, &o, &i))
		*scratch = ft_cu_layer_norm_grad_workspace(o, i);
	else if (n->op == FT_OP_REDUCE_SUM_TO && sum_run(ft_in(g, n, 0), ft_out(g, n, 0), &o, &r, &i))
		*scratch = ft_cu_sum_run_workspace(o, r, i);
	else if ((n->op == FT_OP_MAX_POOL_GRAD || n->op == FT_OP_REDUCE_SUM_TO ||
		  (n->op == FT_OP_GEMM && ft_in(g, n, 2) && !gemm_bias_in_y(g, n))) &&
		 ft_out(g, n, 0)->dtype != FT_F32)
		*scratch = sizeof(float) * (size_t)ft_out(g, n, 0)->numel; /* float32 sums, rounded after */
	return FT_OK;
}

static void cuda_release_node(void *ctx, ft_node *n)
{
	ft_cuda_conv_release(n);
	if (n->op == FT_OP_SLICE) {
		free(n->extra);
		n->extra = NULL;
	} else if (n->op == FT_OP_IMAGE_NORMALIZE && n->extra) { /* device memory */
		cuda_free(ctx, n->extra);
		n->extra = NULL;
	}
}

static void cuda_set_workspace(void *ctx, void *p, size_t bytes)
{
	cuda_ctx *c = ctx;
	c->workspace = p;
	c->workspace_bytes = bytes;
}

static ft_status cuda_run_node(void *ctx, const ft_graph *g, ft_node *n)
{
	cuda_ctx *c = ctx;
	ft_tensor *y = n->n_out > 0 && n->out[0] >= 0 ? &g->tensors[n->out[0]] : NULL;
	int k;
	if (n->extra && (n->op == FT_OP_CONV || n->op == FT_OP_CONV_GRAD_INPUT || n->op == FT_OP_CONV_GRAD_WEIGHT))
		return ft_cuda_conv_run(c->dnn, c->blas, g, n, c->workspace, c->workspace_bytes);
	if ((k = binary_op(n->op)) >= 0) {
		const ft_tensor *a = ft_in(g, n, 0), *b = ft_in(g, n, 1);
		ft_cu_bcast bc = { .rank = y->rank };
		memcpy(bc.dims, y->dims, sizeof(int64_t) * (size_t)y->rank);
		ft_broadcast_strides(a, y->rank, y->dims, bc.st[0]);
		ft_broadcast_strides(b, y->rank, y->dims, bc.st[1]);
		return ft_cuda_check(ft_cu_apply_binary(k, ft_cuda_dtype(y->dtype), a->data, b->data, y->data, y->numel, &bc,
						     c->stream),
				  ft_op_table[n->op].name);
	}
	if ((k = unary_op(n->op)) >= 0) {
		float alpha = n->op == FT_OP_LEAKY_RELU ? attr(n, "alpha", 0.01f) : attr(n, "alpha", 0.2f);
		return ft_cuda_check(ft_cu_apply_unary(k, ft_cuda_dtype(y->dtype), ft_in(g, n, 0)->data, y->data, y->numel, alpha,
						    attr(n, "beta", 0.5f), c->stream),
				  ft_op_table[n->op].name);
	}
	if ((k = unary_grad_op(n->op)) >= 0) {
		float alpha = n->op == FT_OP_LEAKY_RELU_GRAD ? attr(n, "alpha", 0.01f) : attr(n, "alpha", 0.2f);
		return ft_cuda_check(ft_cu_apply_unary_grad(k, ft_cuda_dtype(y->dtype), ft_in(g, n, 0)->data, ft_in(g, n, 1)->data,
							 y->data, y->numel, alpha, attr(n, "beta", 0.5f), c->stream),
				  ft_op_table[n->op].name);
	}
	if (n->op == FT_OP_CAST) {
		const ft_tensor *x = ft_in(g, n, 0);
		return ft_cuda_check(ft_cu_cast(x->data, ft_cuda_dtype(x->dtype), y->data, ft_cuda_dtype(y->dtype), y->numel,
					     c->stream),
				  "Cast");
	}
	if (ft_op_is_view(n->op)) {
		const ft_tensor *x = ft_in(g, n, 0);
		if (x->data == y->data)
			return FT_OK;
		return ft_cuda_check(cudaMemcpyAsync(y->data, x->data, ft_tensor_bytes(y), cudaMemcpyDeviceToDevice,
						  c->stream),
				  ft_op_table[n->op].name);
	}
	return run_train_op(c, g, n);
}

static size_t cuda_free_memory(void *ctx)
{
	(void)ctx;
	size_t free_b = 0, total_b = 0;
	return cudaMemGetInfo(&free_b, &total_b) == cudaSuccess ? free_b : SIZE_MAX;
}

static void cuda_sync(void *ctx)
{
	cuda_ctx *c = ctx;
	cudaError_t e = cudaStreamSynchronize(c->stream);
	if (e != cudaSuccess)
		ft_fatal(__FILE__, __LINE__, "CUDA stream: %s", cudaGetErrorString(e));
	uploads_done(c);
	ahead_done(c, false);
}

static double cuda_async_upload_seconds(void *ctx)
{
	return ((cuda_ctx *)ctx)->up_seconds;
}

static void cuda_destroy(void *ctx)
{
	cuda_ctx *c = ctx;
	cudnnDestroy(c->dnn);
	if (ft_env_set("FT_PROFILE")) { /* (as exec.c reads it) */
		int64_t lt, legacy;
		ft_cuda_blas_counts(c->blas, &lt, &legacy);
		fprintf(stderr, "ftrun profile (cuda): %lld matrix products through cuBLASLt, %lld through cuBLAS\n",
			(long long)lt, (long long)legacy);
	}
	ft_cuda_blas_free(c->blas);
	cuda_free(c, c->lt_workspace);
	cudaEventDestroy(c->up0);
	cudaEventDestroy(c->up1);
	cudaEventDestroy(c->ahead0);
	cudaEventDestroy(c->ahead1);
	cudaStreamDestroy(c->copy);
	cudaStreamDestroy(c->stream);
	free(c->held);
	free(c);
}

/* CUDA graphs (exec.c's FT_CUDA_GRAPHS=1): the compute stream's work recorded, then replayed */
static bool cuda_capture_begin(void *ctx)
{
	cuda_ctx *c = ctx;
	if (cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess)
		return true;
	cudaGetLastError();
	return false;
}

static void *cuda_capture_end(void *ctx)
{
	cuda_ctx *c = ctx;
	cudaGraph_t graph = NULL;
	cudaGraphExec_t exec = NULL;
	cudaError_t e = cudaStreamEndCapture(c->stream, &graph);
	if (e == cudaSuccess && graph)
		e = cudaGraphInstantiate(&exec, graph, 0);
	if (graph)
		cudaGraphDestroy(graph);
	if (e != cudaSuccess) {
		cudaGetLastError(); /* (the capture's failure, not the stream's: it works as before) */
		return NULL;
	}
	return exec;
}

static ft_status cuda_replay(void *ctx, void *recording)
{
	cuda_ctx *c = ctx;
	return ft_cuda_check(cudaGraphLaunch((cudaGraphExec_t)recording, c->stream), "cudaGraphLaunch");
}

static void cuda_drop(void *ctx, void *recording)
{
	(void)ctx;
	cudaGraphExecDestroy((cudaGraphExec_t)recording);
}

static const ft_backend_iface cuda_iface = {
	.name = "cuda",
	.supports_op = cuda_supports_op,
	.alloc = cuda_alloc,
	.free = cuda_free,
	.upload = cuda_upload,
	.download = cuda_download,
	.run_node = cuda_run_node,
	.prepare_node = cuda_prepare_node,
	.set_workspace = cuda_set_workspace,
	.release_node = cuda_release_node,
	.sync = cuda_sync,
	.destroy = cuda_destroy,
	.free_memory = cuda_free_memory,
	.owns = cuda_owns,
	.copy_ahead = cuda_copy_ahead,
	.copy_wait = cuda_copy_wait,
	.capture_begin = cuda_capture_begin,
	.capture_end = cuda_capture_end,
	.replay = cuda_replay,
	.drop = cuda_drop,
	.host_alloc = cuda_host_alloc,
	.host_free = cuda_host_free,
	.async_upload_seconds = cuda_async_upload_seconds,
	.memory = cuda_memory,
};

void *ft_backend_cuda_stream(void *ctx)
{
	return ((cuda_ctx *)ctx)->stream;
}

int ft_cuda_device_count(char *why, size_t why_len)
{
	int count = 0;
	cudaError_t e = cudaGetDeviceCount(&count);
	if (e != cudaSuccess) {
		snprintf(why, why_len, "%s", cudaGetErrorString(e));
		cudaGetLastError(); /* clear it */
		return 0;
	}
	if (count == 0)
		snprintf(why, why_len, "no CUDA device");
	return count;
}

ft_status ft_backend_cuda_new(int device, ft_backend *out)
{
	char why[256] = "";
	int count = ft_cuda_device_count(why, sizeof(why));
	if (count == 0)
		return ft_error(FT_EBADINPUT, "--device cuda: no GPU can be used here (%s); use --device cpu or auto",
				why);
	if (device < 0 || device >= count)
		return ft_error(FT_EBADINPUT, "--device cuda:%d: this machine has %d CUDA device%s", device, count,
				count == 1 ? "" : "s");
	FT_TRY(ft_cuda_check(cudaSetDevice(device), "cudaSetDevice"));
	cuda_ctx *c = ft_xcalloc(1, sizeof(*c));
	c->device = device;
	ft_status st = ft_cuda_check(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "cudaStreamCreate");
	if (!st)
		st = ft_cuda_check(cudaEventCreate(&c->up0), "cudaEventCreate");
	if (!st)
		st = ft_cuda_check(cudaEventCreate(&c->up1), "cudaEventCreate");
	if (!st)
		st = ft_cuda_check(cudaStreamCreateWithFlags(&c->copy, cudaStreamNonBlocking), "cudaStreamCreate (copies)");
	if (!st)
		st = ft_cuda_check(cudaEventCreate(&c->ahead0), "cudaEventCreate");
	if (!st)
		st = ft_cuda_check(cudaEventCreate(&c->ahead1), "cudaEventCreate");
	if (st) {
		free(c); /* the process is ending with this error: the stream and events go with it */
		return st;
	}
	c->used0 = device_in_use(); /* (what cuBLAS and cuDNN allocate from here on counts as in use) */
	c->lt_workspace = cuda_alloc(c, LT_WORKSPACE);
	st = ft_cuda_blas_new(c->stream, c->lt_workspace, LT_WORKSPACE, &c->blas);
	if (st) {
		cudaFree(c->lt_workspace);
		cudaStreamDestroy(c->stream);
		free(c->held);
		free(c);
		return st;
	}
	cudnnStatus_t ds = cudnnCreate(&c->dnn);
	if (ds == CUDNN_STATUS_SUCCESS)
		ds = cudnnSetStream(c->dnn, c->stream);
	if (ds != CUDNN_STATUS_SUCCESS) {
		ft_cuda_blas_free(c->blas);
		cudaFree(c->lt_workspace);
		cudaStreamDestroy(c->stream);
		free(c->held);
		free(c);
		return ft_error(FT_ERUNTIME, "cuDNN: cudnnCreate: %s", cudnnGetErrorString(ds));
	}
	out->iface = &cuda_iface;
	out->ctx = c;
	return FT_OK;
}
