/*
 * backend.h - the interface between the executor and a device.
 *
 * A backend is {iface, ctx} (STYLE.md 4): the executor knows nothing else
 * about it. supports_op is required; a graph is run on a backend only when it
 * supports every node. Memory comes from alloc() in a few large blocks carved up
 * by the plan; run_node() is called in topological order with every tensor's
 * ->data pointing into backend memory (constants are uploaded once by the
 * executor). Calls return when the work is queued; sync() waits for it.
 */
#ifndef FT_BACKEND_H
#define FT_BACKEND_H

#include "ir.h"

typedef struct ft_backend_iface {
	const char *name;
	/*
	 * Host bytes the libraries a node calls allocate inside the call, beyond
	 * what prepare_node reports: a bound, part of the planned peak. On the CPU
	 * oneDNN's internal sgemm packs blocks into buffers it allocates and frees
	 * per call and thread, its execute builds argument maps, its JIT kernels
	 * for gemm are made on first use, libgomp allocates team structures (at
	 * most 74 KiB per thread per call and 390 KiB once per process measured by
	 * tests/test_memplan.c).
	 */
	size_t (*call_overhead)(void *ctx);
	bool (*supports_op)(void *ctx, const ft_graph *g, const ft_node *n);
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *p);
	void (*upload)(void *ctx, void *dst, const void *src, size_t bytes);
	void (*download)(void *ctx, void *dst, const void *src, size_t bytes);
	ft_status (*run_node)(void *ctx, const ft_graph *g, ft_node *n);
	/*
	 * Optional. Prepares n for running (builds library primitives) and says
	 * what it needs besides its tensors: *scratch bytes of workspace while it
	 * runs, *state bytes it keeps between runs. Called once per node when the
	 * plan is made; the executor then hands the backend one workspace of the
	 * largest scratch (set_workspace) before every run.
	 */
	ft_status (*prepare_node)(void *ctx, const ft_graph *g, ft_node *n, size_t *scratch, size_t *state);
	void (*set_workspace)(void *ctx, void *p, size_t bytes);
	/* called before a node's backend extras are dropped (graph teardown) */
	void (*release_node)(void *ctx, ft_node *n);
	void (*sync)(void *ctx);
	void (*destroy)(void *ctx);
	/* Optional: bytes the device can still allocate (a GPU's free memory); the executor refuses a plan above it. */
	size_t (*free_memory)(void *ctx);
	/*
	 * Optional: page-locked host memory (cudaHostAlloc) for staging buffers
	 * that are reused (the loader's ring): uploads from it are asynchronous DMA.
	 */
	void *(*host_alloc)(void *ctx, size_t bytes);
	void (*host_free)(void *ctx, void *p);
	/*
	 * Optional: the device time of the asynchronous uploads (from host_alloc
	 * memory) completed by the last sync, timed by events; synchronous ones
	 * are timed by their callers' clocks.
	 */
	double (*async_upload_seconds)(void *ctx);
	/*
	 * Optional: p lies in memory this backend allocated. The executor binds
	 * such a constant as it is instead of uploading it: an evaluation graph
	 * reading the trainer's parameters where they live (ft_trainer_eval_graph).
	 */
	bool (*owns)(void *ctx, const void *p);
	/*
	 * Optional, both or neither: an upload that runs while queued nodes
	 * compute (a GPU's copy stream). copy_ahead starts copying src (host
	 * memory left unchanged until the next copy_wait; page-locked for the copy
	 * to be asynchronous) to dst, which no queued node reads or writes;
	 * copy_wait orders the nodes queued after it behind every copy started so
	 * far, without waiting on the host. The trainer's input double buffer.
	 */
	void (*copy_ahead)(void *ctx, void *dst, const void *src, size_t bytes);
	void (*copy_wait)(void *ctx);
	/*
	 * Optional, all or none: recorded work (CUDA graphs). capture_begin starts
	 * recording what the nodes run from here on queue, without running it;
	 * capture_end stops and returns the recording ready to replay, or NULL when
	 * it could not be made (something in it cannot be recorded: the nodes must
	 * then be run normally); replay queues it again; drop frees it.
	 */
	bool (*capture_begin)(void *ctx);
	void *(*capture_end)(void *ctx);
	ft_status (*replay)(void *ctx, void *recording);
	void (*drop)(void *ctx, void *recording);
	/*
	 * Optional, device backends: *peak, the most bytes held at once through
	 * alloc since the backend was made (the analogue of PyTorch's
	 * max_memory_allocated); *used, the device memory in use now beyond what
	 * was in use when the backend was made, whoever allocated it (cuDNN's and
	 * cuBLAS's own workspace and loaded kernels too), 0 when unknown.
	 */
	void (*memory)(void *ctx, size_t *peak, size_t *used);
} ft_backend_iface;

typedef struct ft_backend {
	const ft_backend_iface *iface;
	void *ctx;
} ft_backend;

ft_backend ft_backend_cpu_new(int threads);
/* The CPU kernels behind a device boundary, for testing the device-memory paths (backend_cpu.c). */
ft_backend ft_backend_devsim_new(int threads);

/*
 * The CUDA backend on GPU `device` (runtime/backend_cuda.c; only in builds
 * with FT_HAVE_CUDA). FT_EBADINPUT with the reason when no GPU can be used.
 */
ft_status ft_backend_cuda_new(int device, ft_backend *out);
/* whether the CUDA backend runs node n of g (no GPU needed to ask) */
bool ft_cuda_supports(const ft_graph *g, const ft_node *n);
/* CUDA devices usable here; 0 with the reason in why (no driver, no device) */
int ft_cuda_device_count(char *why, size_t why_len);
/* the CUDA backend's compute stream (a cudaStream_t), for work ordered with its nodes (nccl_grads.c) */
void *ft_backend_cuda_stream(void *ctx);

/*
 * The backend for --device: "cpu"; "cuda" or "cuda:N" (an error without a
 * usable GPU, or when g has nodes the CUDA backend does not run, all listed);
 * "auto" or NULL: CUDA when a GPU is there and runs every node of g, else the
 * CPU (saying why on stderr when a GPU was there).
 */
ft_status ft_pick_backend(const char *device, int threads, const ft_graph *g, ft_backend *be);
/* whether ft_pick_backend would give a GPU for device (auto: when this build sees one) */
bool ft_device_is_gpu(const char *device);

/* Sets the thread count of ftrun's kernels and of the libraries they use
 * (OpenMP, oneDNN, OpenBLAS). 0 keeps the default (all cores). */
void ft_set_threads(int threads);

#endif
