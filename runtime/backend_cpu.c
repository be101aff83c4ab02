/* backend_cpu.c - the CPU backend: host memory and the reference/fast kernels. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/cpu.h"
#include "cpu/shape.h"

static bool cpu_supports_op(void *ctx, const ft_graph *g, const ft_node *n)
{
	(void)ctx;
	(void)g;
	return n->op < FT_OP_COUNT && ft_op_table[n->op].cpu != NULL;
}

static void *cpu_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return ft_aligned_alloc(bytes);
}

static void cpu_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static void cpu_copy(void *ctx, void *dst, const void *src, size_t bytes)
{
	(void)ctx;
	if (bytes)
		memcpy(dst, src, bytes);
}

/*
 * fp16/bf16 on the CPU (issue 4): tensors are stored in the low type and the
 * kernels compute in float32. A node with low-precision tensors whose kernel
 * only moves bytes runs as it is; any other is widened: its low-precision
 * inputs are converted into float32 copies in the workspace, the tensors are
 * pointed at the copies (dtype float32) while the float32 kernel runs, and
 * its outputs are rounded back (to nearest even) into their own memory. That
 * is where PyTorch's low-precision ops round too: compute in float32, store
 * the output in the low type.
 */
static bool is_low(ft_dtype t)
{
	return t == FT_F16 || t == FT_BF16;
}

static bool moves_bytes(ft_op op)
{
	ft_cpu_fn k = ft_op_table[op].cpu;
	return k == ft_cpu_copy || k == ft_cpu_identity || k == ft_cpu_transpose || k == ft_cpu_concat || k == ft_cpu_split ||
	       k == ft_cpu_slice || k == ft_cpu_gather || k == ft_cpu_expand || k == ft_cpu_tile || k == ft_cpu_cast;
}

#define WIDEN_MAX 64 /* tensors of one node (Concat, which can have more, moves bytes) */

typedef struct widened {
	int n;
	int id[WIDEN_MAX];
	bool in[WIDEN_MAX];   /* read by the node (converted before it runs) */
	ft_dtype was[WIDEN_MAX];
	void *data[WIDEN_MAX];
	size_t bytes;                   /* float32 copies, 64-byte aligned each */
} widened;

static void widen_add(widened *w, const ft_graph *g, int id, bool in)
{
	for (int k = 0; k < w->n; k++)
		if (w->id[k] == id)
			return;
	FT_ASSERT(w->n < WIDEN_MAX); /* the AMP pass makes no such node */
	w->id[w->n] = id;
	w->in[w->n] = in;
	w->n++;
	w->bytes += ft_align64((size_t)g->tensors[id].numel * 4);
}

/* the low-precision tensors of n; false when there are none or its kernel moves bytes */
static bool needs_widening(const ft_graph *g, const ft_node *n, widened *w)
{
	w->n = 0;
	w->bytes = 0;
	if (moves_bytes(n->op))
		return false;
	for (int j = 0; j < n->n_in; j++)
		if (n->in[j] >= 0 && is_low(g->tensors[n->in[j]].dtype))
			widen_add(w, g, n->in[j], true);
	for (int j = 0; j < n->n_out; j++)
		if (n->out[j] >= 0 && is_low(g->tensors[n->out[j]].dtype))
			widen_add(w, g, n->out[j], false);
	return w->n > 0;
}

/* points the tensors at float32 copies in buf (converting inputs when convert), dtype float32 */
static void widen(const ft_graph *g, widened *w, char *buf, bool convert)
{
	for (int k = 0; k < w->n; k++) {
		ft_tensor *t = &g->tensors[w->id[k]];
		w->was[k] = t->dtype;
		w->data[k] = t->data;
		if (buf) {
			if (convert && w->in[k])
				ft_cpu_widen((float *)buf, t->data, t->dtype, t->numel);
			t->data = buf;
			buf += ft_align64((size_t)t->numel * 4);
		}
		t->dtype = FT_F32;
	}
}

static void narrow(const ft_graph *g, widened *w, bool convert)
{
	for (int k = 0; k < w->n; k++) {
		ft_tensor *t = &g->tensors[w->id[k]];
		if (convert && !w->in[k])
			ft_cpu_narrow(w->data[k], w->was[k], t->data, t->numel);
		t->dtype = w->was[k];
		t->data = w->data[k];
	}
}

