/*
 * specialise.c - static shapes for one batch size, and constant folding.
 *
 * Exporters write classifiers with a symbolic batch dim and compute every
 * reshape target from it at run time (Shape -> Gather -> Unsqueeze -> Concat ->
 * Reshape). Once the batch is fixed, all of that is constant: walking the nodes
 * in topological order, we infer each node's output shapes and, when every input
 * is a constant, run the CPU kernel right away and turn the outputs into
 * constants. What is left is the computation proper.
 */
#include "ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Larger folded results are computed at run time instead (keeps load fast). */
enum { FOLD_MAX_BYTES = 64 << 20 };

static const ft_bind *find_bind(const ft_bind *binds, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(binds[i].name, name) == 0)
			return &binds[i];
	return NULL;
}

static ft_status bind_input(ft_graph *g, ft_tensor *t, int64_t batch, const ft_bind *b)
{
	if (b) {
		if (b->dtype != FT_UNDEF && t->dtype != FT_UNDEF && b->dtype != t->dtype)
			return ft_error(FT_EBADINPUT, "%s: input \"%s\" is %s, the value given is %s", g->path,
					t->name, ft_dtype_name(t->dtype), ft_dtype_name(b->dtype));
		if (t->shaped && t->rank != b->rank)
			return ft_error(FT_EBADINPUT, "%s: input \"%s\" has rank %d, the value given has rank %d",
					g->path, t->name, t->rank, b->rank);
		for (int i = 0; t->shaped && i < t->rank; i++)
			if (!t->dim_param[i] && t->dims[i] > 0 && t->dims[i] != b->dims[i])
				return ft_error(FT_EBADINPUT,
						"%s: input \"%s\" has dim %lld at axis %d, the value given has %lld",
						g->path, t->name, (long long)t->dims[i], i, (long long)b->dims[i]);
		ft_dtype dt = b->dtype != FT_UNDEF ? b->dtype : t->dtype;
		int64_t numel = 1;
		for (int i = 0; i < b->rank; i++)
			if (b->dims[i] < 0 || !ft_mul_ok(numel, b->dims[i], &numel))
				return ft_error(FT_EBADINPUT, "%s: input \"%s\": bad dims", g->path, t->name);
		ft_tensor_set_shape(t, dt, b->rank, b->dims);
		if (b->value) {
			size_t bytes = ft_tensor_bytes(t);
			t->data = ft_graph_own(g, ft_aligned_alloc(bytes));
			memcpy(t->data, b->value, bytes);
			t->kind = FT_TK_CONST;
		}
		return FT_OK;
	}
	if (!t->shaped)
		return ft_error(FT_EBADINPUT, "%s: input \"%s\" has no declared shape; give one", g->path, t->name);
	int64_t dims[FT_MAX_RANK];
	for (int i = 0; i < t->rank; i++) {
		dims[i] = t->dims[i];
		if (t->dim_param[i] || dims[i] <= 0) {
			if (i != 0)
				return ft_error(FT_EUNSUPPORTED,
						"%s: input \"%s\" has a symbolic dim \"%s\" at axis %d; only the batch "
						"(axis 0) may be symbolic",
						g->path, t->name, t->dim_param[i] ? t->dim_param[i] : "?", i);
			dims[i] = batch;
		}
	}
	int64_t numel = 1;
	for (int i = 0; i < t->rank; i++)
		if (!ft_mul_ok(numel, dims[i], &numel) || numel > ((int64_t)1 << 40))
			return ft_error(FT_EBADINPUT, "%s: input \"%s\": dims overflow", g->path, t->name);
	ft_tensor_set_shape(t, t->dtype, t->rank, dims);
	return FT_OK;
}

static bool foldable(const ft_graph *g, const ft_node *n)
{
	if (n->op == FT_OP_DROPOUT)
		return false; /* random in training; the identity at inference is cheap anyway */
	/* Shape reads only the (now static) dims of its input, never its data */
	for (int i = 0; i < n->n_in && n->op != FT_OP_SHAPE; i++) {
		const ft_tensor *t = ft_in(g, n, i);
		if (t && !ft_tensor_is_const(t))
			return false;
	}
	size_t bytes = 0;
	for (int i = 0; i < n->n_out; i++) {
		const ft_tensor *t = ft_out(g, n, i);
		if (t)
			bytes += ft_tensor_bytes(t);
	}
	return bytes <= FOLD_MAX_BYTES;
}

