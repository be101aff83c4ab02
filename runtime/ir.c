#include "ir.h"

#include "cpu/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the op table, from the one list ---- */

const ft_op_info ft_op_table[FT_OP_COUNT] = {
#define FT_OP_ROW(e, nm, mi, ma, mo, imp, inf, cpu) \
	[FT_OP_##e] = { nm, mi, ma, mo, imp, inf, cpu },
	FT_OPS(FT_OP_ROW)
#undef FT_OP_ROW
};

ft_op ft_op_from_name(const char *name)
{
	for (int i = 0; i < FT_OP_COUNT; i++)
		if (strncmp(ft_op_table[i].name, "ft.", 3) != 0 && strcmp(ft_op_table[i].name, name) == 0)
			return (ft_op)i;
	return FT_OP_COUNT;
}

/* ---- dtypes ---- */

static const struct {
	const char *name;
	size_t size;
	int onnx;
} dtype_info[FT_DTYPE_COUNT] = {
	[FT_UNDEF] = { "undefined", 0, 0 },
	[FT_F32] = { "float32", 4, 1 },
	[FT_U8] = { "uint8", 1, 2 },
	[FT_I8] = { "int8", 1, 3 },
	[FT_U16] = { "uint16", 2, 4 },
	[FT_I16] = { "int16", 2, 5 },
	[FT_I32] = { "int32", 4, 6 },
	[FT_I64] = { "int64", 8, 7 },
	[FT_BOOL] = { "bool", 1, 9 },
	[FT_F16] = { "float16", 2, 10 },
	[FT_F64] = { "float64", 8, 11 },
	[FT_U32] = { "uint32", 4, 12 },
	[FT_U64] = { "uint64", 8, 13 },
	[FT_BF16] = { "bfloat16", 2, 16 },
};

size_t ft_dtype_size(ft_dtype t)
{
	FT_ASSERT(t < FT_DTYPE_COUNT);
	return dtype_info[t].size;
}

const char *ft_dtype_name(ft_dtype t)
{
	return t < FT_DTYPE_COUNT ? dtype_info[t].name : "invalid";
}

bool ft_dtype_is_float(ft_dtype t)
{
	return t == FT_F32 || t == FT_F16 || t == FT_BF16 || t == FT_F64;
}

bool ft_dtype_is_int(ft_dtype t)
{
	return t == FT_I8 || t == FT_U8 || t == FT_I16 || t == FT_U16 || t == FT_I32 ||
	       t == FT_U32 || t == FT_I64 || t == FT_U64;
}

ft_dtype ft_dtype_from_onnx(int onnx_type)
{
	for (int i = 1; i < FT_DTYPE_COUNT; i++)
		if (dtype_info[i].onnx == onnx_type)
			return (ft_dtype)i;
	return FT_UNDEF;
}

int ft_dtype_to_onnx(ft_dtype t)
{
	return t < FT_DTYPE_COUNT ? dtype_info[t].onnx : 0;
}

/* ---- name index: open addressing over tensor ids ---- */

typedef struct name_index {
	int *slots; /* tensor id + 1, 0 = empty */
	size_t cap;
} name_index;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static void index_insert(ft_graph *g, int id);

static void index_grow(ft_graph *g)
{
	name_index *ix = g->name_index;
	size_t old_cap = ix->cap;
	int *old = ix->slots;
	ix->cap = old_cap ? old_cap * 2 : 1024;
	ix->slots = ft_xcalloc(ix->cap, sizeof(int));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			index_insert(g, old[i] - 1);
	free(old);
}

static void index_insert(ft_graph *g, int id)
{
	name_index *ix = g->name_index;
	if ((size_t)g->n_tensors * 2 >= ix->cap)
		index_grow(g);
	size_t mask = ix->cap - 1;
	size_t i = hash_str(g->tensors[id].name) & mask;
	while (ix->slots[i])
		i = (i + 1) & mask;
	ix->slots[i] = id + 1;
}

int ft_graph_find(const ft_graph *g, const char *name)
{
	const name_index *ix = g->name_index;
	if (!ix->cap)
		return -1;
	size_t mask = ix->cap - 1;
	for (size_t i = hash_str(name) & mask; ix->slots[i]; i = (i + 1) & mask) {
		int id = ix->slots[i] - 1;
		if (strcmp(g->tensors[id].name, name) == 0)
			return id;
	}
	return -1;
}

/* ---- graph ---- */

ft_graph *ft_graph_new(const char *path)
{
	ft_graph *g = ft_xcalloc(1, sizeof(*g));
	g->arena = ft_arena_new();
	g->path = ft_arena_strdup(g->arena, path ? path : "<memory>");
	g->name_index = ft_arena_alloc(g->arena, sizeof(name_index));
	return g;
}

void ft_graph_free(ft_graph *g)
{
	if (!g)
		return;
	if (g->model && g->model_free)
		g->model_free(g->model);
	for (int i = 0; i < g->n_owned; i++)
		free(g->owned[i]);
	free(g->owned);
	free(g->tensors);
	free(g->nodes);
	free(((name_index *)g->name_index)->slots);
	ft_arena_free(g->arena);
	free(g);
}

void *ft_graph_own(ft_graph *g, void *p)
{
	if (g->n_owned == g->cap_owned) {
		g->cap_owned = g->cap_owned ? g->cap_owned * 2 : 64;
		g->owned = ft_xrealloc(g->owned, sizeof(void *) * (size_t)g->cap_owned);
	}
	g->owned[g->n_owned++] = p;
	return p;
}

/*
 * FT_DEBUG_MOVE_TABLES=1 (tests): every new tensor or node moves its whole table, as a
 * growth does only at powers of two. A pointer into g->tensors or g->nodes held across
 * ft_graph_new_tensor / ft_graph_add_node then reads freed memory every time, which
 * AddressSanitizer reports, instead of only for models whose counts hit 2048 or 4096 at
 * the wrong moment (a ViT build crashed so on a GPU, 2026-11-28).
 */
static bool move_tables(void)
{
	static int on = -1;
	if (on < 0)
		on = ft_env_on("FT_DEBUG_MOVE_TABLES");
	return on;
}

static void *moved(void *table, size_t used, size_t cap)
{
	void *fresh = ft_xmalloc(cap ? cap : 1);
	if (used)
		memcpy(fresh, table, used);
	free(table);
	return fresh;
}

static int add_tensor(ft_graph *g, const char *name)
{
	if (g->n_tensors == g->cap_tensors) {
		g->cap_tensors = g->cap_tensors ? g->cap_tensors * 2 : 256;
		g->tensors = ft_xrealloc(g->tensors, sizeof(ft_tensor) * (size_t)g->cap_tensors);
	} else if (move_tables()) {
		g->tensors = moved(g->tensors, sizeof(ft_tensor) * (size_t)g->n_tensors,
				   sizeof(ft_tensor) * (size_t)g->cap_tensors);
	}
	int id = g->n_tensors++;
	ft_tensor *t = &g->tensors[id];
	memset(t, 0, sizeof(*t));
	t->name = ft_arena_strdup(g->arena, name);
	t->producer = -1;
	t->kind = FT_TK_ACT;
	index_insert(g, id);
	return id;
}

int ft_graph_tensor(ft_graph *g, const char *name)
{
	int id = ft_graph_find(g, name);
	return id >= 0 ? id : add_tensor(g, name);
}

int ft_graph_new_tensor(ft_graph *g, const char *base)
{
	if (ft_graph_find(g, base) < 0)
		return add_tensor(g, base);
	for (int k = 1;; k++) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%.480s__%d", base, k);
		if (ft_graph_find(g, buf) < 0)
			return add_tensor(g, buf);
	}
}

