/*
 * ir.h - ftrun's intermediate representation.
 *
 * A graph is a list of nodes in topological order and a table of tensors,
 * both addressed by index (ids stay valid while the tables grow). Everything a
 * graph owns (names, attributes, folded constants) lives in its arena; the
 * initializer bytes of an imported model point into the parsed protobuf, which
 * the graph owns too and frees with it.
 *
 * Invariants a caller may rely on after ft_graph_specialise():
 *   - g->nodes is in topological order: every input of node i is produced by a
 *     node before i, or is a graph input, parameter, state or constant.
 *   - every tensor reachable from the outputs has a dtype and a static shape.
 *   - a tensor of kind FT_TK_CONST/PARAM/STATE has host data; activations and
 *     inputs get their memory from the executor's plan.
 */
#ifndef FT_IR_H
#define FT_IR_H

#include "base.h"
#include "ops.h"

#define FT_MAX_RANK 8

typedef enum ft_dtype {
	FT_UNDEF = 0,
	FT_F32,
	FT_F16,
	FT_BF16,
	FT_F64,
	FT_I8,
	FT_U8,
	FT_I16,
	FT_U16,
	FT_I32,
	FT_U32,
	FT_I64,
	FT_U64,
	FT_BOOL,
	FT_DTYPE_COUNT
} ft_dtype;

size_t ft_dtype_size(ft_dtype t);
const char *ft_dtype_name(ft_dtype t);
bool ft_dtype_is_float(ft_dtype t);
bool ft_dtype_is_int(ft_dtype t); /* signed or unsigned integers, not bool */
/* ONNX TensorProto.DataType <-> ft_dtype; FT_UNDEF when ftrun has no such type */
ft_dtype ft_dtype_from_onnx(int onnx_type);
int ft_dtype_to_onnx(ft_dtype t);

typedef enum ft_tensor_kind {
	FT_TK_ACT = 0, /* produced by a node, lives in the executor's plan */
	FT_TK_INPUT,   /* a graph input, bound by the caller */
	FT_TK_PARAM,   /* a trainable float initializer */
	FT_TK_STATE,   /* BatchNorm running mean/var: updated in training, not trained */
	FT_TK_CONST,   /* constants: integer/shape initializers, Constant nodes, folded values */
	FT_TK_BUFFER,  /* training buffers that persist across steps: accumulated gradients,
			* optimizer state, the learning rate and other per-step scalars */
} ft_tensor_kind;

typedef struct ft_tensor {
	const char *name;
	ft_dtype dtype;
	int rank;
	int64_t dims[FT_MAX_RANK];
	int64_t numel;
	bool shaped;                            /* dtype and dims are known */
	const char *dim_param[FT_MAX_RANK];     /* symbolic dim names of graph inputs */
	ft_tensor_kind kind;
	int producer;                           /* node index, -1 if none */
	void *data;                             /* host data (constants) or bound buffer */
} ft_tensor;

/* ---- attributes: the node's parsed ONNX attributes, read by name ---- */

typedef enum ft_attr_kind {
	FT_ATTR_INT,
	FT_ATTR_FLOAT,
	FT_ATTR_INTS,
	FT_ATTR_FLOATS,
	FT_ATTR_STRING,
	FT_ATTR_TENSOR, /* .i holds the tensor id */
} ft_attr_kind;

typedef struct ft_attr {
	const char *name;
	ft_attr_kind kind;
	int64_t i;
	float f;
	int n;         /* element count of ints/floats */
	int64_t *ints;
	float *floats;
	const char *s;
} ft_attr;

typedef struct ft_node {
	ft_op op;
	const char *name;    /* ONNX node name, or a made-up one if it had none */
	int opset;           /* opset of the default domain the model imports */
	int n_in, n_out;
	int *in;             /* tensor ids; -1 marks an absent optional input */
	int *out;
	int n_attrs;
	ft_attr *attrs;
	void *extra;         /* backend-private data (e.g. a prepared oneDNN primitive) */
} ft_node;

