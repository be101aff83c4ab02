/* train.c - building and running the training graph (see train.h). */
#include "train.h"

#include <fnmatch.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amp.h"
#include "autodiff.h"
#include "import.h"
#include "layout.h"
#include "loader.h"
#include "cpu/conv.h"
#include "cpu/cpu.h"
#include "cpu/elementwise.h"


void ft_train_config_defaults(ft_train_config *c)
{
	memset(c, 0, sizeof(*c));
	c->batch = 32;
	c->grad_accum = 1;
	c->optimizer = true;
	c->opt = FT_OPT_SGD;
	c->lr = 0.1f;
	c->momentum = 0.9f;
	c->weight_decay = 0.0f;
	c->beta1 = 0.9f;
	c->beta2 = 0.999f;
	c->eps = 1e-8f;
	c->amp = FT_UNDEF;
	c->amp_init_scale = 65536.0f;
	c->amp_growth_interval = 2000;
	const char *r = getenv("FT_REMAT");
	/*
	 * Recomputing trades memory-bound passes for memory: worth it on a GPU, whose memory bounds
	 * the batch; on the CPU the passes cost up to 13% of the images/s (docs/training.md) and
	 * memory is rarely what limits, so there it is asked for (FT_REMAT=1)
	 */
	c->remat_min_bytes = FT_REMAT_AUTO;
	if (r && strcmp(r, "0") == 0)
		c->remat_min_bytes = -1;
	else if (r && strcmp(r, "1") == 0)
		c->remat_min_bytes = FT_REMAT_MIN_BYTES;
	else if (r && strcmp(r, "all") == 0)
		c->remat_min_bytes = 0;
	else if (r && *r) {
		static atomic_flag said = ATOMIC_FLAG_INIT; /* once a process, however many configurations it sets up */
		if (!atomic_flag_test_and_set(&said))
			fprintf(stderr, "ftrun: FT_REMAT=\"%s\" is not 0, 1 or all: ignored (recomputing on a GPU, not on "
				"the CPU)\n", r);
	}
}

/*
 * a persistent float32 tensor of the given shape, zeroed, owned by the graph; dims may
 * point into g->tensors (a parameter's), which the new tensor can move: copied first
 */
static int new_buffer(ft_graph *g, const char *name, int rank, const int64_t *dims)
{
	int64_t d[FT_MAX_RANK];
	FT_ASSERT(rank >= 0 && rank <= FT_MAX_RANK);
	if (rank > 0)
		memcpy(d, dims, sizeof(int64_t) * (size_t)rank);
	int id = ft_graph_new_tensor(g, name);
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, FT_F32, rank, d);
	t->kind = FT_TK_BUFFER;
	t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t)));
	return id;
}

/* while the graph is built, before the executor has the memory */
static void set_scalar(ft_graph *g, int id, float v)
{
	*(float *)g->tensors[id].data = v;
}

/* once the executor runs it: through the backend (device memory on a GPU) */
static void put_scalar(ft_trainer *t, int id, float v)
{
	ft_trainer_write(t, id, &v);
}

/* Training mode: BatchNorm on batch statistics, Dropout drawing its masks (docs/training.md). */
static ft_status to_training_mode(ft_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++) {
		ft_node *n = &g->nodes[i];
		if (n->op == FT_OP_BATCH_NORM) {
			int *out = FT_ARENA_NEW(g->arena, int, 3);
			out[0] = n->out[0];
			char name[600];
			snprintf(name, sizeof(name), "%.500s/saved_mean", n->name);
			out[1] = ft_graph_new_tensor(g, name);
			snprintf(name, sizeof(name), "%.500s/saved_invstd", n->name);
			out[2] = ft_graph_new_tensor(g, name);
			n = &g->nodes[i]; /* (no node was added; tensors may have moved) */
			n->out = out;
			n->n_out = 3;
			n->op = FT_OP_BATCH_NORM_TRAIN;
			for (int j = 1; j < 3; j++)
				g->tensors[out[j]].producer = i;
			FT_TRY(ft_op_table[n->op].infer(g, n));
		} else if (n->op == FT_OP_LAYER_NORM && (n->n_out < 3 || n->out[1] < 0 || n->out[2] < 0)) {
			/* the backward needs the saved mean and 1/std: make the optional outputs */
			int *out = FT_ARENA_NEW(g->arena, int, 3);
			for (int j = 0; j < 3; j++)
				out[j] = j < n->n_out ? n->out[j] : -1;
			const char *suffix[3] = { "", "/saved_mean", "/saved_invstd" };
			for (int j = 1; j < 3; j++) {
				if (out[j] >= 0)
					continue;
				char name[600];
				snprintf(name, sizeof(name), "%.500s%s", g->nodes[i].name, suffix[j]);
				out[j] = ft_graph_new_tensor(g, name);
				g->tensors[out[j]].producer = i;
			}
			n = &g->nodes[i];
			n->out = out;
			n->n_out = 3;
			FT_TRY(ft_op_table[n->op].infer(g, n));
		} else if (n->op == FT_OP_DROPOUT) {
			/* random in training: a constant true training_mode input; the masks are drawn
			 * from (seed, step, micro-batch), set before each micro-batch (micro_batch()) */
			const ft_tensor *r = ft_in(g, n, 1);
			if (r && !ft_tensor_is_const(r))
				return ft_node_error(g, n, FT_EUNSUPPORTED, "the dropout ratio must be a constant to train");
			int *in = FT_ARENA_NEW(g->arena, int, 3);
			for (int j = 0; j < 3; j++)
				in[j] = j < n->n_in ? n->in[j] : -1;
			char name[600];
			snprintf(name, sizeof(name), "%.500s/training_mode", n->name);
			int tm = ft_graph_new_tensor(g, name);
			ft_tensor *tt = &g->tensors[tm];
			ft_tensor_set_shape(tt, FT_BOOL, 0, NULL);
			tt->kind = FT_TK_CONST;
			tt->data = ft_graph_own(g, ft_aligned_alloc(16));
			*(uint8_t *)tt->data = 1;
			n = &g->nodes[i];
			in[2] = tm;
			n->in = in;
			n->n_in = 3;
			FT_TRY(ft_op_table[n->op].infer(g, n));
		}
	}
	return FT_OK;
}