ft_node *ft_graph_add_node(ft_graph *g, ft_op op, const char *name, int n_in, int n_out)
{
	if (g->n_nodes == g->cap_nodes) {
		g->cap_nodes = g->cap_nodes ? g->cap_nodes * 2 : 256;
		g->nodes = ft_xrealloc(g->nodes, sizeof(ft_node) * (size_t)g->cap_nodes);
	} else if (move_tables()) {
		g->nodes = moved(g->nodes, sizeof(ft_node) * (size_t)g->n_nodes, sizeof(ft_node) * (size_t)g->cap_nodes);
	}
	ft_node *n = &g->nodes[g->n_nodes++];
	memset(n, 0, sizeof(*n));
	n->op = op;
	n->name = ft_arena_strdup(g->arena, name ? name : "");
	n->opset = g->opset;
	n->n_in = n_in;
	n->n_out = n_out;
	n->in = FT_ARENA_NEW(g->arena, int, n_in ? n_in : 1);
	n->out = FT_ARENA_NEW(g->arena, int, n_out ? n_out : 1);
	for (int i = 0; i < n_in; i++)
		n->in[i] = -1;
	for (int i = 0; i < n_out; i++)
		n->out[i] = -1;
	return n;
}

void ft_graph_warn(ft_graph *g, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	const char **w = FT_ARENA_NEW(g->arena, const char *, g->n_warnings + 1);
	if (g->n_warnings)
		memcpy(w, g->warnings, sizeof(*w) * (size_t)g->n_warnings);
	w[g->n_warnings++] = ft_arena_strdup(g->arena, buf);
	g->warnings = w;
}

