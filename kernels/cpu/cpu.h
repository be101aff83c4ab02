/*
 * kernels/cpu/cpu.h - what the CPU backend needs from the kernel files besides
 * the per-op functions declared by ops.h.
 */
#ifndef FT_CPU_H
#define FT_CPU_H

#include "ir.h"

/*
 * What a CPU kernel caches in n->extra starts with this header; release frees
 * the whole thing (a prepared oneDNN primitive, reordered weights...).
 */
typedef struct ft_cpu_extra {
	void (*release)(struct ft_cpu_extra *self);
} ft_cpu_extra;

/* Frees what a kernel cached in n->extra and clears it. */
void ft_cpu_release(ft_node *n);
/* Thread count for the libraries the kernels call (oneDNN, OpenBLAS). */
void ft_cpu_set_threads(int threads);

/*
 * What node n needs besides its inputs and outputs: *scratch bytes while it
 * runs (from ft_cpu_scratch) and *state bytes it keeps between runs. The
 * kernels ask ft_cpu_scratch for exactly these sizes (one function computes
 * both), so a planned workspace of the largest scratch serves every node.
 */
ft_status ft_cpu_conv_memory(const ft_graph *g, ft_node *n, size_t *scratch, size_t *state);
size_t ft_cpu_norm_scratch(const ft_graph *g, const ft_node *n);
/* LayerNormalization's view of x: rows = product of dims[:axis], cols = product of dims[axis:] */
ft_status ft_ln_split(const ft_graph *g, const ft_node *n, const ft_tensor *x, int *axis, int64_t *rows,
		      int64_t *cols);
size_t ft_cpu_matmul_scratch(const ft_graph *g, const ft_node *n);
void ft_cpu_set_workspace(void *p, size_t size);
void ft_cpu_get_workspace(void **p, size_t *size);
/*
 * --sync-bn: BatchNorm nodes with the attribute ft_sync_stats = 1 pass their
 * per-channel sums through fn (forward: sum, sum of squares, count; backward:
 * sum of dy, of dy * (x - mean), count), which sums v[0..n) over the ranks in
 * place. Without fn (a single process), or paused (the trainer's search for a
 * non-finite value, which runs nodes on one rank alone), a node's own batch is
 * the whole batch.
 */
typedef void (*ft_cpu_allreduce_fn)(void *ctx, double *v, size_t n);
void ft_cpu_set_stats_allreduce(ft_cpu_allreduce_fn fn, void *ctx);
void ft_cpu_pause_stats_allreduce(bool paused);
void ft_cpu_widen(float *dst, const void *src, ft_dtype lp, int64_t n);
void ft_cpu_narrow(void *dst, ft_dtype lp, const float *src, int64_t n);

#endif