static bool is_no_decay(const ft_tensor *p)
{
	return p->rank <= 1; /* biases and normalisation scales/shifts, as timm groups them */
}

static ft_status add_optimizer(ft_trainer *t)
{
	ft_graph *g = t->g;
	const ft_train_config *c = &t->cfg;
	int scale = -1;
	if (c->clip_grad_norm > 0) {
		/* PyTorch's clip_grad_norm_: s = min(1, max_norm / (||g|| + 1e-6)) */
		ft_node *n = ft_graph_add_node(g, FT_OP_GRAD_NORM_SQ, "ft/clip/norm_sq", t->n_params, 1);
		for (int k = 0; k < t->n_params; k++)
			n->in[k] = t->grads[k];
		n->out[0] = ft_graph_new_tensor(g, "ft/clip/norm_sq");
		n = &g->nodes[g->n_nodes - 1];
		FT_TRY(ft_op_table[n->op].infer(g, n));
		int sq = n->out[0];
		int eps = new_buffer(g, "ft/clip/eps", 0, NULL), maxn = new_buffer(g, "ft/clip/max", 0, NULL);
		int one = new_buffer(g, "ft/clip/one", 0, NULL);
		set_scalar(g, eps, 1e-6f);
		set_scalar(g, maxn, c->clip_grad_norm);
		set_scalar(g, one, 1.0f);
		struct { ft_op op; int a, b; } chain[] = {
			{ FT_OP_SQRT, sq, -1 }, { FT_OP_ADD, -2, eps }, { FT_OP_DIV, maxn, -2 }, { FT_OP_MIN, -2, one },
		};
		int prev = -1;
		for (size_t k = 0; k < FT_ARRAY_LEN(chain); k++) {
			int a = chain[k].a == -2 ? prev : chain[k].a, b = chain[k].b == -2 ? prev : chain[k].b;
			ft_node *m = ft_graph_add_node(g, chain[k].op, "ft/clip", b >= 0 ? 2 : 1, 1);
			m->in[0] = a;
			if (b >= 0)
				m->in[1] = b;
			m->out[0] = ft_graph_new_tensor(g, "ft/clip/t");
			m = &g->nodes[g->n_nodes - 1];
			FT_TRY(ft_op_table[m->op].infer(g, m));
			prev = m->out[0];
		}
		scale = prev;
	}
	t->n_opt_state = c->opt == FT_OPT_ADAMW ? 2 * t->n_params : t->n_params;
	t->opt_state = FT_ARENA_NEW(g->arena, int, t->n_opt_state + 1);
	float *wds = ft_xmalloc(sizeof(float) * ((size_t)t->n_params + 1));
	for (int k = 0; k < t->n_params; k++) {
		const ft_tensor *p = &g->tensors[t->params[k]];
		char name[600];
		int rank = p->rank;
		int64_t dims[FT_MAX_RANK];
		memcpy(dims, p->dims, sizeof(dims));
		const char *pname = p->name;
		wds[k] = (c->decay_all || !is_no_decay(p)) ? c->weight_decay : 0.0f;
		if (c->opt == FT_OPT_SGD) {
			snprintf(name, sizeof(name), "%.500s/momentum", pname);
			t->opt_state[k] = new_buffer(g, name, rank, dims);
		} else {
			snprintf(name, sizeof(name), "%.500s/exp_avg", pname);
			t->opt_state[2 * k] = new_buffer(g, name, rank, dims);
			snprintf(name, sizeof(name), "%.500s/exp_avg_sq", pname);
			t->opt_state[2 * k + 1] = new_buffer(g, name, rank, dims);
		}
	}
	/*
	 * The steps: by default one node for the parameters that share a weight decay (up to
	 * FT_MULTI_MAX each), which the CUDA backend runs as one multi-tensor kernel where it
	 * launched one a parameter (161 for ResNet-50); FT_MULTI_TENSOR=0, one node a parameter.
	 * Every parameter's arithmetic is the same either way.
	 */
	bool multi = !ft_env_off("FT_MULTI_TENSOR");
	bool *done = ft_xcalloc((size_t)t->n_params + 1, sizeof(bool));
	ft_status st = FT_OK;
	for (int k0 = 0; k0 < t->n_params && !st; k0++) {
		if (done[k0])
			continue;
		int members[FT_MULTI_MAX], count = 0;
		for (int k = k0; k < t->n_params && count < (multi ? FT_MULTI_MAX : 1); k++)
			if (!done[k] && (k == k0 || wds[k] == wds[k0])) { /* (k0 itself whatever its value) */
				members[count++] = k;
				done[k] = true;
			}
		bool sgd = c->opt == FT_OPT_SGD;
		int head = sgd ? 3 : 4, per = sgd ? 3 : 4;
		const char *pname = g->tensors[t->params[k0]].name;
		char name[600];
		if (multi) /* by optimizer, weight decay and first parameter: one name a node */
			snprintf(name, sizeof(name), "ft/opt/%s/wd=%g/from %.400s", sgd ? "sgd" : "adamw", (double)wds[k0],
				 pname);
		else
			snprintf(name, sizeof(name), "%.500s/%s", pname, sgd ? "momentum" : "exp_avg_sq");
		ft_node *n;
		if (multi) {
			n = ft_graph_add_node(g, sgd ? FT_OP_SGD_STEP_MULTI : FT_OP_ADAMW_STEP_MULTI, name,
					      head + per * count, 0);
			n->in[0] = t->lr;
			if (!sgd)
				n->in[1] = t->step_t;
			n->in[head - 2] = scale;
			n->in[head - 1] = t->found_inf;
			for (int j = 0; j < count; j++) {
				int k = members[j], *in = n->in + head + per * j;
				in[0] = t->params[k];
				in[1] = t->grads[k];
				in[2] = sgd ? t->opt_state[k] : t->opt_state[2 * k];
				if (!sgd)
					in[3] = t->opt_state[2 * k + 1];
			}
		} else if (sgd) {
			int k = k0;
			n = ft_graph_add_node(g, FT_OP_SGD_STEP, name, t->found_inf >= 0 ? 6 : scale >= 0 ? 5 : 4, 0);
			n->in[0] = t->params[k];
			n->in[1] = t->grads[k];
			n->in[2] = t->opt_state[k];
			n->in[3] = t->lr;
			if (n->n_in > 4)
				n->in[4] = scale;
			if (t->found_inf >= 0)
				n->in[5] = t->found_inf;
		} else {
			int k = k0;
			n = ft_graph_add_node(g, FT_OP_ADAMW_STEP, name, t->found_inf >= 0 ? 8 : scale >= 0 ? 7 : 6, 0);
			n->in[0] = t->params[k];
			n->in[1] = t->grads[k];
			n->in[2] = t->opt_state[2 * k];
			n->in[3] = t->opt_state[2 * k + 1];
			n->in[4] = t->lr;
			n->in[5] = t->step_t;
			if (n->n_in > 6)
				n->in[6] = scale;
			if (t->found_inf >= 0)
				n->in[7] = t->found_inf;
		}
		if (sgd) {
			ft_node_set_float(g, n, "momentum", c->momentum);
			ft_node_set_int(g, n, "nesterov", c->nesterov);
		} else {
			ft_node_set_float(g, n, "beta1", c->beta1);
			ft_node_set_float(g, n, "beta2", c->beta2);
			ft_node_set_float(g, n, "epsilon", c->eps);
		}
		ft_node_set_float(g, n, "weight_decay", wds[k0]);
		st = ft_op_table[n->op].infer(g, n);
	}
	free(done);
	free(wds);
	FT_TRY(st);
	if (t->found_inf >= 0) {
		/* GradScaler's update, after the (possibly skipped) step */
		ft_node *n = ft_graph_add_node(g, FT_OP_AMP_UPDATE_SCALE, "ft/amp/update_scale", 3, 0);
		n->in[0] = t->amp_scale;
		n->in[1] = t->amp_growth;
		n->in[2] = t->found_inf;
		ft_node_set_int(g, n, "growth_interval", c->amp_growth_interval);
		FT_TRY(ft_op_table[n->op].infer(g, n));
	}
	return FT_OK;
}