/* ---- tensors ---- */

void ft_tensor_set_shape(ft_tensor *t, ft_dtype dtype, int rank, const int64_t *dims)
{
	FT_ASSERT(rank >= 0 && rank <= FT_MAX_RANK);
	t->dtype = dtype;
	t->rank = rank;
	t->numel = 1;
	for (int i = 0; i < rank; i++) {
		t->dims[i] = dims[i];
		t->numel *= dims[i];
	}
	t->shaped = true;
}

size_t ft_tensor_bytes(const ft_tensor *t)
{
	return (size_t)t->numel * ft_dtype_size(t->dtype);
}

bool ft_tensor_is_const(const ft_tensor *t)
{
	return t && t->kind == FT_TK_CONST && t->data != NULL;
}

bool ft_tensor_fixed_weight(const ft_tensor *t)
{
	return t->kind == FT_TK_PARAM || (t->kind == FT_TK_CONST && t->data);
}

bool ft_tensor_same_shape(const ft_tensor *a, const ft_tensor *b)
{
	if (!a || !b || a->rank != b->rank)
		return false;
	for (int i = 0; i < a->rank; i++)
		if (a->dims[i] != b->dims[i])
			return false;
	return true;
}

int ft_graph_const_i64(ft_graph *g, const char *name, const int64_t *v, int n)
{
	int64_t *data = ft_aligned_alloc(sizeof(int64_t) * (size_t)(n ? n : 1));
	if (n)
		memcpy(data, v, sizeof(int64_t) * (size_t)n);
	int id = ft_graph_new_tensor(g, name);
	ft_tensor *t = &g->tensors[id];
	int64_t dims[1] = { n };
	ft_tensor_set_shape(t, FT_I64, 1, dims);
	t->data = ft_graph_own(g, data);
	t->kind = FT_TK_CONST;
	return id;
}

bool ft_op_is_view(ft_op op)
{
	return op == FT_OP_RESHAPE || op == FT_OP_FLATTEN || op == FT_OP_SQUEEZE || op == FT_OP_UNSQUEEZE ||
	       op == FT_OP_IDENTITY;
}

int *ft_graph_count_uses(const ft_graph *g)
{
	int *uses = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(int));
	for (int i = 0; i < g->n_nodes; i++)
		for (int j = 0; j < g->nodes[i].n_in; j++)
			if (g->nodes[i].in[j] >= 0)
				uses[g->nodes[i].in[j]]++;
	for (int i = 0; i < g->n_outputs; i++)
		uses[g->outputs[i]] += 2;
	return uses;
}

bool ft_channels_last(const ft_node *n)
{
	return ft_attr_int(n, "ft_channels_last", 0) != 0;
}

void ft_dims_nchw(const int64_t *nhwc, int64_t *nchw)
{
	int64_t d[4] = { nhwc[0], nhwc[3], nhwc[1], nhwc[2] };
	memcpy(nchw, d, sizeof(d));
}

void ft_dims_nhwc(const int64_t *nchw, int64_t *nhwc)
{
	int64_t d[4] = { nchw[0], nchw[2], nchw[3], nchw[1] };
	memcpy(nhwc, d, sizeof(d));
}

