/* exec.c - runs a specialised graph on a backend from one planned block. */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

/*
 * FT_CUDA_GRAPHS=1 (opt-in until measured on a GPU): a node range runs once as
 * it is (first uses: cuDNN and cuBLAS set themselves up), the second time it is
 * recorded (the backend's capture_begin/capture_end) and that recording is
 * replayed from then on: one launch instead of hundreds. A range is keyed by
 * its nodes and the data pointers of the graph's inputs (the trainer's input
 * double buffer gives two recordings of the micro-batch range). A range whose
 * recording fails runs node by node from then on; ranges run with a node hook
 * (a data-parallel step's last micro-batch) or under FT_PROFILE are not recorded.
 */
enum { MAX_RECORDINGS = 16 };
typedef struct recording {
	int from, to;
	uintptr_t key;   /* the inputs' data pointers */
	int runs;        /* times run as it is */
	void *rec;       /* the backend's recording, NULL until made */
	bool as_is;      /* could not be recorded */
} recording;

struct ft_exec {
	ft_graph *g;
	ft_backend be;
	ft_plan plan;
	void *block;       /* activations and inputs */
	void *const_block; /* device copies of the constants (non-host backends) */
	void *workspace;   /* plan.workspace bytes of node scratch */
	bool host;         /* backend memory is host memory */
	void **host_data;  /* non-host backends: per tensor, the host bytes of an uploaded constant */
	void **dev_data;   /*   and its device copy */
	bool host_view;    /* the constants' data pointers are the host copies (ft_exec_host_view) */
	int graphs;        /* FT_CUDA_GRAPHS: 0 unknown, 1 on, -1 off */
	recording rec[MAX_RECORDINGS];
	int n_rec;
};

/* physical memory of this machine, 0 if unknown */
static size_t host_memory_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || size <= 0)
		return 0;
	return (size_t)pages * (size_t)size;
}

int ft_unsupported_nodes(const ft_graph *g, bool (*supports)(void *ctx, const ft_graph *g, const ft_node *n),
			 void *ctx, char *buf, size_t len)
{
	int missing = 0;
	size_t used = 0;
	bool *seen = ft_xcalloc(FT_OP_COUNT, sizeof(bool));
	buf[0] = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		if (supports(ctx, g, n))
			continue;
		missing++;
		if (!seen[n->op] && used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s (first: node \"%s\")", used ? ", " : "",
						 ft_op_table[n->op].name, n->name ? n->name : "");
		seen[n->op] = true;
	}
	free(seen);
	return missing;
}

/* The plan of g on be: offsets, then every node prepared (its scratch and kept state counted). */
ft_status ft_exec_plan_only(ft_graph *g, ft_backend be, ft_exec **out)
{
	*out = NULL;
	for (int i = 0; i < g->n_nodes; i++)
		if (!be.iface->supports_op(be.ctx, g, &g->nodes[i]))
			return ft_node_error(g, &g->nodes[i], FT_EUNSUPPORTED, "the %s backend does not support this op",
					     be.iface->name);
	ft_exec *x = ft_xcalloc(1, sizeof(*x));
	x->g = g;
	x->be = be;
	x->host = strcmp(be.iface->name, "cpu") == 0;
	ft_status st = ft_plan_build(g, &x->plan);
	if (st) {
		free(x);
		return st;
	}
	for (int i = 0; i < g->n_nodes && be.iface->prepare_node; i++) {
		size_t scratch = 0, state = 0;
		st = be.iface->prepare_node(be.ctx, g, &g->nodes[i], &scratch, &state);
		if (st) {
			ft_exec_free(x);
			return st;
		}
		if (scratch > x->plan.workspace)
			x->plan.workspace = scratch;
		x->plan.kernel_state += state;
	}
	*out = x;
	return FT_OK;
}

/* data is backend memory already (another executor's constant on the same backend) */
static bool resident(const ft_exec *x, const void *data)
{
	return x->be.iface->owns && x->be.iface->owns(x->be.ctx, data);
}