/* fp16: the loss scaled by the scale (dLoss = scale / K), unscaled with the inf check after the backward */
static ft_status add_unscale(ft_trainer *t)
{
	ft_graph *g = t->g;
	t->unscale = g->n_nodes;
	ft_node *n = ft_graph_add_node(g, FT_OP_AMP_UNSCALE, "ft/amp/unscale", 1 + t->n_params, 1);
	n->in[0] = t->amp_scale;
	for (int k = 0; k < t->n_params; k++)
		n->in[1 + k] = t->grads[k];
	n->out[0] = ft_graph_new_tensor(g, "ft/amp/found_inf");
	n = &g->nodes[g->n_nodes - 1];
	t->found_inf = n->out[0];
	return ft_op_table[n->op].infer(g, n);
}

/*
 * Moves each GRAD_ACCUM node (added after the whole backward) to just after the
 * node that makes the gradient it adds. The raw gradient then dies at once
 * instead of living to the end of the backward, and the accumulated one is
 * final as early as it can be, which is when a data-parallel run sends it
 * (ft_trainer_grad_ready).
 */
static void accumulate_early(ft_graph *g, int end)
{
	int *after = ft_xmalloc(sizeof(int) * ((size_t)end + 1)); /* per node: the first accumulation to follow it */
	int *next = ft_xmalloc(sizeof(int) * ((size_t)end + 1));  /* per accumulation: the next after the same node */
	int *last = ft_xmalloc(sizeof(int) * ((size_t)end + 1));
	for (int i = 0; i < end; i++)
		after[i] = next[i] = last[i] = -1;
	bool moves = false;
	for (int i = 0; i < end; i++) {
		const ft_node *n = &g->nodes[i];
		int p = n->op == FT_OP_GRAD_ACCUM ? g->tensors[n->in[1]].producer : -1;
		if (p < 0 || p >= i)
			continue;
		if (last[p] < 0)
			after[p] = i;
		else
			next[last[p]] = i;
		last[p] = i;
		moves = true;
	}
	if (moves) {
		ft_node *order = ft_xmalloc(sizeof(ft_node) * ((size_t)end + 1));
		bool *placed = ft_xcalloc((size_t)end + 1, sizeof(bool));
		int k = 0;
		for (int i = 0; i < end; i++)
			if (after[i] >= 0)
				for (int a = after[i]; a >= 0; a = next[a])
					placed[a] = true;
		for (int i = 0; i < end; i++) {
			if (placed[i])
				continue;
			order[k++] = g->nodes[i];
			for (int a = after[i]; a >= 0; a = next[a])
				order[k++] = g->nodes[a];
		}
		FT_ASSERT(k == end);
		ft_graph_set_order(g, order, end);
		free(placed);
		free(order);
	}
	free(last);
	free(next);
	free(after);
}

/*
 * Moves the nodes of [0, end) that read only persistent tensors (or what such
 * nodes make) to the front, keeping their order: they are the same for every
 * micro-batch of a step (the casts of the weights under AMP), so they run once
 * per step. Returns their count; the plan keeps their outputs for the loop.
 */
static int hoist_invariants(ft_graph *g, int end)
{
	bool *inv = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(bool));
	bool *moved = ft_xcalloc((size_t)end + 1, sizeof(bool));
	ft_graph_invariants(g, end, inv, moved);
	int n_pro = 0;
	for (int i = 0; i < end; i++)
		n_pro += moved[i];
	ft_node *order = ft_xmalloc(sizeof(ft_node) * ((size_t)end + 1));
	int k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < end; i++)
			if (moved[i] == (pass == 0))
				order[k++] = g->nodes[i];
	ft_graph_set_order(g, order, end);
	free(order);
	free(moved);
	free(inv);
	return n_pro;
}