static ft_status fold(ft_graph *g, ft_node *n)
{
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *t = ft_out(g, n, i);
		if (t)
			t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t)));
	}
	FT_TRY(ft_op_table[n->op].cpu(g, n));
	for (int i = 0; i < n->n_out; i++) {
		ft_tensor *t = ft_out(g, n, i);
		if (t) {
			t->kind = FT_TK_CONST;
			t->producer = -1;
		}
	}
	return FT_OK;
}

/*
 * Mul(x, Sigmoid(x)) with the Sigmoid's output used by that Mul alone (SiLU as exporters
 * write it: every activation of EfficientNet) becomes one ft.Silu: one pass over the
 * tensor instead of two, and its gradient keeps only x for the backward where the pair
 * kept x and Sigmoid(x). The float operations are the pair's, rounded once.
 */
static void fuse_silu(ft_graph *g, const int *uses, bool *fused)
{
	for (int i = 0; i < g->n_nodes; i++) {
		ft_node *m = &g->nodes[i];
		if (m->op != FT_OP_MUL || m->n_in != 2)
			continue;
		for (int k = 0; k < 2; k++) {
			int s = m->in[k], x = m->in[1 - k];
			if (s < 0 || x < 0 || uses[s] != 1)
				continue;
			int p = g->tensors[s].producer;
			if (p < 0 || g->nodes[p].op != FT_OP_SIGMOID || g->nodes[p].in[0] != x)
				continue;
			m->op = FT_OP_SILU;
			m->in[0] = x;
			m->n_in = 1;
			*fused = true; /* the Sigmoid's output is now unused: pruned by the caller */
			break;
		}
	}
}


/* tensor id is a one-element float32 constant equal to v */
static bool const_is(const ft_graph *g, int id, float v)
{
	const ft_tensor *t = id >= 0 ? &g->tensors[id] : NULL;
	return t && t->kind == FT_TK_CONST && t->dtype == FT_F32 && t->numel == 1 && t->data &&
	       *(const float *)t->data == v;
}

/* the node that made tensor id if it is op and id is used once, else NULL */
static ft_node *made_once(ft_graph *g, const int *uses, int id, ft_op op)
{
	if (id < 0 || uses[id] != 1)
		return NULL;
	int p = g->tensors[id].producer;
	return p >= 0 && g->nodes[p].op == op ? &g->nodes[p] : NULL;
}

/* the input of binary node n that is not the one-element constant v (-1 if none is) */
static int other_than(const ft_graph *g, const ft_node *n, float v)
{
	if (n->n_in != 2)
		return -1;
	return const_is(g, n->in[1], v) ? n->in[0] : const_is(g, n->in[0], v) ? n->in[1] : -1;
}

/*
 * GELU as PyTorch exports nn.GELU() (erf form): Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5), every
 * intermediate used once, becomes one ft.Gelu (kernels/cpu/elementwise.c: the same float
 * operations in the same order, rounded once). Its gradient keeps only x, where the five nodes
 * kept x, x / sqrt 2, 1 + erf and their product for the backward: ViT-B/16 at batch 64 kept
 * 4 x 148 MiB a layer in float32 for it (inspect --train --peak).
 */