static ft_status run_widened(const ft_graph *g, ft_node *n)
{
	widened w;
	if (!needs_widening(g, n, &w))
		return ft_op_table[n->op].cpu(g, n);
	if (n->n_out == 0)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "updates a %s tensor in place; ftrun keeps such "
				     "tensors in float32", ft_dtype_name(g->tensors[w.id[0]].dtype));
	void *ws;
	size_t ws_size;
	ft_cpu_get_workspace(&ws, &ws_size);
	char *buf = ws, *own = NULL;
	if (ws_size >= w.bytes)
		ft_cpu_set_workspace((char *)ws + w.bytes, ws_size - w.bytes); /* the kernel's own scratch after the copies */
	else
		buf = own = ft_aligned_alloc(w.bytes); /* outside a planned run */
	widen(g, &w, buf, true);
	ft_status st = ft_op_table[n->op].cpu(g, n);
	narrow(g, &w, st == FT_OK);
	ft_cpu_set_workspace(ws, ws_size);
	free(own);
	return st;
}

/*
 * Channels last (ir.h, runtime/layout.c) on the CPU: a reference, not a fast path. The
 * node's rank-4 operands are transposed into NCHW copies in the workspace, the tensors
 * pointed at them with their dims as NCHW, the node given the attributes of its NCHW twin
 * (a copy: ft_channels_last 0, x_shape/w_shape permuted) while its NCHW kernel runs, and the
 * outputs transposed back into their own memory: the same kernels on the same values, so
 * the same bits as the NCHW graph's (tests/layout.sh).
 */
typedef struct permuted {
	int n;
	int id[WIDEN_MAX];
	bool in[WIDEN_MAX];
	int64_t dims[WIDEN_MAX][4]; /* as stored: (N, H, W, C) */
	void *data[WIDEN_MAX];
	size_t bytes;
	ft_node *node;
	int flag, shape;            /* the attributes ft_channels_last, and x_shape or w_shape (-1) */
	ft_attr *attrs;             /* the node's own, while it runs with a copy */
	int64_t dims_attr[4];       /* the copy's x_shape or w_shape */
} permuted;

static void permuted_add(permuted *p, const ft_graph *g, int id, bool in)
{
	const ft_tensor *t = &g->tensors[id];
	if (t->rank != 4)
		return;
	for (int k = 0; k < p->n; k++)
		if (p->id[k] == id)
			return;
	FT_ASSERT(p->n < WIDEN_MAX);
	p->id[p->n] = id;
	p->in[p->n] = in;
	p->n++;
	p->bytes += ft_align64(ft_tensor_bytes(t));
}

static bool needs_permuting(const ft_graph *g, ft_node *n, permuted *p)
{
	p->n = 0;
	p->bytes = 0;
	p->node = n;
	p->flag = p->shape = -1;
	if (!ft_channels_last(n))
		return false;
	for (int k = 0; k < n->n_attrs; k++) {
		if (strcmp(n->attrs[k].name, "ft_channels_last") == 0)
			p->flag = k;
		else if ((strcmp(n->attrs[k].name, "x_shape") == 0 || strcmp(n->attrs[k].name, "w_shape") == 0) &&
			 n->attrs[k].kind == FT_ATTR_INTS && n->attrs[k].n == 4)
			p->shape = k;
	}
	for (int j = 0; j < n->n_in; j++)
		if (n->in[j] >= 0)
			permuted_add(p, g, n->in[j], true);
	for (int j = 0; j < n->n_out; j++)
		if (n->out[j] >= 0)
			permuted_add(p, g, n->out[j], false);
	return p->flag >= 0;
}

/* x -> y as (0, 3, 1, 2) when to_nchw, else (0, 2, 3, 1); nhwc: the dims as stored channels last */
static void permute4(void *y, const void *x, const int64_t *nhwc, size_t es, bool to_nchw)
{
	static const int first[4] = { 0, 3, 1, 2 }, last[4] = { 0, 2, 3, 1 };
	int64_t nchw[4];
	ft_dims_nchw(nhwc, nchw);
	if (to_nchw)
		ft_cpu_permute(y, x, 4, nhwc, first, es);
	else
		ft_cpu_permute(y, x, 4, nchw, last, es);
}