/*
 * A ReLU that alone reads a training BatchNorm's output becomes part of the BatchNorm
 * (ft_relu = 1): its forward writes max(y, 0) in the same pass, and its backward masks dy
 * where that output is not positive, as ReluGrad did, in the passes it makes anyway. Two
 * passes over the activation fewer each way (ResNet-50: 33 of its 49 ReLUs); the values are
 * the pair's, but for the sign of a zero in float16 or bfloat16 (a value under the type's
 * smallest subnormal: the pair rounds it to -0 before the ReLU, which keeps -0; the fused op
 * writes +0); the gradients' mask treats both alike. FT_FUSE_BN_RELU=0 keeps the pair.
 */
static ft_status fuse_bn_relu(ft_graph *g)
{
	if (ft_env_off("FT_FUSE_BN_RELU"))
		return FT_OK;
	int *uses = ft_graph_count_uses(g);
	bool *drop = ft_xcalloc((size_t)g->n_nodes + 1, sizeof(bool));
	bool any = false;
	for (int i = 0; i < g->n_nodes; i++) {
		ft_node *r = &g->nodes[i];
		int x = r->op == FT_OP_RELU ? r->in[0] : -1;
		int p = x >= 0 ? g->tensors[x].producer : -1;
		if (p < 0 || uses[x] != 1 || g->nodes[p].op != FT_OP_BATCH_NORM_TRAIN || g->nodes[p].out[0] != x)
			continue;
		ft_node_set_int(g, &g->nodes[p], "ft_relu", 1);
		g->nodes[p].out[0] = r->out[0];
		drop[i] = any = true;
	}
	/* the order stays (a BatchNorm comes before its ReLU's readers); the producers follow it */
	int w = 0;
	for (int i = 0; i < g->n_nodes; i++)
		if (!drop[i])
			g->nodes[w++] = g->nodes[i];
	g->n_nodes = w;
	if (any)
		ft_graph_set_producers(g);
	free(drop);
	free(uses);
	return FT_OK;
}

/*
 * --freeze: the parameters whose names match one of the globs (fnmatch(3) on
 * PyTorch's module paths, "features.*") and none of the globs written "!GLOB"
 * become constants, as requires_grad=False makes them in PyTorch: no gradient,
 * no optimizer state, not in the checkpoint, exported unchanged (a BatchNorm's
 * running statistics in a frozen part still update). A glob that matches no
 * parameter is refused (a typo would train everything), as is freezing all.
 */
enum { MAX_GLOBS = 64 };

static bool any_match(char *const *globs, int n, const char *name)
{
	for (int k = 0; k < n; k++)
		if (fnmatch(globs[k], name, 0) == 0)
			return true;
	return false;
}

static ft_status freeze(ft_graph *g, const char *list, int *n_frozen)
{
	char *buf = ft_xmalloc(strlen(list) + 1), *save = NULL;
	strcpy(buf, list);
	char *pos[MAX_GLOBS], *neg[MAX_GLOBS];
	int n_pos = 0, n_neg = 0, n_params = 0;
	ft_status st = FT_OK;
	for (char *tok = strtok_r(buf, ",", &save); tok && !st; tok = strtok_r(NULL, ",", &save)) {
		bool negative = tok[0] == '!';
		if ((negative ? n_neg : n_pos) == MAX_GLOBS)
			st = ft_error(FT_EBADINPUT, "--freeze %s: at most %d globs of each kind", list, MAX_GLOBS);
		else if (negative && tok[1])
			neg[n_neg++] = tok + 1;
		else if (!negative)
			pos[n_pos++] = tok;
	}
	const char *first = NULL;
	for (int i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].kind == FT_TK_PARAM) {
			n_params++;
			first = first ? first : g->tensors[i].name;
		}
	for (int k = 0; k < n_pos + n_neg && !st; k++) {
		const char *glob = k < n_pos ? pos[k] : neg[k - n_pos];
		bool hit = false;
		for (int i = 0; i < g->n_tensors && !hit; i++)
			hit = g->tensors[i].kind == FT_TK_PARAM && fnmatch(glob, g->tensors[i].name, 0) == 0;
		if (!hit)
			st = ft_error(FT_EBADINPUT, "--freeze: \"%s\" matches none of the model's %d parameters (names "
				      "such as \"%s\"; ftrun inspect MODEL --params lists them)", glob, n_params,
				      first ? first : "?");
	}
	if (!st && n_pos == 0)
		st = ft_error(FT_EBADINPUT, "--freeze %s: no glob of parameters to freeze", list);
	int frozen = 0;
	for (int i = 0; i < g->n_tensors && !st; i++) {
		ft_tensor *t = &g->tensors[i];
		if (t->kind == FT_TK_PARAM && any_match(pos, n_pos, t->name) && !any_match(neg, n_neg, t->name)) {
			t->kind = FT_TK_CONST;
			frozen++;
		}
	}
	if (!st && frozen == n_params)
		st = ft_error(FT_EBADINPUT, "--freeze %s freezes all %d parameters: nothing would train", list, n_params);
	free(buf);
	*n_frozen = frozen;
	return st;
}