void ft_nchw_view(const ft_node *n, const ft_tensor *t, ft_tensor *view)
{
	*view = *t;
	if (t->rank == 4 && ft_channels_last(n))
		ft_dims_nchw(t->dims, view->dims);
}

void ft_node_copy_attrs(ft_graph *g, ft_node *to, const ft_node *from)
{
	to->n_attrs = from->n_attrs;
	to->attrs = NULL;
	if (from->n_attrs) {
		to->attrs = FT_ARENA_NEW(g->arena, ft_attr, from->n_attrs);
		memcpy(to->attrs, from->attrs, sizeof(ft_attr) * (size_t)from->n_attrs);
	}
}

void ft_graph_set_order(ft_graph *g, const ft_node *order, int end)
{
	memcpy(g->nodes, order, sizeof(ft_node) * (size_t)end);
	for (int i = 0; i < end; i++)
		for (int j = 0; j < g->nodes[i].n_out; j++)
			if (g->nodes[i].out[j] >= 0)
				g->tensors[g->nodes[i].out[j]].producer = i;
}

void ft_graph_invariants(const ft_graph *g, int end, bool *inv, bool *node_inv)
{
	for (int i = 0; i < g->n_tensors; i++)
		inv[i] = g->tensors[i].kind != FT_TK_ACT && g->tensors[i].kind != FT_TK_INPUT;
	for (int i = 0; i < end; i++) {
		const ft_node *n = &g->nodes[i];
		bool ok = n->n_out > 0 && n->op != FT_OP_DROPOUT;
		for (int j = 0; j < n->n_in && ok; j++)
			ok = n->in[j] < 0 || inv[n->in[j]];
		if (node_inv)
			node_inv[i] = ok;
		for (int j = 0; j < n->n_out && ok; j++)
			if (n->out[j] >= 0)
				inv[n->out[j]] = true;
	}
}

bool ft_node_reads_input(const ft_node *n, int j)
{
	if (j != 1)
		return true;
	if (n->op == FT_OP_AVERAGE_POOL_GRAD)
		return false;
	if (n->op == FT_OP_GLOBAL_POOL_GRAD)
		return strcmp(ft_attr_string(n, "mode", "avg"), "max") == 0;
	return true;
}

int64_t ft_tensor_int(const ft_tensor *t, int64_t i)
{
	FT_ASSERT(t->data && i >= 0 && i < t->numel);
	switch (t->dtype) {
	case FT_I64: return ((const int64_t *)t->data)[i];
	case FT_I32: return ((const int32_t *)t->data)[i];
	case FT_I16: return ((const int16_t *)t->data)[i];
	case FT_I8: return ((const int8_t *)t->data)[i];
	case FT_U8: return ((const uint8_t *)t->data)[i];
	case FT_U16: return ((const uint16_t *)t->data)[i];
	case FT_U32: return ((const uint32_t *)t->data)[i];
	case FT_U64: return (int64_t)((const uint64_t *)t->data)[i];
	case FT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
	case FT_F32: return (int64_t)((const float *)t->data)[i];
	case FT_F64: return (int64_t)((const double *)t->data)[i];
	default: ft_fatal(__FILE__, __LINE__, "ft_tensor_int on %s", ft_dtype_name(t->dtype));
	}
}

double ft_tensor_float(const ft_tensor *t, int64_t i)
{
	FT_ASSERT(t->data && i >= 0 && i < t->numel);
	switch (t->dtype) {
	case FT_F32: return ((const float *)t->data)[i];
	case FT_F64: return ((const double *)t->data)[i];
	case FT_F16: return ft_f16_to_f32(((const uint16_t *)t->data)[i]);
	case FT_BF16: return ft_bf16_to_f32(((const uint16_t *)t->data)[i]);
	default: return (double)ft_tensor_int(t, i);
	}
}

