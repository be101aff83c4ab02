/* plan.c - the static memory plan: one block, reused by liveness. */
#include "exec.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct interval {
	int id;
	int start, end; /* node indices, inclusive */
	size_t size;
} interval;

static int by_size_desc(const void *a, const void *b)
{
	const interval *x = a, *y = b;
	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return x->id - y->id;
}

static bool planned(const ft_tensor *t)
{
	return t->kind == FT_TK_ACT || (t->kind == FT_TK_INPUT && !t->data);
}

/*
 * Views share their input's memory: root[i] is the tensor whose place tensor i takes (itself
 * when it has its own). A view's kernel then finds its output already there and copies
 * nothing (ft_cpu_copy, the CUDA backend's byte copies). Only activations made by nodes: a
 * graph input's bytes can live outside the plan (the copy-ahead's second buffer). Never a
 * tensor that a node updates in place (the loss scaler's gradients, an optimizer's inputs):
 * two names for the same bytes would be updated twice.
 */
static void find_views(const ft_graph *g, int *root)
{
	int nt = g->n_tensors;
	bool *updated = ft_xcalloc((size_t)nt + 1, sizeof(bool)), *made = ft_xcalloc((size_t)nt + 1, sizeof(bool));
	for (int i = 0; i < nt; i++)
		root[i] = i;
	for (int i = 0; i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		if (ft_op_table[n->op].max_out == 0 || n->op == FT_OP_AMP_UNSCALE)
			for (int j = 0; j < n->n_in; j++)
				if (n->in[j] >= 0)
					updated[n->in[j]] = true;
		for (int j = 0; j < n->n_out; j++)
			if (n->out[j] >= 0)
				made[n->out[j]] = true;
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		if (!ft_op_is_view(n->op) || n->n_in < 1 || n->n_out < 1 || n->in[0] < 0 || n->out[0] < 0)
			continue;
		int x = n->in[0], y = n->out[0];
		const ft_tensor *tx = &g->tensors[x], *ty = &g->tensors[y];
		if (tx->kind != FT_TK_ACT || !made[x] || ty->kind != FT_TK_ACT || !tx->shaped || !ty->shaped ||
		    tx->dtype != ty->dtype || ft_tensor_bytes(tx) != ft_tensor_bytes(ty) || updated[x] || updated[y])
			continue;
		root[y] = root[x];
	}
	/* nodes run in order, so a view's input has its root before the view is seen: chains settle
	 * in one pass */
	free(made);
	free(updated);
}

ft_status ft_plan_build(const ft_graph *g, ft_plan *p)
{
	int nt = g->n_tensors;
	p->offset = ft_xmalloc(sizeof(size_t) * ((size_t)nt + 1));
	p->total = p->unshared = 0;
	int *start = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	int *end = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	for (int i = 0; i < nt; i++) {
		p->offset[i] = SIZE_MAX;
		start[i] = -1;
		end[i] = -2;
	}
	for (int i = 0; i < g->n_inputs; i++)
		start[g->inputs[i]] = 0, end[g->inputs[i]] = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_out; j++)
			if (n->out[j] >= 0) {
				start[n->out[j]] = i;
				if (end[n->out[j]] < i)
					end[n->out[j]] = i;
			}
		for (int j = 0; j < n->n_in; j++)
			if (n->in[j] >= 0 && end[n->in[j]] < i && ft_node_reads_input(n, j))
				end[n->in[j]] = i;
	}
	for (int i = 0; i < g->n_outputs; i++)
		end[g->outputs[i]] = g->n_nodes;
	/* made before the loop, read in it: kept to the loop's end, as every pass reads it */
	for (int i = 0; i < nt && g->loop_end > g->loop_begin; i++)
		if (start[i] >= 0 && start[i] < g->loop_begin && end[i] >= g->loop_begin && end[i] < g->loop_end - 1)
			end[i] = g->loop_end - 1;
	/* a view's lifetime is its root's: the root's place lives from the first to the last use of any */
	int *root = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	find_views(g, root);
	for (int i = 0; i < nt; i++) {
		int r = root[i];
		if (r == i || start[i] < 0)
			continue;
		if (start[i] < start[r])
			start[r] = start[i];
		if (end[i] > end[r])
			end[r] = end[i];
	}

	interval *iv = ft_xmalloc(sizeof(interval) * ((size_t)nt + 1));
	int n_iv = 0;
	for (int i = 0; i < nt; i++) {
		const ft_tensor *t = &g->tensors[i];
		if (!planned(t) || start[i] < 0 || !t->shaped || root[i] != i)
			continue;
		iv[n_iv++] = (interval){ i, start[i], end[i], ft_align64(ft_tensor_bytes(t)) };
		p->unshared += ft_align64(ft_tensor_bytes(t));
	}
	qsort(iv, (size_t)n_iv, sizeof(interval), by_size_desc);
	/* Greedy by size: each tensor goes into the lowest gap between the
	 * already placed tensors whose lifetimes overlap its own. */
	interval **placed = ft_xmalloc(sizeof(interval *) * ((size_t)n_iv + 1));
	interval **live = ft_xmalloc(sizeof(interval *) * ((size_t)n_iv + 1));
	int n_placed = 0;
	for (int k = 0; k < n_iv; k++) {
		interval *a = &iv[k];
		int n_live = 0;
		for (int j = 0; j < n_placed; j++) {
			interval *b = placed[j];
			if (!(b->end < a->start || a->end < b->start))
				live[n_live++] = b;
		}
		/* insertion sort by offset: the live set is small */
		for (int x = 1; x < n_live; x++)
			for (int y = x; y > 0 && p->offset[live[y - 1]->id] > p->offset[live[y]->id]; y--) {
				interval *tmp = live[y];
				live[y] = live[y - 1];
				live[y - 1] = tmp;
			}
		size_t off = 0;
		for (int j = 0; j < n_live; j++) {
			size_t bo = p->offset[live[j]->id];
			if (bo >= off + a->size)
				break;
			if (bo + live[j]->size > off)
				off = bo + live[j]->size;
		}
		p->offset[a->id] = off;
		if (off + a->size > p->total)
			p->total = off + a->size;
		placed[n_placed++] = a;
	}
	for (int i = 0; i < nt; i++) {
		if (root[i] != i)
			p->offset[i] = p->offset[root[i]];
		if (p->offset[i] == SIZE_MAX)
			start[i] = end[i] = -1;
	}
	p->start = start;
	p->end = end;
	p->root = root;
	free(live);
	free(placed);
	free(iv);
	return FT_OK;
}

void ft_plan_free(ft_plan *p)
{
	free(p->offset);
	free(p->start);
	free(p->end);
	free(p->root);
	p->offset = NULL;
	p->start = p->end = p->root = NULL;
}

size_t ft_graph_const_bytes(const ft_graph *g)
{
	size_t total = 0;
	for (int i = 0; i < g->n_tensors; i++) {
		const ft_tensor *t = &g->tensors[i];
		if (t->kind != FT_TK_ACT && t->kind != FT_TK_INPUT && t->data && t->shaped)
			total += ft_tensor_bytes(t);
	}
	return total;
}