static ft_status build(ft_trainer *t, const char *path)
{
	const ft_train_config *c = &t->cfg;
	if (c->grad_accum < 1)
		return ft_error(FT_EBADINPUT, "--grad-accum-steps must be at least 1");
	FT_TRY(ft_import_file(path, &t->g));
	ft_graph *g = t->g;
	if (c->freeze)
		FT_TRY(freeze(g, c->freeze, &t->n_frozen));
	if (g->n_inputs != 1)
		return ft_error(FT_EUNSUPPORTED, "%s: training needs a model with one input (the images); it has %d",
				path, g->n_inputs);
	FT_TRY(ft_graph_specialise(g, c->batch, NULL, 0));
	t->input = g->inputs[0];
	if (!ft_dtype_is_float(g->tensors[t->input].dtype))
		return ft_error(FT_EUNSUPPORTED, "%s: the input \"%s\" is %s; training needs float images", path,
				g->tensors[t->input].name, ft_dtype_name(g->tensors[t->input].dtype));
	if (c->input_u8)
		FT_TRY(ft_graph_input_u8(g, 0, c->mean, c->std));
	t->input = g->inputs[0];
	FT_TRY(to_training_mode(g));
	FT_TRY(fuse_bn_relu(g));
	t->unscale = t->amp_scale = t->amp_growth = t->found_inf = -1;
	if (c->amp == FT_F16 || c->amp == FT_BF16)
		FT_TRY(ft_amp_pass(g, c->amp));
	/*
	 * FT_CHANNELS_LAST=1: the convolutions channels last (layout.c), on any backend (the CPU's
	 * is a reference that transposes around its NCHW kernels). Opt-in until measured on a GPU.
	 */
	if (ft_env_on("FT_CHANNELS_LAST"))
		FT_TRY(ft_layout_pass(g, &t->n_channels_last));

	/* the loss on the first output */
	t->logits = g->outputs[0];
	t->labels = ft_graph_new_tensor(g, "ft/labels");
	{
		int64_t dims[1] = { c->batch };
		ft_tensor *lt = &g->tensors[t->labels];
		ft_tensor_set_shape(lt, FT_I64, 1, dims);
		lt->kind = FT_TK_INPUT;
		int *inputs = FT_ARENA_NEW(g->arena, int, g->n_inputs + 1);
		memcpy(inputs, g->inputs, sizeof(int) * (size_t)g->n_inputs);
		inputs[g->n_inputs++] = t->labels;
		g->inputs = inputs;
	}
	ft_node *n = ft_graph_add_node(g, FT_OP_SOFTMAX_CROSS_ENTROPY, "ft/loss", 2, 2);
	n->in[0] = t->logits;
	n->in[1] = t->labels;
	n->out[0] = ft_graph_new_tensor(g, "ft/loss");
	n->out[1] = ft_graph_new_tensor(g, "ft/loss/probs");
	n = &g->nodes[g->n_nodes - 1];
	ft_node_set_float(g, n, "label_smoothing", c->label_smoothing);
	FT_TRY(ft_op_table[n->op].infer(g, n));
	t->loss = n->out[0];

	/* parameters and state */
	t->params = FT_ARENA_NEW(g->arena, int, g->n_tensors);
	t->state = FT_ARENA_NEW(g->arena, int, g->n_tensors);
	for (int i = 0; i < g->n_tensors; i++) {
		if (g->tensors[i].kind == FT_TK_PARAM && g->tensors[i].dtype == FT_F32)
			t->params[t->n_params++] = i;
		else if (g->tensors[i].kind == FT_TK_STATE)
			t->state[t->n_state++] = i;
	}
	t->seed = new_buffer(g, "ft/dloss", 0, NULL);
	t->first = new_buffer(g, "ft/first_micro_batch", 0, NULL);
	t->lr = new_buffer(g, "ft/lr", 0, NULL);
	t->step_t = new_buffer(g, "ft/step", 0, NULL);
	set_scalar(g, t->seed, 1.0f / (float)c->grad_accum);
	int dloss = t->seed;
	if (c->amp == FT_F16) {
		t->amp_scale = new_buffer(g, "ft/amp/scale", 0, NULL);
		t->amp_growth = new_buffer(g, "ft/amp/growth_tracker", 0, NULL);
		set_scalar(g, t->amp_scale, c->amp_init_scale);
		ft_node *m = ft_graph_add_node(g, FT_OP_MUL, "ft/amp/scaled_dloss", 2, 1);
		m->in[0] = t->seed;
		m->in[1] = t->amp_scale;
		m->out[0] = ft_graph_new_tensor(g, "ft/amp/scaled_dloss");
		m = &g->nodes[g->n_nodes - 1];
		FT_TRY(ft_op_table[m->op].infer(g, m));
		dloss = m->out[0];
	}

	int *raw = ft_xmalloc(sizeof(int) * ((size_t)t->n_params + 1));
	int n_fwd = g->n_nodes;
	ft_status st = ft_autodiff_build(g, 1, &t->loss, &dloss, t->params, t->n_params, raw);
	int64_t remat = c->remat_min_bytes;
	if (remat == FT_REMAT_AUTO)
		remat = ft_device_is_gpu(c->device) ? FT_REMAT_MIN_BYTES : -1;
	if (!st && remat >= 0)
		st = ft_remat_pass(g, n_fwd, g->n_nodes, (size_t)remat, &t->n_remat);
	if (st) {
		free(raw);
		return st;
	}
	/* parameters the loss does not reach get no gradient and are not trained */
	int kept = 0;
	t->grads = FT_ARENA_NEW(g->arena, int, t->n_params + 1);
	for (int k = 0; k < t->n_params; k++) {
		if (raw[k] < 0)
			continue;
		t->params[kept] = t->params[k];
		t->grads[kept++] = raw[k];
	}
	t->n_params = kept;
	free(raw);
	if (c->grad_accum > 1) {
		for (int k = 0; k < t->n_params; k++) {
			const ft_tensor *p = &g->tensors[t->params[k]];
			char name[600];
			snprintf(name, sizeof(name), "%.500s/grad_accum", p->name);
			int acc = new_buffer(g, name, p->rank, p->dims);
			ft_node *m = ft_graph_add_node(g, FT_OP_GRAD_ACCUM, name, 3, 0);
			m->in[0] = acc;
			m->in[1] = t->grads[k];
			m->in[2] = t->first;
			t->grads[k] = acc;
		}
	}
	/* keep the loss and, without accumulation, the gradients alive to the end */
	int n_out = 0;
	int *outs = FT_ARENA_NEW(g->arena, int, t->n_params + 2);
	outs[n_out++] = t->loss;
	if (c->grad_accum == 1)
		for (int k = 0; k < t->n_params; k++)
			outs[n_out++] = t->grads[k];
	g->outputs = outs;
	g->n_outputs = n_out;
	t->n_micro = g->n_nodes;
	accumulate_early(g, t->n_micro);
	if (c->sync_bn)
		for (int i = 0; i < t->n_micro; i++)
			if (g->nodes[i].op == FT_OP_BATCH_NORM_TRAIN || g->nodes[i].op == FT_OP_BATCH_NORM_GRAD)
				ft_node_set_int(g, &g->nodes[i], "ft_sync_stats", 1);
	t->n_pro = hoist_invariants(g, t->n_micro);
	g->loop_begin = t->n_pro;
	g->loop_end = t->n_micro;
	if (c->amp == FT_F16)
		FT_TRY(add_unscale(t));
	if (c->optimizer)
		FT_TRY(add_optimizer(t));
	FT_TRY(ft_pick_backend(c->device, c->threads, g, &t->be));
	if (t->be.iface->copy_ahead) {
		/*
		 * The input in two buffers of the backend's, outside the plan (a tensor with
		 * data is not planned; the executor binds backend memory as it is): one read by
		 * the running micro-batch, the other taking the next one's copy. A plan alone
		 * marks it with a placeholder and counts both (ft_trainer_planned_bytes).
		 */
		ft_tensor *xt = &g->tensors[t->input];
		if (c->plan_only) {
			xt->data = &t->in_cur;
		} else {
			for (int k = 0; k < 2; k++)
				t->in_buf[k] = t->be.iface->alloc(t->be.ctx, ft_tensor_bytes(xt));
			xt->data = t->in_buf[0];
		}
	}
	if (c->sync_bn && strcmp(t->be.iface->name, "cpu") != 0 && strcmp(t->be.iface->name, "devsim") != 0)
		return ft_error(FT_EUNSUPPORTED, "--sync-bn runs on the CPU backend (and devsim) only: on %s it needs "
				"the statistics all-reduced on the device, which is not written yet", t->be.iface->name);
	return c->plan_only ? ft_exec_plan_only(g, t->be, &t->x) : ft_exec_new(g, t->be, &t->x);
}