/* bytes of the constants a non-host executor uploads (those already backend memory stay where they are) */
static size_t upload_bytes(const ft_exec *x)
{
	size_t total = 0;
	for (int i = 0; i < x->g->n_tensors; i++) {
		const ft_tensor *t = &x->g->tensors[i];
		if (x->plan.offset[i] == SIZE_MAX && t->data && t->shaped && !resident(x, t->data))
			total += ft_align64(ft_tensor_bytes(t));
	}
	return total;
}

ft_status ft_exec_new(ft_graph *g, ft_backend be, ft_exec **out)
{
	ft_exec *x;
	FT_TRY(ft_exec_plan_only(g, be, &x));
	/*
	 * Declared dims may pass every overflow check and still ask for terabytes;
	 * allocation failure is fatal, so refuse a plan the machine cannot hold.
	 */
	if (!x->host && be.iface->free_memory) { /* a GPU: the activations, workspace and constants, up front */
		size_t need = x->plan.total + x->plan.workspace + upload_bytes(x);
		size_t avail = be.iface->free_memory(be.ctx);
		if (need > avail) {
			ft_status st = ft_error(FT_EBADINPUT, "%s: one run needs %.1f MiB of %s memory, %.1f MiB are free; "
						"lower the batch size (or let --max-memory choose it)", g->path,
						need / 1048576.0, be.iface->name, avail / 1048576.0);
			ft_exec_free(x);
			return st;
		}
	}
	size_t phys = host_memory_bytes();
	if (x->host && phys && x->plan.total > phys) {
		ft_status st = ft_error(FT_EBADINPUT, "%s: the activations need %zu bytes of memory, more than this "
					"machine has (%zu); check the input dims and the batch size", g->path,
					x->plan.total, phys);
		ft_exec_free(x);
		return st;
	}
	x->block = be.iface->alloc(be.ctx, x->plan.total ? x->plan.total : 64);
	if (x->plan.workspace)
		x->workspace = be.iface->alloc(be.ctx, x->plan.workspace);
	for (int i = 0; i < g->n_tensors; i++)
		if (x->plan.offset[i] != SIZE_MAX)
			g->tensors[i].data = (char *)x->block + x->plan.offset[i];
	if (!x->host) {
		size_t total = upload_bytes(x);
		x->const_block = be.iface->alloc(be.ctx, total ? total : 64);
		x->host_data = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(void *));
		x->dev_data = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(void *));
		size_t off = 0;
		for (int i = 0; i < g->n_tensors; i++) {
			ft_tensor *t = &g->tensors[i];
			if (x->plan.offset[i] != SIZE_MAX || !t->data || !t->shaped || resident(x, t->data))
				continue; /* (device memory already: bound as it is, never copied back) */
			void *dst = (char *)x->const_block + off;
			be.iface->upload(be.ctx, dst, t->data, ft_tensor_bytes(t));
			x->host_data[i] = t->data; /* host bytes stay owned by the graph */
			x->dev_data[i] = t->data = dst;
			off += ft_align64(ft_tensor_bytes(t));
		}
	}
	*out = x;
	return FT_OK;
}

void ft_exec_free(ft_exec *x)
{
	if (!x)
		return;
	for (int i = 0; i < x->n_rec; i++)
		if (x->rec[i].rec)
			x->be.iface->drop(x->be.ctx, x->rec[i].rec);
	for (int i = 0; i < x->g->n_nodes; i++)
		if (x->be.iface->release_node)
			x->be.iface->release_node(x->be.ctx, &x->g->nodes[i]);
	for (int i = 0; i < x->g->n_tensors; i++) {
		if (x->plan.offset[i] != SIZE_MAX)
			x->g->tensors[i].data = NULL;
		else if (x->host_data && x->host_data[i])
			x->g->tensors[i].data = x->host_data[i]; /* the graph's own bytes again */
	}
	free(x->host_data);
	free(x->dev_data);
	if (x->block)
		x->be.iface->free(x->be.ctx, x->block);
	if (x->workspace) {
		if (x->be.iface->set_workspace)
			x->be.iface->set_workspace(x->be.ctx, NULL, 0);
		x->be.iface->free(x->be.ctx, x->workspace);
	}
	if (x->const_block)
		x->be.iface->free(x->be.ctx, x->const_block);
	ft_plan_free(&x->plan);
	free(x);
}