static void fuse_gelu(ft_graph *g, const int *uses, bool *fused)
{
	const float sqrt2 = 1.41421353816986083984375f; /* sqrt 2 rounded to float */
	for (int i = 0; i < g->n_nodes; i++) {
		ft_node *y = &g->nodes[i];
		if (y->op != FT_OP_MUL)
			continue;
		ft_node *m = made_once(g, uses, other_than(g, y, 0.5f), FT_OP_MUL);
		if (!m || m->n_in != 2)
			continue;
		for (int k = 0; k < 2; k++) {
			int x = m->in[k];
			ft_node *a = made_once(g, uses, m->in[1 - k], FT_OP_ADD);
			ft_node *e = a ? made_once(g, uses, other_than(g, a, 1.0f), FT_OP_ERF) : NULL;
			ft_node *d = e ? made_once(g, uses, e->in[0], FT_OP_DIV) : NULL;
			if (x < 0 || g->tensors[x].dtype != FT_F32 || !d || d->n_in != 2 || d->in[0] != x ||
			    !const_is(g, d->in[1], sqrt2) || !ft_tensor_same_shape(&g->tensors[x], ft_out(g, y, 0)))
				continue; /* (a constant of higher rank broadcast the five nodes' output) */
			y->op = FT_OP_GELU;
			y->in[0] = x;
			y->n_in = 1;
			*fused = true; /* the other four are unused now: pruned by the caller */
			break;
		}
	}
}

/*
 * A Linear layer on a 3-D (or higher) input as PyTorch exports it, Add(MatMul(x, Transpose(W)), b)
 * with W (N, K) and b (N) trained parameters, becomes Reshape(Gemm(Reshape(x, (R, K)), W, b,
 * transB=1), x's leading dims + N): the weight is read transposed by the product itself instead of
 * being transposed into a copy every step (and its gradient transposed back), and the bias goes
 * into the product, as a 2-D Linear is exported and as autocast runs it (addmm). The reshapes are
 * views (plan.c). Needs producers and shapes; reorders the graph.
 */
static ft_status fuse_linears(ft_graph *g)
{
	int *uses = ft_graph_count_uses(g);
	int n_nodes = g->n_nodes, fused = 0;
	for (int i = 0; i < n_nodes; i++) {
		ft_node *add = &g->nodes[i];
		if (add->op != FT_OP_ADD || add->n_in != 2 || add->n_out != 1)
			continue;
		for (int k = 0; k < 2; k++) {
			int m = add->in[k], b = add->in[1 - k];
			ft_node *mm = made_once(g, uses, m, FT_OP_MATMUL);
			if (!mm || b < 0 || mm->n_in != 2)
				continue;
			ft_node *tr = made_once(g, uses, mm->in[1], FT_OP_TRANSPOSE);
			if (!tr || tr->n_in != 1)
				continue;
			int x = mm->in[0], w = tr->in[0];
			const ft_tensor *tx = &g->tensors[x], *tw = &g->tensors[w], *tb = &g->tensors[b];
			const int64_t *perm;
			int np = ft_attr_ints(tr, "perm", &perm);
			/* (weights --freeze made constant fuse as parameters do) */
			if (!ft_tensor_fixed_weight(tw) || tw->rank != 2 || tw->dtype != FT_F32 || !(np < 0 || /* none: reversed */
			    (np == 2 && perm[0] == 1 && perm[1] == 0)) || !ft_tensor_fixed_weight(tb) || tb->rank != 1 ||
			    tb->dtype != FT_F32 || tb->numel != tw->dims[0] || tx->dtype != FT_F32 || tx->rank < 3 ||
			    tx->dims[tx->rank - 1] != tw->dims[1])
				continue;
			int64_t rows = 1, flat[2], back[FT_MAX_RANK];
			for (int d = 0; d < tx->rank - 1; d++) {
				rows *= tx->dims[d];
				back[d] = tx->dims[d];
			}
			if (rows == 0) /* (a 0 in Reshape's shape would mean "keep this dim") */
				continue;
			back[tx->rank - 1] = tw->dims[0];
			flat[0] = rows, flat[1] = tw->dims[1];
			char name[600];
			snprintf(name, sizeof(name), "%.500s/linear", g->tensors[m].name);
			int ti = (int)(tr - g->nodes), mi = (int)(mm - g->nodes), rank = tx->rank;
			int shape1 = ft_graph_const_i64(g, name, flat, 2), shape2 = ft_graph_const_i64(g, name, back, rank);
			int x2 = ft_graph_new_tensor(g, name), y2 = ft_graph_new_tensor(g, name);
			/* new tensors can move the tables (FT_DEBUG_MOVE_TABLES moves both at every addition):
			 * the nodes again, by index */
			tr = &g->nodes[ti], mm = &g->nodes[mi];
			tr->op = FT_OP_RESHAPE; /* x2 = Reshape(x, (R, K)) */
			tr->n_attrs = 0;
			tr->in = FT_ARENA_NEW(g->arena, int, 2); /* (the inputs' arrays are made to measure) */
			tr->in[0] = x;
			tr->in[1] = shape1;
			tr->n_in = 2;
			tr->out[0] = x2;
			mm->op = FT_OP_GEMM; /* y2 = x2 W^T + b */
			mm->in = FT_ARENA_NEW(g->arena, int, 3);
			mm->in[0] = x2;
			mm->in[1] = w;
			mm->in[2] = b;
			mm->n_in = 3;
			mm->out[0] = y2;
			ft_node_set_int(g, mm, "transB", 1);
			add = &g->nodes[i];
			add->op = FT_OP_RESHAPE; /* the Add's output = Reshape(y2, leading dims + N) */
			add->in[0] = y2;
			add->in[1] = shape2;
			fused++;
			break;
		}
	}
	free(uses);
	if (!fused)
		return FT_OK;
	FT_TRY(ft_graph_toposort(g));
	ft_graph_prune(g); /* the Transposes' old outputs, the MatMuls' */
	for (int i = 0; i < g->n_nodes; i++)
		FT_TRY(ft_op_table[g->nodes[i].op].infer(g, &g->nodes[i]));
	return FT_OK;
}