const char *ft_shape_str(const ft_tensor *t, char *buf, size_t len)
{
	size_t o = 0;
	o += (size_t)snprintf(buf + o, len - o, "[");
	for (int i = 0; i < t->rank && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "," : "", (long long)t->dims[i]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
	return buf;
}

/* ---- attributes ---- */

const ft_attr *ft_attr_find(const ft_node *n, const char *name)
{
	for (int i = 0; i < n->n_attrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return &n->attrs[i];
	return NULL;
}

int64_t ft_attr_int(const ft_node *n, const char *name, int64_t def)
{
	const ft_attr *a = ft_attr_find(n, name);
	return a && a->kind == FT_ATTR_INT ? a->i : def;
}

float ft_attr_float(const ft_node *n, const char *name, float def)
{
	const ft_attr *a = ft_attr_find(n, name);
	if (a && a->kind == FT_ATTR_FLOAT)
		return a->f;
	if (a && a->kind == FT_ATTR_INT)
		return (float)a->i;
	return def;
}

const char *ft_attr_string(const ft_node *n, const char *name, const char *def)
{
	const ft_attr *a = ft_attr_find(n, name);
	return a && a->kind == FT_ATTR_STRING ? a->s : def;
}

int ft_attr_ints(const ft_node *n, const char *name, const int64_t **out)
{
	const ft_attr *a = ft_attr_find(n, name);
	if (!a || a->kind != FT_ATTR_INTS)
		return -1;
	*out = a->ints;
	return a->n;
}

int ft_attr_floats(const ft_node *n, const char *name, const float **out)
{
	const ft_attr *a = ft_attr_find(n, name);
	if (!a || a->kind != FT_ATTR_FLOATS)
		return -1;
	*out = a->floats;
	return a->n;
}

static ft_attr *attr_slot(ft_graph *g, ft_node *n, const char *name)
{
	for (int i = 0; i < n->n_attrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return &n->attrs[i];
	ft_attr *a = FT_ARENA_NEW(g->arena, ft_attr, n->n_attrs + 1);
	if (n->n_attrs)
		memcpy(a, n->attrs, sizeof(*a) * (size_t)n->n_attrs);
	n->attrs = a;
	a = &n->attrs[n->n_attrs++];
	a->name = ft_arena_strdup(g->arena, name);
	return a;
}

void ft_node_set_int(ft_graph *g, ft_node *n, const char *name, int64_t v)
{
	ft_attr *a = attr_slot(g, n, name);
	a->kind = FT_ATTR_INT;
	a->i = v;
}

void ft_node_set_string(ft_graph *g, ft_node *n, const char *name, const char *s)
{
	ft_attr *a = attr_slot(g, n, name);
	a->kind = FT_ATTR_STRING;
	a->s = ft_arena_strdup(g->arena, s);
}

void ft_node_set_float(ft_graph *g, ft_node *n, const char *name, float v)
{
	ft_attr *a = attr_slot(g, n, name);
	a->kind = FT_ATTR_FLOAT;
	a->f = v;
}

/* an attribute of count elements of size bytes each, copied into the arena */
static void *set_array(ft_graph *g, ft_node *n, const char *name, ft_attr_kind kind, const void *v, size_t size,
		       int count)
{
	ft_attr *a = attr_slot(g, n, name);
	a->kind = kind;
	a->n = count;
	void *p = ft_arena_alloc(g->arena, size * (size_t)(count ? count : 1));
	if (count)
		memcpy(p, v, size * (size_t)count);
	return p;
}

void ft_node_set_floats(ft_graph *g, ft_node *n, const char *name, const float *v, int count)
{
	attr_slot(g, n, name)->floats = set_array(g, n, name, FT_ATTR_FLOATS, v, sizeof(float), count);
}

void ft_node_set_ints(ft_graph *g, ft_node *n, const char *name, const int64_t *v, int count)
{
	attr_slot(g, n, name)->ints = set_array(g, n, name, FT_ATTR_INTS, v, sizeof(int64_t), count);
}

ft_status ft_node_error(const ft_graph *g, const ft_node *n, ft_status st, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ft_error(st, "%s: node \"%s\" (%s, opset %d): %s", g->path, n->name,
			n->op < FT_OP_COUNT ? ft_op_table[n->op].name : "?", n->opset, msg);
}

/* ---- topological order ---- */

ft_status ft_graph_toposort(ft_graph *g)
{
	int nn = g->n_nodes, nt = g->n_tensors;
	int *indeg = ft_xcalloc((size_t)nn + 1, sizeof(int));
	int *order = ft_xmalloc(sizeof(int) * ((size_t)nn + 1));
	/* consumers as CSR over tensors */
	int *cstart = ft_xcalloc((size_t)nt + 1, sizeof(int));
	ft_status st = FT_OK;
	for (int i = 0; i < nt; i++)
		g->tensors[i].producer = -1;
	for (int i = 0; i < nn; i++) {
		ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_out; j++) {
			if (n->out[j] < 0)
				continue;
			ft_tensor *t = &g->tensors[n->out[j]];
			if (t->producer >= 0 || t->kind != FT_TK_ACT) {
				st = ft_node_error(g, n, FT_EBADINPUT,
						   "output \"%s\" is already %s", t->name,
						   t->producer >= 0 ? "produced by another node"
								    : "a graph input or initializer");
				goto out_free;
			}
			t->producer = i;
		}
	}
	for (int i = 0; i < nn; i++) {
		ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_in; j++) {
			if (n->in[j] < 0)
				continue;
			ft_tensor *t = &g->tensors[n->in[j]];
			if (t->kind == FT_TK_ACT && t->producer < 0) {
				st = ft_node_error(g, n, FT_EBADINPUT,
						   "input \"%s\" is not produced by any node, graph input or initializer",
						   t->name);
				goto out_free;
			}
			if (t->producer >= 0) {
				indeg[i]++;
				cstart[n->in[j] + 1]++;
			}
		}
	}
	for (int i = 0; i < nt; i++)
		cstart[i + 1] += cstart[i];
	int *cons = ft_xmalloc(sizeof(int) * ((size_t)cstart[nt] + 1));
	int *fill = ft_xcalloc((size_t)nt + 1, sizeof(int));
	for (int i = 0; i < nn; i++) {
		ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_in; j++)
			if (n->in[j] >= 0 && g->tensors[n->in[j]].producer >= 0)
				cons[cstart[n->in[j]] + fill[n->in[j]]++] = i;
	}
	/* Kahn's algorithm, FIFO keeps the original order where it already is one */
	int head = 0, tail = 0;
	for (int i = 0; i < nn; i++)
		if (indeg[i] == 0)
			order[tail++] = i;
	while (head < tail) {
		int i = order[head++];
		ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_out; j++) {
			int t = n->out[j];
			if (t < 0)
				continue;
			for (int k = cstart[t]; k < cstart[t + 1]; k++)
				if (--indeg[cons[k]] == 0)
					order[tail++] = cons[k];
		}
	}
	free(fill);
	free(cons);
	if (tail != nn) {
		for (int i = 0; i < nn; i++)
			if (indeg[i] > 0) {
				st = ft_node_error(g, &g->nodes[i], FT_EBADINPUT,
						   "the graph has a cycle through this node");
				break;
			}
		goto out_free;
	}
	ft_node *sorted = ft_xmalloc(sizeof(ft_node) * ((size_t)nn + 1));
	for (int i = 0; i < nn; i++)
		sorted[i] = g->nodes[order[i]];
	free(g->nodes);
	g->nodes = sorted;
	g->cap_nodes = nn + 1;
	for (int i = 0; i < nn; i++)
		for (int j = 0; j < g->nodes[i].n_out; j++)
			if (g->nodes[i].out[j] >= 0)
				g->tensors[g->nodes[i].out[j]].producer = i;