ft_status ft_trainer_new(const char *model_path, const ft_train_config *cfg, ft_trainer **out)
{
	ft_trainer *t = ft_xcalloc(1, sizeof(*t));
	t->cfg = *cfg;
	ft_status st = build(t, model_path);
	if (st) {
		ft_trainer_free(t);
		*out = NULL;
		return st;
	}
	*out = t;
	return FT_OK;
}

void ft_trainer_free(ft_trainer *t)
{
	if (!t)
		return;
	ft_exec_free(t->x);
	for (int k = 0; k < 2; k++)
		if (t->in_buf[k])
			t->be.iface->free(t->be.ctx, t->in_buf[k]);
	if (t->be.iface && t->be.iface->destroy)
		t->be.iface->destroy(t->be.ctx);
	ft_graph_free(t->g);
	free(t);
}

static bool all_finite(ft_trainer *tr, const ft_tensor *t)
{
	if (t->dtype != FT_F32 || !t->data)
		return true;
	float *v = ft_xmalloc(sizeof(float) * (size_t)t->numel + 1);
	tr->be.iface->download(tr->be.ctx, v, t->data, ft_tensor_bytes(t));
	bool ok = true;
	for (int64_t i = 0; i < t->numel && ok; i++)
		ok = isfinite(v[i]);
	free(v);
	return ok;
}

/*
 * The loss is not finite: run the micro-batch again one node at a time (the
 * plan reuses memory, so values must be checked as they are made) and name
 * the first node whose output holds a NaN or an infinity.
 */
static ft_status first_nonfinite_nodes(ft_trainer *t, float loss)
{
	ft_graph *g = t->g;
	FT_TRY(ft_exec_run_range(t->x, 0, t->n_pro));
	for (int i = t->n_pro; i < t->n_micro; i++) {
		ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_in; j++) {
			const ft_tensor *in = ft_in(g, n, j);
			if (in && in->kind == FT_TK_PARAM && !all_finite(t, in))
				return ft_error(FT_ERUNTIME,
						"the loss is %g at step %lld: parameter \"%s\" of node \"%s\" (%s) is no "
						"longer finite after the previous update; lower the learning rate or clip "
						"gradients (--clip-grad-norm)", loss, (long long)t->step + 1, in->name, n->name,
						ft_op_table[n->op].name);
		}
		FT_TRY(ft_exec_run_range(t->x, i, i + 1));
		for (int j = 0; j < n->n_out; j++) {
			const ft_tensor *o = ft_out(g, n, j);
			if (o && !all_finite(t, o))
				return ft_error(FT_ERUNTIME,
						"the loss is %g at step %lld: the first non-finite value comes from node "
						"\"%s\" (%s), output \"%s\"; lower the learning rate or check the data",
						loss, (long long)t->step + 1, n->name,
						ft_op_table[n->op].name, o->name);
		}
	}
	return ft_error(FT_ERUNTIME, "the loss is %g at step %lld (not finite)", loss, (long long)t->step + 1);
}

static ft_status first_nonfinite(ft_trainer *t, float loss)
{
	/* the search runs on this rank alone: --sync-bn's all-reduces would wait for the others */
	ft_cpu_pause_stats_allreduce(true);
	ft_status st = first_nonfinite_nodes(t, loss);
	ft_cpu_pause_stats_allreduce(false);
	return st;
}

static void after_node(void *ctx, int node)
{
	ft_trainer *t = ctx;
	t->after_node(t->reduce_ctx, t, node);
}