/* the node as its NCHW twin: tensors at NCHW copies in buf (or only their dims without buf) */
static void to_nchw(const ft_graph *g, permuted *p, char *buf)
{
	for (int k = 0; k < p->n; k++) {
		ft_tensor *t = &g->tensors[p->id[k]];
		memcpy(p->dims[k], t->dims, sizeof(p->dims[k]));
		p->data[k] = t->data;
		if (buf) {
			if (p->in[k])
				permute4(buf, t->data, t->dims, ft_dtype_size(t->dtype), true);
			t->data = buf;
			buf += ft_align64(ft_tensor_bytes(t));
		}
		ft_dims_nchw(p->dims[k], t->dims);
	}
	/* the attributes as a copy (an attribute array or its ints may be shared with other nodes) */
	ft_node *n = p->node;
	p->attrs = n->attrs;
	n->attrs = ft_xmalloc(sizeof(ft_attr) * (size_t)n->n_attrs);
	memcpy(n->attrs, p->attrs, sizeof(ft_attr) * (size_t)n->n_attrs);
	n->attrs[p->flag].i = 0;
	if (p->shape >= 0) {
		ft_dims_nchw(p->attrs[p->shape].ints, p->dims_attr);
		n->attrs[p->shape].ints = p->dims_attr;
	}
}

static void to_nhwc(const ft_graph *g, permuted *p, bool convert)
{
	for (int k = 0; k < p->n; k++) {
		ft_tensor *t = &g->tensors[p->id[k]];
		if (convert && !p->in[k])
			permute4(p->data[k], t->data, p->dims[k], ft_dtype_size(t->dtype), false);
		memcpy(t->dims, p->dims[k], sizeof(p->dims[k]));
		t->data = p->data[k];
	}
	free(p->node->attrs);
	p->node->attrs = p->attrs;
}

static ft_status cpu_run_node(void *ctx, const ft_graph *g, ft_node *n)
{
	(void)ctx;
	permuted p;
	if (!needs_permuting(g, n, &p))
		return run_widened(g, n);
	void *ws;
	size_t ws_size;
	ft_cpu_get_workspace(&ws, &ws_size);
	char *buf = ws, *own = NULL;
	if (ws_size >= p.bytes)
		ft_cpu_set_workspace((char *)ws + p.bytes, ws_size - p.bytes);
	else
		buf = own = ft_aligned_alloc(p.bytes ? p.bytes : 1); /* outside a planned run */
	to_nchw(g, &p, buf);
	ft_status st = run_widened(g, n);
	to_nhwc(g, &p, st == FT_OK);
	ft_cpu_set_workspace(ws, ws_size);
	free(own);
	return st;
}

static ft_status kernel_memory(const ft_graph *g, ft_node *n, size_t *scratch, size_t *state);

static ft_status widened_memory(const ft_graph *g, ft_node *n, size_t *scratch, size_t *state)
{
	widened w;
	if (!needs_widening(g, n, &w))
		return kernel_memory(g, n, scratch, state);
	widen(g, &w, NULL, false); /* the float32 kernel's needs, as it will run */
	ft_status st = kernel_memory(g, n, scratch, state);
	narrow(g, &w, false);
	*scratch += w.bytes;
	return st;
}

static ft_status cpu_prepare_node(void *ctx, const ft_graph *g, ft_node *n, size_t *scratch, size_t *state)
{
	(void)ctx;
	permuted p;
	if (!needs_permuting(g, n, &p))
		return widened_memory(g, n, scratch, state);
	to_nchw(g, &p, NULL); /* the NCHW kernel's needs, as it will run */
	ft_status st = widened_memory(g, n, scratch, state);
	to_nhwc(g, &p, false);
	*scratch += p.bytes;
	return st;
}

static ft_status kernel_memory(const ft_graph *g, ft_node *n, size_t *scratch, size_t *state)
{
	*scratch = *state = 0;
	switch (n->op) {
	case FT_OP_CONV:
	case FT_OP_CONV_GRAD_INPUT:
	case FT_OP_CONV_GRAD_WEIGHT:
		return ft_cpu_conv_memory(g, n, scratch, state);
	case FT_OP_BATCH_NORM:
	case FT_OP_BATCH_NORM_TRAIN:
	case FT_OP_BATCH_NORM_APPLY:
	case FT_OP_BATCH_NORM_GRAD:
	case FT_OP_LAYER_NORM:
	case FT_OP_LAYER_NORM_GRAD:
		*scratch = ft_cpu_norm_scratch(g, n);
		return FT_OK;
	case FT_OP_MATMUL:
	case FT_OP_MATMUL_T:
	case FT_OP_GEMM:
		*scratch = ft_cpu_matmul_scratch(g, n);
		return FT_OK;
	default:
		return FT_OK;
	}
}

static void cpu_set_workspace(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	ft_cpu_set_workspace(p, bytes);
}