out_free:
	free(cstart);
	free(order);
	free(indeg);
	return st;
}

void ft_graph_prune(ft_graph *g)
{
	bool *live = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(bool));
	bool *keep = ft_xcalloc((size_t)g->n_nodes + 1, sizeof(bool));
	for (int i = 0; i < g->n_outputs; i++)
		live[g->outputs[i]] = true;
	for (int i = g->n_nodes - 1; i >= 0; i--) {
		ft_node *n = &g->nodes[i];
		for (int j = 0; j < n->n_out && !keep[i]; j++)
			if (n->out[j] >= 0 && live[n->out[j]])
				keep[i] = true;
		if (!keep[i])
			continue;
		for (int j = 0; j < n->n_in; j++)
			if (n->in[j] >= 0)
				live[n->in[j]] = true;
	}
	int w = 0;
	for (int i = 0; i < g->n_nodes; i++)
		if (keep[i])
			g->nodes[w++] = g->nodes[i];
	g->n_nodes = w;
	ft_graph_set_producers(g);
	free(keep);
	free(live);
}

void ft_graph_set_producers(ft_graph *g)
{
	for (int i = 0; i < g->n_tensors; i++)
		g->tensors[i].producer = -1;
	for (int i = 0; i < g->n_nodes; i++)
		for (int j = 0; j < g->nodes[i].n_out; j++)
			if (g->nodes[i].out[j] >= 0)
				g->tensors[g->nodes[i].out[j]].producer = i;
}