typedef struct ft_graph {
	ft_arena *arena;
	const char *path;     /* model file, for messages */
	int opset;
	ft_tensor *tensors;
	int n_tensors, cap_tensors;
	ft_node *nodes;
	int n_nodes, cap_nodes;
	int *inputs, n_inputs;   /* graph inputs that are not initializers */
	int *outputs, n_outputs;
	/*
	 * Nodes [loop_begin, loop_end) run several times per run (a training
	 * step's micro-batches); a tensor made before the loop and read in it must
	 * outlive the whole loop (runtime/plan.c). 0, 0: no loop.
	 */
	int loop_begin, loop_end;
	void *model;             /* the parsed ModelProto (owns initializer bytes) */
	void (*model_free)(void *model);
	void *name_index;        /* private: name -> tensor id */
	void **owned;            /* malloc'd buffers freed with the graph */
	int n_owned, cap_owned;
	int n_warnings;
	const char **warnings;
} ft_graph;

ft_graph *ft_graph_new(const char *path);
void ft_graph_free(ft_graph *g);

/* Returns the id of the tensor called name, creating an unshaped one if none. */
int ft_graph_tensor(ft_graph *g, const char *name);
/* Returns the id of name, or -1. */
int ft_graph_find(const ft_graph *g, const char *name);
/* A new tensor with a unique name derived from base. */
int ft_graph_new_tensor(ft_graph *g, const char *base);
ft_node *ft_graph_add_node(ft_graph *g, ft_op op, const char *name, int n_in, int n_out);
void *ft_graph_own(ft_graph *g, void *malloced); /* freed with the graph */
void ft_graph_warn(ft_graph *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline ft_tensor *ft_in(const ft_graph *g, const ft_node *n, int i)
{
	return (i < n->n_in && n->in[i] >= 0) ? &g->tensors[n->in[i]] : NULL;
}
static inline ft_tensor *ft_out(const ft_graph *g, const ft_node *n, int i)
{
	return (i < n->n_out && n->out[i] >= 0) ? &g->tensors[n->out[i]] : NULL;
}

void ft_tensor_set_shape(ft_tensor *t, ft_dtype dtype, int rank, const int64_t *dims);
size_t ft_tensor_bytes(const ft_tensor *t);
bool ft_tensor_is_const(const ft_tensor *t); /* has data at build time: CONST (not PARAM/STATE) */
bool ft_tensor_same_shape(const ft_tensor *a, const ft_tensor *b); /* the same rank and dims */
/* a weight or bias with a value of its own: a parameter, or a constant with data (one --freeze made) */
bool ft_tensor_fixed_weight(const ft_tensor *t);
/* a new 1-D int64 constant holding v[0..n) (v may point into g->tensors: it is copied first) */
int ft_graph_const_i64(ft_graph *g, const char *name, const int64_t *v, int n);
/* the ops whose output is their first input's bytes under another shape (Reshape, Flatten,
 * Squeeze, Unsqueeze, Identity): the plan gives them their input's place */
bool ft_op_is_view(ft_op op);
/* per tensor, how many node inputs read it; a graph output counts 2 (it stays whatever reads it);
   the caller frees it */
int *ft_graph_count_uses(const ft_graph *g);

/*
 * Channels last (runtime/layout.c): a node with the attribute ft_channels_last = 1 stores
 * each of its rank-4 operands as the NCHW tensor it stands for permuted by (0, 2, 3, 1):
 * activations as (N, H, W, C), a convolution's weight as (K, kh, kw, C / group), and the
 * shapes a gradient node carries (x_shape, w_shape) in the same order.
 */
bool ft_channels_last(const ft_node *n);
/* dims (N, H, W, C) -> (N, C, H, W), and back */
void ft_dims_nchw(const int64_t *nhwc, int64_t *nchw);
void ft_dims_nhwc(const int64_t *nchw, int64_t *nhwc);
/* t as its NCHW counterpart when n is channels last and t has rank 4 (a copy with the dims
   permuted, the data as it is), else a plain copy */
void ft_nchw_view(const ft_node *n, const ft_tensor *t, ft_tensor *view);
/* to's attributes become a copy of from's (an array of the graph's own; the strings shared) */
void ft_node_copy_attrs(ft_graph *g, ft_node *to, const ft_node *from);
/* nodes [0, end) become order[0, end) (a permutation of them), and their outputs' producers follow */
void ft_graph_set_order(ft_graph *g, const ft_node *order, int end);
/*
 * inv[t] for every tensor: made from no activation or graph input, through any chain of nodes
 * [0, end) (the casts of the weights under AMP): the same for every micro-batch of a step.
 * Dropout is never invariant (its mask changes each run). inv has g->n_tensors entries;
 * node_inv (may be NULL), end entries, gets which nodes read only invariants.
 */
void ft_graph_invariants(const ft_graph *g, int end, bool *inv, bool *node_inv);
/* whether node n's kernels read input j's bytes; false where only its shape is used (an average
 * pool's gradient takes the forward input for its shape): the plan ends no lifetime for those */
bool ft_node_reads_input(const ft_node *n, int j);
/* Reads element i of an integer (or bool) tensor's data as int64. */
int64_t ft_tensor_int(const ft_tensor *t, int64_t i);
double ft_tensor_float(const ft_tensor *t, int64_t i);
/* "[2,3,224,224]" into buf */
const char *ft_shape_str(const ft_tensor *t, char *buf, size_t len);

/* attribute access; defaults apply when the node has no such attribute */
const ft_attr *ft_attr_find(const ft_node *n, const char *name);
int64_t ft_attr_int(const ft_node *n, const char *name, int64_t def);
float ft_attr_float(const ft_node *n, const char *name, float def);
const char *ft_attr_string(const ft_node *n, const char *name, const char *def);
/* number of ints, or -1 if absent; *out points at them */
int ft_attr_ints(const ft_node *n, const char *name, const int64_t **out);
int ft_attr_floats(const ft_node *n, const char *name, const float **out);
void ft_node_set_int(ft_graph *g, ft_node *n, const char *name, int64_t v);
void ft_node_set_float(ft_graph *g, ft_node *n, const char *name, float v);
void ft_node_set_ints(ft_graph *g, ft_node *n, const char *name, const int64_t *v, int count);
void ft_node_set_floats(ft_graph *g, ft_node *n, const char *name, const float *v, int count);
/* a string attribute, copied into the graph's arena */
void ft_node_set_string(ft_graph *g, ft_node *n, const char *name, const char *s);

/*
 * For infer functions: gives output i its dtype and shape after checking the
 * dims (non-negative, at most FT_MAX_RANK, element count without overflow).
 */
ft_status ft_set_out(ft_graph *g, ft_node *n, int i, ft_dtype dtype, int rank, const int64_t *dims);
/* numpy-style broadcast of the shapes of tensors ts[0..k); fails with a node error */
ft_status ft_broadcast_shapes(const ft_graph *g, const ft_node *n, int k, const ft_tensor *const *ts,
			      int *rank, int64_t *dims);
/* Normalises a possibly negative axis into [0, rank); fails with a node error. */
ft_status ft_norm_axis(const ft_graph *g, const ft_node *n, int64_t axis, int rank, int *out);
/* The values of constant input i as int64s (at most max); fails with a node
 * error naming what it is for when the input is not a constant. Returns count in *count. */
ft_status ft_const_ints(const ft_graph *g, const ft_node *n, int i, const char *what, int64_t *vals,
			int max, int *count);

/* Error helper: "model.onnx: node "x" (Conv, opset 17): <message>" */
ft_status ft_node_error(const ft_graph *g, const ft_node *n, ft_status st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- passes ---------------------------------------------------------- */

typedef struct ft_bind {
	const char *name;     /* graph input name */
	ft_dtype dtype;
	int rank;
	int64_t dims[FT_MAX_RANK];
	const void *value;    /* optional: bind the input as a constant with these bytes */
} ft_bind;

/*
 * Gives every tensor a static shape: symbolic input dims take batch (the first
 * symbolic dim) and the shapes in binds; then, in topological order, each node's
 * output shapes are inferred and every node whose inputs are all constants is
 * evaluated on the CPU and becomes a constant (this folds the
 * Shape/Gather/Unsqueeze/Concat chains exporters emit for dynamic axes).
 * Nodes left without a consumer on the path to the outputs are removed.
 */
ft_status ft_graph_specialise(ft_graph *g, int64_t batch, const ft_bind *binds, int n_binds);

/* Sorts nodes topologically; fails on a cycle or an input nothing produces. */
ft_status ft_graph_toposort(ft_graph *g);
/* Drops nodes whose outputs reach no graph output. */
void ft_graph_prune(ft_graph *g);
/* Every tensor's producer from the nodes as they stand (after nodes were removed in order) */
void ft_graph_set_producers(ft_graph *g);

#endif