/* the activations exporters spell in several nodes, each made one node (needs producers and types) */
static void fuse_activations(ft_graph *g)
{
	int *uses = ft_graph_count_uses(g);
	bool fused = false;
	fuse_silu(g, uses, &fused);
	fuse_gelu(g, uses, &fused);
	free(uses);
	if (fused)
		ft_graph_prune(g);
}

ft_status ft_graph_specialise(ft_graph *g, int64_t batch, const ft_bind *binds, int n_binds)
{
	if (batch <= 0)
		return ft_error(FT_EBADINPUT, "batch size must be positive, got %lld", (long long)batch);
	for (int i = 0; i < n_binds; i++)
		if (ft_graph_find(g, binds[i].name) < 0)
			return ft_error(FT_EBADINPUT, "%s: the model has no input \"%s\"", g->path, binds[i].name);
	for (int i = 0; i < g->n_inputs; i++) {
		ft_tensor *t = &g->tensors[g->inputs[i]];
		FT_TRY(bind_input(g, t, batch, find_bind(binds, n_binds, t->name)));
	}
	FT_TRY(ft_graph_toposort(g));
	ft_graph_prune(g);

	int kept = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_in; j++) {
			ft_tensor *t = ft_in(g, n, j);
			FT_ASSERT(!t || t->shaped || t->producer >= 0);
			if (t && !t->shaped)
				return ft_node_error(g, n, FT_EBADINPUT, "input \"%s\" has no shape", t->name);
		}
		FT_TRY(ft_op_table[n->op].infer(g, n));
		for (int j = 0; j < n->n_out; j++) {
			ft_tensor *t = ft_out(g, n, j);
			FT_ASSERT(!t || t->shaped);
		}
		if (foldable(g, n)) {
			FT_TRY(fold(g, n));
			continue; /* the node is gone; its outputs are constants */
		}
		if (kept != i)
			g->nodes[kept] = *n;
		kept++;
	}
	g->n_nodes = kept;
	for (int i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].kind == FT_TK_ACT)
			g->tensors[i].producer = -1;
	for (int i = 0; i < g->n_nodes; i++)
		for (int j = 0; j < g->nodes[i].n_out; j++)
			if (g->nodes[i].out[j] >= 0)
				g->tensors[g->nodes[i].out[j]].producer = i;
	fuse_activations(g); /* (after folding: GELU's constants are constants by now) */
	return fuse_linears(g);
}