ft_status ft_exec_set_input(ft_exec *x, int i, const void *host, size_t bytes)
{
	FT_ASSERT(i >= 0 && i < x->g->n_inputs);
	ft_tensor *t = &x->g->tensors[x->g->inputs[i]];
	if (bytes != ft_tensor_bytes(t))
		return ft_error(FT_EBADINPUT, "input \"%s\" needs %zu bytes, got %zu", t->name, ft_tensor_bytes(t),
				bytes);
	if (t->kind == FT_TK_CONST)
		return FT_OK; /* bound as a constant at specialisation */
	x->be.iface->upload(x->be.ctx, t->data, host, bytes);
	return FT_OK;
}

/*
 * FT_PROFILE=1: every node is waited for and its time added to its op's row;
 * the table goes to stderr when the process exits. The waits slow the run
 * down (a GPU no longer overlaps launches with work), so this shows where
 * time goes, not how fast a step is.
 */
static struct {
	int on; /* 0 unknown, 1 on, -1 off */
	double seconds[FT_OP_COUNT];
	int64_t calls[FT_OP_COUNT];
	char backend[16];
} prof;

static void profile_report(void)
{
	double total = 0;
	for (int i = 0; i < FT_OP_COUNT; i++)
		total += prof.seconds[i];
	if (total <= 0)
		return;
	fprintf(stderr, "ftrun profile (%s, every node waited for): %.3f s in nodes\n", prof.backend, total);
	fprintf(stderr, "  %-26s %10s %10s %7s\n", "op", "calls", "ms", "share");
	for (;;) { /* largest first, rows under 0.5% left out */
		int best = -1;
		for (int i = 0; i < FT_OP_COUNT; i++)
			if (prof.calls[i] && (best < 0 || prof.seconds[i] > prof.seconds[best]))
				best = i;
		if (best < 0 || prof.seconds[best] < 0.005 * total)
			break;
		fprintf(stderr, "  %-26s %10lld %10.1f %6.1f%%\n", ft_op_table[best].name, (long long)prof.calls[best],
			1e3 * prof.seconds[best], 100 * prof.seconds[best] / total);
		prof.calls[best] = 0;
	}
}

static bool profiling(const ft_exec *x)
{
	if (!prof.on) {
		prof.on = ft_env_set("FT_PROFILE") ? 1 : -1;
		if (prof.on > 0) {
			snprintf(prof.backend, sizeof(prof.backend), "%s", x->be.iface->name);
			atexit(profile_report);
		}
	}
	return prof.on > 0;
}

/* the recording of [from, to) with the inputs where they are now, made when absent; NULL when off or full */
static recording *recording_of(ft_exec *x, int from, int to)
{
	if (!x->graphs)
		x->graphs = ft_env_on("FT_CUDA_GRAPHS") && x->be.iface->capture_begin ? 1 : -1;
	if (x->graphs < 0)
		return NULL;
	uintptr_t key = 0;
	for (int i = 0; i < x->g->n_inputs; i++)
		key = key * 1000003u ^ (uintptr_t)x->g->tensors[x->g->inputs[i]].data;
	for (int i = 0; i < x->n_rec; i++)
		if (x->rec[i].from == from && x->rec[i].to == to && x->rec[i].key == key)
			return &x->rec[i];
	if (x->n_rec == MAX_RECORDINGS)
		return NULL;
	x->rec[x->n_rec] = (recording){ .from = from, .to = to, .key = key };
	return &x->rec[x->n_rec++];
}

/*
 * Runs r's range from its recording, making it on the second run: true when
 * done, false when the nodes are to be run as they are (first run, or the
 * recording failed: nothing of it ran).
 */