/* a micro-batch's images into the input: copied ahead into the other buffer already, or uploaded now */
static ft_status put_input(ft_trainer *t, const void *images)
{
	ft_tensor *x = &t->g->tensors[t->input];
	size_t bytes = ft_tensor_bytes(x);
	if (t->ahead && t->ahead == images) {
		t->in_cur ^= 1;
		x->data = t->in_buf[t->in_cur];
		t->be.iface->copy_wait(t->be.ctx); /* the nodes queued from here on wait for the copy */
	} else {
		double t0 = ft_now_s();
		FT_TRY(ft_exec_set_input(t->x, 0, images, bytes));
		t->input_seconds += ft_now_s() - t0;
	}
	t->ahead = NULL;
	t->input_bytes += (int64_t)bytes;
	return FT_OK;
}

/* next: the images to copy ahead while this micro-batch computes (NULL: none) */
static ft_status micro_batch(ft_trainer *t, const void *images, const int64_t *labels, bool first, bool last,
			     const void *next, float *loss)
{
	ft_graph *g = t->g;
	/* dropout masks: a pure function of (seed, step, micro-batch), so a resumed run draws
	 * the masks an uninterrupted one would */
	t->micro = first ? 0 : t->micro + 1;
	ft_cpu_dropout_seed(t->cfg.seed * 0x9e3779b97f4a7c15ull ^ ((uint64_t)t->step << 20) ^ (uint64_t)t->micro);
	put_scalar(t, t->first, first ? 1.0f : 0.0f);
	const ft_tensor *x = &g->tensors[t->input];
	for (int64_t i = 0; i < t->cfg.batch; i++) {
		int64_t classes = g->tensors[t->logits].dims[1];
		if (labels[i] < 0 || labels[i] >= classes)
			return ft_error(FT_EBADINPUT, "label %lld (batch index %lld) is out of range for a model with "
					"%lld classes", (long long)labels[i], (long long)i, (long long)classes);
	}
	FT_TRY(put_input(t, images));
	FT_TRY(ft_exec_set_input(t->x, 1, labels, sizeof(int64_t) * (size_t)t->cfg.batch));
	/*
	 * The next micro-batch's images, while this one computes, into the buffer the previous
	 * micro-batch read: it is done (every node range ends with the backend's sync), and this
	 * one reads the other.
	 */
	if (next && t->in_buf[0]) {
		double t0 = ft_now_s(); /* (a synchronous copy's time; a GPU's is its events', added at a sync) */
		t->be.iface->copy_ahead(t->be.ctx, t->in_buf[t->in_cur ^ 1], next, ft_tensor_bytes(x));
		t->input_seconds += ft_now_s() - t0;
		t->ahead = next;
	}
	bool hook = last && t->after_node;
	FT_TRY(ft_exec_run_range_hook(t->x, t->n_pro, t->n_micro, hook ? after_node : NULL, t));
	FT_TRY(ft_trainer_read(t, t->loss, loss));
	/* fp16: an overflow is the loss scaler's to handle (the step is skipped) */
	if (!isfinite(*loss) && t->found_inf < 0)
		return first_nonfinite(t, *loss);
	return FT_OK;
}

ft_status ft_trainer_grad(ft_trainer *t, const void *images, const int64_t *labels, float *loss)
{
	FT_TRY(ft_exec_run_range(t->x, 0, t->n_pro));
	FT_TRY(micro_batch(t, images, labels, true, false, NULL, loss));
	if (t->unscale >= 0) /* fp16: the gradients of the loss, not of the scaled loss */
		FT_TRY(ft_exec_run_range(t->x, t->unscale, t->unscale + 1));
	return FT_OK;
}

bool ft_trainer_copies_ahead(const ft_trainer *t)
{
	return t->in_buf[0] != NULL;
}

ft_status ft_trainer_step(ft_trainer *t, const void *images, const int64_t *labels, float lr, float *loss)
{
	return ft_trainer_step_ahead(t, images, labels, lr, NULL, loss);
}

ft_status ft_trainer_step_ahead(ft_trainer *t, const void *images, const int64_t *labels, float lr, const void *next,
				float *loss)
{
	size_t bytes = ft_tensor_bytes(&t->g->tensors[t->input]);
	int K = t->cfg.grad_accum;
	double sum = 0;
	FT_TRY(ft_exec_run_range(t->x, 0, t->n_pro)); /* once per step: the low-precision weights */
	for (int k = 0; k < K; k++) {
		float l;
		const char *mine = (const char *)images + (size_t)k * bytes;
		FT_TRY(micro_batch(t, mine, labels + (size_t)k * (size_t)t->cfg.batch, k == 0, k == K - 1,
				   k + 1 < K ? mine + bytes : next, &l));
		sum += l;
	}
	float mean = (float)(sum / t->cfg.grad_accum);
	if (t->reduce)
		FT_TRY(t->reduce(t->reduce_ctx, t, &mean));
	t->step++;
	put_scalar(t, t->lr, lr);
	/* AdamW's t counts the steps applied: a skipped fp16 step does not count */
	float applied;
	FT_TRY(ft_trainer_read(t, t->step_t, &applied));
	put_scalar(t, t->step_t, applied + 1);
	FT_TRY(ft_exec_run_range(t->x, t->n_micro, t->g->n_nodes));
	if (t->found_inf >= 0) {
		float inf;
		FT_TRY(ft_trainer_read(t, t->found_inf, &inf));
		if (inf != 0.0f) {
			put_scalar(t, t->step_t, applied);
			t->skipped++;
		}
	}
	ft_trainer_params_changed(t);
	*loss = mean;
	return FT_OK;
}

void ft_trainer_params_changed(ft_trainer *t)
{
	(void)t;
	ft_cpu_conv_params_changed(); /* cached reordered conv weights are stale */
}

ft_status ft_trainer_read(ft_trainer *t, int id, void *host)
{
	const ft_tensor *tt = &t->g->tensors[id];
	t->be.iface->download(t->be.ctx, host, tt->data, ft_tensor_bytes(tt));
	return FT_OK;
}