/* 1 MiB per thread and 1 MiB once: over twice what tests/test_memplan.c measures */
static size_t cpu_call_overhead(void *ctx)
{
	(void)ctx;
	int threads = 1;
#ifdef _OPENMP
	threads = omp_get_max_threads();
#endif
	return (size_t)(threads + 1) << 20;
}

static void cpu_release_node(void *ctx, ft_node *n)
{
	(void)ctx;
	ft_cpu_release(n);
}

static void cpu_sync(void *ctx)
{
	(void)ctx;
}

static void cpu_destroy(void *ctx)
{
	(void)ctx;
}

static const ft_backend_iface cpu_iface = {
	.name = "cpu",
	.call_overhead = cpu_call_overhead,
	.supports_op = cpu_supports_op,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_copy,
	.download = cpu_copy,
	.run_node = cpu_run_node,
	.prepare_node = cpu_prepare_node,
	.set_workspace = cpu_set_workspace,
	.release_node = cpu_release_node,
	.sync = cpu_sync,
	.destroy = cpu_destroy,
};

ft_backend ft_backend_cpu_new(int threads)
{
	ft_set_threads(threads);
	return (ft_backend){ &cpu_iface, NULL };
}

/*
 * The CPU kernels behind a device boundary ("--device devsim"): the executor
 * treats it as a device (constants uploaded into memory of its own), and that
 * memory is mapped PROT_NONE except while nodes run (set_workspace opens it at
 * the start of a run, sync closes it) and inside upload/download. Host code
 * that reads or writes a tensor's memory directly, as it may on the CPU and
 * must not on a GPU, faults here at once; results must equal the CPU
 * backend's bit for bit (tests/devsim.sh).
 */
typedef struct devsim_region {
	void *p;
	size_t len;
} devsim_region;

/* a recorded node (the CUDA graphs of exec.c, simulated) and the data pointers it saw */
typedef struct devsim_step {
	const ft_graph *g;
	ft_node *n;
	void **ptr; /* n_in + n_out of them */
} devsim_step;

typedef struct devsim_rec {
	devsim_step *s;
	int n, cap;
} devsim_rec;

typedef struct devsim {
	devsim_region *r;
	int n, cap;
	bool open;
	devsim_rec *recording; /* capture_begin..capture_end: nodes are recorded, not run */
	size_t held, peak;     /* bytes mapped by devsim_alloc now, and at most */
} devsim;

static void devsim_protect(devsim *d, bool open)
{
	for (int i = 0; i < d->n; i++)
		if (mprotect(d->r[i].p, d->r[i].len, open ? PROT_READ | PROT_WRITE : PROT_NONE) != 0)
			ft_fatal(__FILE__, __LINE__, "devsim: mprotect failed");
	d->open = open;
}

static void *devsim_alloc(void *ctx, size_t bytes)
{
	devsim *d = ctx;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), len = (bytes + page - 1) / page * page;
	void *p = mmap(NULL, len ? len : page, d->open ? PROT_READ | PROT_WRITE : PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		ft_fatal(__FILE__, __LINE__, "devsim: mmap of %zu bytes failed", bytes);
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->r = ft_xrealloc(d->r, sizeof(*d->r) * (size_t)d->cap);
	}
	d->r[d->n++] = (devsim_region){ p, len ? len : page };
	d->held += len ? len : page;
	d->peak = d->held > d->peak ? d->held : d->peak;
	return p;
}

static void devsim_free(void *ctx, void *p)
{
	devsim *d = ctx;
	for (int i = 0; i < d->n; i++)
		if (d->r[i].p == p) {
			munmap(p, d->r[i].len);
			d->held -= d->r[i].len;
			d->r[i] = d->r[--d->n];
			return;
		}
}

static void devsim_copy(void *ctx, void *dst, const void *src, size_t bytes)
{
	devsim *d = ctx;
	bool was = d->open;
	devsim_protect(d, true);
	if (bytes)
		memcpy(dst, src, bytes);
	devsim_protect(d, was);
}

static void devsim_memory(void *ctx, size_t *peak, size_t *used)
{
	const devsim *d = ctx;
	*peak = d->peak;
	*used = d->held; /* (nothing else allocates the simulated device's memory) */
}

static bool devsim_owns(void *ctx, const void *p)
{
	const devsim *d = ctx;
	for (int i = 0; i < d->n; i++)
		if ((const char *)p >= (const char *)d->r[i].p && (const char *)p < (const char *)d->r[i].p + d->r[i].len)
			return true;
	return false;
}