static bool run_recorded(ft_exec *x, recording *r, ft_status *st)
{
	const ft_backend_iface *be = x->be.iface;
	*st = FT_OK;
	if (r->as_is || r->runs++ == 0)
		return false;
	if (!r->rec) {
		if (!be->capture_begin(x->be.ctx)) {
			r->as_is = true;
			return false;
		}
		ft_status failed = FT_OK;
		for (int i = r->from; i < r->to && !failed; i++)
			failed = be->run_node(x->be.ctx, x->g, &x->g->nodes[i]);
		r->rec = be->capture_end(x->be.ctx);
		if (failed || !r->rec) {
			if (r->rec)
				be->drop(x->be.ctx, r->rec);
			r->rec = NULL;
			r->as_is = true;
			ft_clear_error();
			return false;
		}
	}
	*st = be->replay(x->be.ctx, r->rec);
	be->sync(x->be.ctx);
	return true;
}

ft_status ft_exec_run_range_hook(ft_exec *x, int from, int to, ft_exec_hook after, void *ctx)
{
	FT_ASSERT(from >= 0 && to <= x->g->n_nodes && x->block && !x->host_view);
	if (x->be.iface->set_workspace)
		x->be.iface->set_workspace(x->be.ctx, x->workspace, x->plan.workspace);
	bool p = profiling(x);
	recording *r = !after && !p && to > from ? recording_of(x, from, to) : NULL;
	ft_status st;
	if (r && run_recorded(x, r, &st))
		return st;
	for (int i = from; i < to; i++) {
		double t0 = p ? ft_now_s() : 0;
		FT_TRY(x->be.iface->run_node(x->be.ctx, x->g, &x->g->nodes[i]));
		if (p) { /* waited for, then the run goes on as it began (devsim closes its memory at a sync) */
			x->be.iface->sync(x->be.ctx);
			if (x->be.iface->set_workspace)
				x->be.iface->set_workspace(x->be.ctx, x->workspace, x->plan.workspace);
			prof.seconds[x->g->nodes[i].op] += ft_now_s() - t0;
			prof.calls[x->g->nodes[i].op]++;
		}
		if (after)
			after(ctx, i);
	}
	x->be.iface->sync(x->be.ctx);
	return FT_OK;
}

ft_status ft_exec_run_range(ft_exec *x, int from, int to)
{
	return ft_exec_run_range_hook(x, from, to, NULL, NULL);
}

ft_status ft_exec_run(ft_exec *x)
{
	return ft_exec_run_range(x, 0, x->g->n_nodes);
}

ft_status ft_exec_get_output(ft_exec *x, int i, void *host, size_t bytes)
{
	FT_ASSERT(i >= 0 && i < x->g->n_outputs);
	ft_tensor *t = &x->g->tensors[x->g->outputs[i]];
	FT_ASSERT(bytes == ft_tensor_bytes(t));
	if (bytes)
		x->be.iface->download(x->be.ctx, host, t->data, bytes);
	return FT_OK;
}

const ft_plan *ft_exec_plan(const ft_exec *x)
{
	return &x->plan;
}

size_t ft_exec_planned_bytes(const ft_exec *x, ft_plan_summary *s)
{
	s->persistent = ft_graph_const_bytes(x->g);
	s->activations = x->plan.total;
	s->workspace = x->plan.workspace;
	s->kernel_state = x->plan.kernel_state;
	s->library = x->be.iface->call_overhead ? x->be.iface->call_overhead(x->be.ctx) : 0;
	return s->persistent + s->activations + s->workspace + s->kernel_state + s->library;
}

void ft_exec_host_view(ft_exec *x, bool host)
{
	if (x->host || !x->host_data || x->host_view == host)
		return;
	for (int i = 0; i < x->g->n_tensors; i++) {
		ft_tensor *t = &x->g->tensors[i];
		if (!x->host_data[i])
			continue;
		if (host) {
			x->be.iface->download(x->be.ctx, x->host_data[i], x->dev_data[i], ft_tensor_bytes(t));
			t->data = x->host_data[i];
		} else {
			x->be.iface->upload(x->be.ctx, x->dev_data[i], x->host_data[i], ft_tensor_bytes(t));
			t->data = x->dev_data[i];
		}
	}
	x->host_view = host;
}