void ft_trainer_write(ft_trainer *t, int id, const void *host)
{
	const ft_tensor *tt = &t->g->tensors[id];
	t->be.iface->upload(t->be.ctx, tt->data, host, ft_tensor_bytes(tt));
}

void ft_trainer_host_view(ft_trainer *t, bool host)
{
	ft_exec_host_view(t->x, host);
}

ft_status ft_trainer_eval_graph(const ft_trainer *t, int64_t batch, ft_graph **out)
{
	ft_graph *g;
	*out = NULL;
	FT_TRY(ft_import_file(t->g->path, &g));
	ft_status st = ft_graph_specialise(g, batch, NULL, 0);
	if (st == FT_OK && t->cfg.input_u8)
		st = ft_graph_input_u8(g, 0, t->cfg.mean, t->cfg.std);
	if (st) {
		ft_graph_free(g);
		return st;
	}
	/* the trained values, by name: the inference graph reads the trainer's memory */
	for (int i = 0; i < g->n_tensors; i++) {
		ft_tensor *dst = &g->tensors[i];
		if (dst->kind != FT_TK_PARAM && dst->kind != FT_TK_STATE)
			continue;
		int id = ft_graph_find(t->g, dst->name);
		if (id >= 0 && ft_tensor_bytes(&t->g->tensors[id]) == ft_tensor_bytes(dst))
			dst->data = t->g->tensors[id].data;
	}
	*out = g;
	return FT_OK;
}

void ft_trainer_grad_ready(const ft_trainer *t, int *ready)
{
	const ft_graph *g = t->g;
	int *param_of = ft_xmalloc(sizeof(int) * ((size_t)g->n_tensors + 1));
	for (int i = 0; i < g->n_tensors; i++)
		param_of[i] = -1;
	for (int k = 0; k < t->n_params; k++) {
		param_of[t->grads[k]] = k;
		ready[k] = t->n_pro; /* (made before the micro-batch range: ready after its first node) */
	}
	for (int i = t->n_pro; i < t->n_micro; i++) {
		const ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_out; j++)
			if (n->out[j] >= 0 && param_of[n->out[j]] >= 0)
				ready[param_of[n->out[j]]] = i;
		if (n->op == FT_OP_GRAD_ACCUM && param_of[n->in[0]] >= 0) /* adds into its input 0 */
			ready[param_of[n->in[0]]] = i;
	}
	free(param_of);
}

double ft_trainer_copy_seconds(const ft_trainer *t)
{
	const ft_backend_iface *be = t->be.iface;
	return t->input_seconds + (be->async_upload_seconds ? be->async_upload_seconds(t->be.ctx) : 0);
}

size_t ft_trainer_planned_bytes(const ft_trainer *t, ft_plan_summary *s)
{
	size_t total = ft_exec_planned_bytes(t->x, s);
	if (t->be.iface->copy_ahead) { /* the input's two buffers (build), outside the plan */
		size_t two = 2 * ft_align64(ft_tensor_bytes(&t->g->tensors[t->input]));
		s->activations += two;
		total += two;
	}
	return total;
}

ft_status ft_trainer_plan(const char *model_path, const ft_train_config *cfg, size_t *planned)
{
	ft_train_config c = *cfg;
	c.plan_only = true;
	ft_trainer *t;
	FT_TRY(ft_trainer_new(model_path, &c, &t));
	ft_plan_summary s;
	*planned = ft_trainer_planned_bytes(t, &s);
	ft_trainer_free(t);
	return FT_OK;
}

ft_status ft_trainer_fit_batch(const char *model_path, const ft_train_config *cfg, int64_t global, size_t max_bytes,
			       ft_batch_fit *fit)
{
	memset(fit, 0, sizeof(*fit));
	if (global < 1 || global > (1 << 24))
		return ft_error(FT_EBADINPUT, "--global-batch %lld: use 1 to %d", (long long)global, 1 << 24);
	/* the divisors in ascending order; a number up to 2^24 has at most 448 */
	int64_t small[512], large[512];
	int ns = 0, nl = 0;
	for (int64_t d = 1; d <= global / d; d++)
		if (global % d == 0) {
			small[ns++] = d;
			if (d != global / d)
				large[nl++] = global / d;
		}
	int n = ns + nl;
	int64_t *div = ft_xmalloc(sizeof(int64_t) * (size_t)n);
	memcpy(div, small, sizeof(int64_t) * (size_t)ns);
	for (int k = 0; k < nl; k++)
		div[ns + k] = large[nl - 1 - k];
	size_t *plan = ft_xcalloc((size_t)n, sizeof(size_t));
	ft_status st = FT_OK;
	/*
	 * Without accumulation there are no accumulated-gradient buffers, so the
	 * whole batch in one micro-batch can plan less than half of it in two:
	 * that one is tried first, then bisection over the others, where the plan
	 * grows with the micro-batch: div[lo] fits (-1: none known), div[hi] does not.
	 */
	int whole = n - 1, lo = -1, hi = whole;
	for (int k = whole;; k = lo + (hi - lo) / 2) {
		ft_train_config c = *cfg;
		c.batch = div[k];
		c.grad_accum = (int)(global / div[k]);
		st = ft_trainer_plan(model_path, &c, &plan[k]);
		if (st)
			goto out;
		fit->probes++;
		if (plan[k] <= max_bytes)
			lo = k;
		else
			hi = k;
		if (lo == whole || hi - lo <= 1)
			break;
	}
	if (lo < 0) {
		st = ft_error(FT_EBADINPUT, "%s: no micro-batch fits --max-memory %.1f MiB: at micro-batch 1 (x %lld "
			      "accumulation steps) the step plans %.1f MiB", model_path, max_bytes / 1048576.0,
			      (long long)global, plan[0] / 1048576.0);
		goto out;
	}
	fit->micro = div[lo];
	fit->accum = global / div[lo];
	fit->planned = plan[lo];
	if (lo < whole) {
		fit->larger = div[hi];
		fit->larger_planned = plan[hi];
	}
out:
	free(plan);
	free(div);
	return st;
}
