/*
 * exec.h - running a specialised graph on a backend.
 *
 * The memory plan gives every activation and graph input an offset in one
 * block, reusing memory between tensors whose lifetimes do not overlap
 * (greedy by size over [producer, last consumer] intervals). The executor
 * allocates that block once from the backend, points every tensor's ->data
 * into it (constants stay where they are on host backends, and are uploaded
 * once otherwise) and then runs the nodes in topological order. Nothing is
 * allocated during a run.
 *
 * One executor per graph at a time: it writes the tensors' data pointers.
 */
#ifndef FT_EXEC_H
#define FT_EXEC_H

#include "backend.h"

typedef struct ft_plan {
	size_t *offset;      /* per tensor id; SIZE_MAX for tensors not planned */
	size_t total;        /* bytes of the block */
	size_t unshared;     /* what the same tensors would take without reuse */
	size_t workspace;    /* the largest scratch a node asks for (filled by ft_exec_new) */
	size_t kernel_state; /* what the nodes keep between runs (reordered weights) */
	/* per tensor id: the first and last node of its place's lifetime (-1 for tensors not
	 * planned) and the tensor whose place it shares (itself, or a view's input) */
	int *start, *end, *root;
} ft_plan;

/* Everything a run of a graph holds, by kind (the planned peak is the sum). */
typedef struct ft_plan_summary {
	size_t persistent;   /* parameters, state, optimizer state, constants */
	size_t activations;  /* the block */
	size_t workspace;
	size_t kernel_state;
	size_t library;      /* the backend's call_overhead */
} ft_plan_summary;

ft_status ft_plan_build(const ft_graph *g, ft_plan *p);
void ft_plan_free(ft_plan *p);
/* Bytes of the constants (parameters, state, folded constants) a run needs. */
size_t ft_graph_const_bytes(const ft_graph *g);

typedef struct ft_exec ft_exec;

ft_status ft_exec_new(ft_graph *g, ft_backend be, ft_exec **out);
/*
 * The nodes of g that supports() refuses: their count, and in buf each op
 * once with its first node ("Conv (first: node \"conv1\"), ...").
 */
int ft_unsupported_nodes(const ft_graph *g, bool (*supports)(void *ctx, const ft_graph *g, const ft_node *n),
			 void *ctx, char *buf, size_t len);
/*
 * The plan of a run without its memory: every node prepared as ft_exec_new
 * prepares it (so ft_exec_planned_bytes is exact), nothing allocated for the
 * activations or the workspace. Such an executor cannot run; free it.
 */
ft_status ft_exec_plan_only(ft_graph *g, ft_backend be, ft_exec **out);
void ft_exec_free(ft_exec *x);
/* Copies host bytes into graph input i (i indexes g->inputs). */
ft_status ft_exec_set_input(ft_exec *x, int i, const void *host, size_t bytes);
ft_status ft_exec_run(ft_exec *x);
/* Runs nodes [from, to) only (a training step runs its micro-batch part K times). */
ft_status ft_exec_run_range(ft_exec *x, int from, int to);
/*
 * The same, calling after(ctx, i) once node i has run (and its outputs may be
 * downloaded): a data-parallel run sends gradients as they are complete. The
 * hook may copy through the backend; it must not run nodes.
 */
typedef void (*ft_exec_hook)(void *ctx, int node);
ft_status ft_exec_run_range_hook(ft_exec *x, int from, int to, ft_exec_hook after, void *ctx);
/* Copies graph output i (i indexes g->outputs) to host. */
ft_status ft_exec_get_output(ft_exec *x, int i, void *host, size_t bytes);
const ft_plan *ft_exec_plan(const ft_exec *x);
/*
 * With a backend whose memory is not host memory: host=true copies every
 * constant (parameters, state, optimizer buffers) back to its host bytes and
 * points the tensors there, so host code may read and write them (a
 * checkpoint, an export, the CPU evaluation of a trained graph); host=false
 * copies them up again and points the tensors at the device copies, as a
 * run needs. Nothing to do on the CPU backend.
 */
void ft_exec_host_view(ft_exec *x, bool host);
/* The planned memory of a run of x: fills *s and returns the sum. */
size_t ft_exec_planned_bytes(const ft_exec *x, ft_plan_summary *s);

#endif