/* devsim's copy "stream" is the host: the copy is done when copy_ahead returns */
static void devsim_copy_wait(void *ctx)
{
	(void)ctx;
}

static void devsim_set_workspace(void *ctx, void *p, size_t bytes)
{
	if (p) /* a run starts */
		devsim_protect(ctx, true);
	ft_cpu_set_workspace(p, bytes);
}

static void devsim_sync(void *ctx)
{
	devsim_protect(ctx, false);
}

static void devsim_destroy(void *ctx)
{
	devsim *d = ctx;
	for (int i = 0; i < d->n; i++)
		munmap(d->r[i].p, d->r[i].len);
	free(d->r);
	free(d);
}

/*
 * Recordings, as CUDA graphs behave: the nodes run nothing while recorded; a replay
 * runs them, and a recording is bound to the memory it saw, so a replay with any
 * of a node's tensors elsewhere (exec.c keyed it wrongly) ends the process.
 */
static void **step_ptrs(const ft_graph *g, const ft_node *n)
{
	void **ptr = ft_xmalloc(sizeof(void *) * ((size_t)(n->n_in + n->n_out) + 1));
	int k = 0;
	for (int j = 0; j < n->n_in; j++)
		ptr[k++] = n->in[j] >= 0 ? g->tensors[n->in[j]].data : NULL;
	for (int j = 0; j < n->n_out; j++)
		ptr[k++] = n->out[j] >= 0 ? g->tensors[n->out[j]].data : NULL;
	return ptr;
}

static ft_status devsim_run_node(void *ctx, const ft_graph *g, ft_node *n)
{
	devsim *d = ctx;
	devsim_rec *r = d->recording;
	if (!r)
		return cpu_run_node(ctx, g, n);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->s = ft_xrealloc(r->s, sizeof(*r->s) * (size_t)r->cap);
	}
	r->s[r->n++] = (devsim_step){ g, n, step_ptrs(g, n) };
	return FT_OK;
}

static bool devsim_capture_begin(void *ctx)
{
	devsim *d = ctx;
	d->recording = ft_xcalloc(1, sizeof(devsim_rec));
	return true;
}

static void *devsim_capture_end(void *ctx)
{
	devsim *d = ctx;
	devsim_rec *r = d->recording;
	d->recording = NULL;
	return r;
}

static ft_status devsim_replay(void *ctx, void *recording)
{
	const devsim_rec *r = recording;
	for (int i = 0; i < r->n; i++) {
		const devsim_step *st = &r->s[i];
		void **now = step_ptrs(st->g, st->n);
		bool moved = memcmp(now, st->ptr, sizeof(void *) * (size_t)(st->n->n_in + st->n->n_out)) != 0;
		free(now);
		if (moved)
			ft_fatal(__FILE__, __LINE__, "devsim: node \"%s\" replayed with its tensors elsewhere than when it "
				 "was recorded", st->n->name ? st->n->name : "");
		FT_TRY(cpu_run_node(ctx, st->g, st->n));
	}
	return FT_OK;
}

static void devsim_drop(void *ctx, void *recording)
{
	(void)ctx;
	devsim_rec *r = recording;
	for (int i = 0; i < r->n; i++)
		free(r->s[i].ptr);
	free(r->s);
	free(r);
}

static const ft_backend_iface devsim_iface = {
	.name = "devsim",
	.call_overhead = cpu_call_overhead,
	.supports_op = cpu_supports_op,
	.alloc = devsim_alloc,
	.free = devsim_free,
	.upload = devsim_copy,
	.download = devsim_copy,
	.run_node = devsim_run_node,
	.prepare_node = cpu_prepare_node,
	.set_workspace = devsim_set_workspace,
	.release_node = cpu_release_node,
	.sync = devsim_sync,
	.destroy = devsim_destroy,
	.owns = devsim_owns,
	.memory = devsim_memory,
	.copy_ahead = devsim_copy,
	.copy_wait = devsim_copy_wait,
	.capture_begin = devsim_capture_begin,
	.capture_end = devsim_capture_end,
	.replay = devsim_replay,
	.drop = devsim_drop,
};

ft_backend ft_backend_devsim_new(int threads)
{
	ft_set_threads(threads);
	return (ft_backend){ &devsim_iface, ft_xcalloc(1, sizeof(devsim)) };
}

void ft_set_threads(int threads)
{
	ft_cpu_set_threads(threads);
}
