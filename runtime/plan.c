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

static size_t align_up(size_t v)
{
	return (v + 63) & ~(size_t)63;
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
			if (n->in[j] >= 0 && end[n->in[j]] < i)
				end[n->in[j]] = i;
	}
	for (int i = 0; i < g->n_outputs; i++)
		end[g->outputs[i]] = g->n_nodes;
	/* made before the loop, read in it: kept to the loop's end, as every pass reads it */
	for (int i = 0; i < nt && g->loop_end > g->loop_begin; i++)
		if (start[i] >= 0 && start[i] < g->loop_begin && end[i] >= g->loop_begin && end[i] < g->loop_end - 1)
			end[i] = g->loop_end - 1;

	interval *iv = ft_xmalloc(sizeof(interval) * ((size_t)nt + 1));
	int n_iv = 0;
	for (int i = 0; i < nt; i++) {
		const ft_tensor *t = &g->tensors[i];
		if (!planned(t) || start[i] < 0 || !t->shaped)
			continue;
		iv[n_iv++] = (interval){ i, start[i], end[i], align_up(ft_tensor_bytes(t)) };
		p->unshared += align_up(ft_tensor_bytes(t));
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
	free(live);
	free(placed);
	free(iv);
	free(end);
	free(start);
	return FT_OK;
}

void ft_plan_free(ft_plan *p)
{
	free(p->offset);
	p->offset = NULL;
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