/* ---- helpers for infer functions ---- */

ft_status ft_set_out(ft_graph *g, ft_node *n, int i, ft_dtype dtype, int rank, const int64_t *dims)
{
	ft_tensor *t = ft_out(g, n, i);
	if (!t)
		return FT_OK;
	if (rank < 0 || rank > FT_MAX_RANK)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "output \"%s\" would have rank %d (at most %d supported)",
				     t->name, rank, FT_MAX_RANK);
	int64_t numel = 1;
	for (int k = 0; k < rank; k++) {
		if (dims[k] < 0)
			return ft_node_error(g, n, FT_EBADINPUT, "output \"%s\" would have negative dim %lld at axis %d",
					     t->name, (long long)dims[k], k);
		if (!ft_mul_ok(numel, dims[k], &numel) || numel > ((int64_t)1 << 40))
			return ft_node_error(g, n, FT_EBADINPUT, "output \"%s\" would have too many elements (overflow)",
					     t->name);
	}
	ft_tensor_set_shape(t, dtype, rank, dims);
	return FT_OK;
}

ft_status ft_broadcast_shapes(const ft_graph *g, const ft_node *n, int k, const ft_tensor *const *ts,
			      int *rank, int64_t *dims)
{
	int r = 0;
	for (int i = 0; i < k; i++)
		if (ts[i] && ts[i]->rank > r)
			r = ts[i]->rank;
	for (int d = 0; d < r; d++) {
		int64_t v = 1;
		for (int i = 0; i < k; i++) {
			if (!ts[i])
				continue;
			int off = r - ts[i]->rank;
			if (d < off)
				continue;
			int64_t x = ts[i]->dims[d - off];
			if (x == v || x == 1)
				continue;
			if (v == 1) {
				v = x;
				continue;
			}
			char b1[128], b2[128];
			return ft_node_error(g, n, FT_EBADINPUT, "shapes %s and %s do not broadcast",
					     ft_shape_str(ts[0], b1, sizeof(b1)), ft_shape_str(ts[i], b2, sizeof(b2)));
		}
		dims[d] = v;
	}
	*rank = r;
	return FT_OK;
}

ft_status ft_norm_axis(const ft_graph *g, const ft_node *n, int64_t axis, int rank, int *out)
{
	if (axis < -rank || axis >= (rank ? rank : 1))
		return ft_node_error(g, n, FT_EBADINPUT, "axis %lld is out of range for rank %d", (long long)axis, rank);
	*out = (int)(axis < 0 ? axis + rank : axis);
	return FT_OK;
}

ft_status ft_const_ints(const ft_graph *g, const ft_node *n, int i, const char *what, int64_t *vals,
			int max, int *count)
{
	const ft_tensor *t = ft_in(g, n, i);
	FT_ASSERT(t);
	if (!ft_tensor_is_const(t))
		return ft_node_error(g, n, FT_EUNSUPPORTED,
				     "%s (input %d, \"%s\") is not a constant after shape specialisation; "
				     "ftrun needs static shapes", what, i, t->name);
	if (!ft_dtype_is_int(t->dtype))
		return ft_node_error(g, n, FT_EBADINPUT, "%s (input \"%s\") must be integers, not %s", what, t->name,
				     ft_dtype_name(t->dtype));
	if (t->numel > max)
		return ft_node_error(g, n, FT_EBADINPUT, "%s (input \"%s\") has %lld values, at most %d expected",
				     what, t->name, (long long)t->numel, max);
	for (int64_t k = 0; k < t->numel; k++)
		vals[k] = ft_tensor_int(t, k);
	*count = (int)t->numel;
	return FT_OK;
}
