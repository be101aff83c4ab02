/*
 * ops.h - the one list of ftrun's operators.
 *
 * Every table indexed by op (names, arity, importers, shape inference, CPU
 * kernels, and later gradient rules and CUDA kernels) is generated from
 * FT_OPS, so adding an op cannot leave a table behind (STYLE.md 9).
 *
 * Columns: X(ENUM, "OnnxName", min_in, max_in, max_out, import, infer, cpu)
 *   import(g, n)  validates attributes of an imported node and canonicalises
 *                 opset differences; ft_import_none when the generic checks
 *                 (arity, known op) suffice.
 *   infer(g, n)   sets the dtype and shape of every output from the inputs'
 *                 (and, where the op needs them, constant input values).
 *   cpu(g, n)     the reference CPU kernel: reads ft_in(g,n,i)->data and writes
 *                 ft_out(g,n,i)->data, all shapes static and already checked;
 *                 it may cache prepared state (a oneDNN primitive) in n->extra.
 * Ops named "ft.*" are internal: made by passes, never imported.
 */
#ifndef FT_OPS_H
#define FT_OPS_H

#include "base.h"

/*
 * The optimizer steps of many tensors in one node (ft.SGDStepMulti, ft.AdamWStepMulti): the
 * shared scalars first, then per tensor its group (param, grad, state...); at most this many
 * tensors a node (train.c makes more nodes for more).
 */
#define FT_MULTI_MAX 1024

struct ft_graph;
struct ft_node;
typedef ft_status (*ft_import_fn)(struct ft_graph *g, struct ft_node *n);
typedef ft_status (*ft_infer_fn)(struct ft_graph *g, struct ft_node *n);
typedef ft_status (*ft_cpu_fn)(const struct ft_graph *g, struct ft_node *n);

#define FT_OPS(X)                                                                                   \
	/* elementwise: runtime/shape_elementwise.c, importer/op_elementwise.c, kernels/cpu/elementwise.c */ \
	X(ADD, "Add", 2, 2, 1, ft_import_none, ft_infer_broadcast, ft_cpu_add)                                       \
	X(SUB, "Sub", 2, 2, 1, ft_import_none, ft_infer_broadcast, ft_cpu_sub)                                       \
	X(MUL, "Mul", 2, 2, 1, ft_import_none, ft_infer_broadcast, ft_cpu_mul)                                       \
	X(DIV, "Div", 2, 2, 1, ft_import_none, ft_infer_broadcast, ft_cpu_div)                                       \
	X(POW, "Pow", 2, 2, 1, ft_import_none, ft_infer_pow, ft_cpu_pow)                                             \
	X(MOD, "Mod", 2, 2, 1, ft_import_mod, ft_infer_broadcast, ft_cpu_mod)                              \
	X(MAX, "Max", 1, 64, 1, ft_import_none, ft_infer_variadic, ft_cpu_max)                                       \
	X(MIN, "Min", 1, 64, 1, ft_import_none, ft_infer_variadic, ft_cpu_min)                                       \
	X(EQUAL, "Equal", 2, 2, 1, ft_import_none, ft_infer_compare, ft_cpu_equal)                                   \
	X(LESS, "Less", 2, 2, 1, ft_import_none, ft_infer_compare, ft_cpu_less)                                      \
	X(GREATER, "Greater", 2, 2, 1, ft_import_none, ft_infer_compare, ft_cpu_greater)                             \
	X(LESS_OR_EQUAL, "LessOrEqual", 2, 2, 1, ft_import_none, ft_infer_compare, ft_cpu_less_or_equal)             \
	X(GREATER_OR_EQUAL, "GreaterOrEqual", 2, 2, 1, ft_import_none, ft_infer_compare, ft_cpu_greater_or_equal)    \
	X(AND, "And", 2, 2, 1, ft_import_none, ft_infer_logical, ft_cpu_and)                                         \
	X(OR, "Or", 2, 2, 1, ft_import_none, ft_infer_logical, ft_cpu_or)                                            \
	X(XOR, "Xor", 2, 2, 1, ft_import_none, ft_infer_logical, ft_cpu_xor)                                         \
	X(NOT, "Not", 1, 1, 1, ft_import_none, ft_infer_not, ft_cpu_not)                                             \
	X(WHERE, "Where", 3, 3, 1, ft_import_none, ft_infer_where, ft_cpu_where)                                     \
	X(RELU, "Relu", 1, 1, 1, ft_import_none, ft_infer_unary, ft_cpu_relu)                                        \
	X(LEAKY_RELU, "LeakyRelu", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_leaky_relu)                 \
	X(SIGMOID, "Sigmoid", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_sigmoid)                         \
	X(TANH, "Tanh", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_tanh)                                  \
	X(ERF, "Erf", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_erf)                                     \
	X(SQRT, "Sqrt", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_sqrt)                                  \
	X(EXP, "Exp", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_exp)                                     \
	X(LOG, "Log", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_log)                                     \
	X(NEG, "Neg", 1, 1, 1, ft_import_none, ft_infer_unary, ft_cpu_neg)                                           \
	X(ABS, "Abs", 1, 1, 1, ft_import_none, ft_infer_unary, ft_cpu_abs)                                           \
	X(RECIPROCAL, "Reciprocal", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_reciprocal)                \
	X(FLOOR, "Floor", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_floor)                               \
	X(CEIL, "Ceil", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_ceil)                                  \
	X(HARD_SIGMOID, "HardSigmoid", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_hard_sigmoid)           \
	X(HARD_SWISH, "HardSwish", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_hard_swish)                 \
	X(SILU, "ft.Silu", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_silu)                               \
	X(GELU, "ft.Gelu", 1, 1, 1, ft_import_none, ft_infer_unary_float, ft_cpu_gelu)                               \
	X(CLIP, "Clip", 1, 3, 1, ft_import_clip, ft_infer_clip, ft_cpu_clip)                               \
	X(CAST, "Cast", 1, 1, 1, ft_import_cast, ft_infer_cast, ft_cpu_cast)                               \
	X(IDENTITY, "Identity", 1, 1, 1, ft_import_none, ft_infer_unary, ft_cpu_identity)                            \
	X(DROPOUT, "Dropout", 1, 3, 2, ft_import_dropout, ft_infer_dropout, ft_cpu_dropout)                \
	/* convolution and pooling: runtime/shape_conv.c, importer/op_conv.c, kernels/cpu/conv.c */         \
	X(CONV, "Conv", 2, 3, 1, ft_import_conv, ft_infer_conv, ft_cpu_conv)                               \
	X(MAX_POOL, "MaxPool", 1, 1, 2, ft_import_pool, ft_infer_pool, ft_cpu_max_pool)                    \
	X(AVERAGE_POOL, "AveragePool", 1, 1, 1, ft_import_pool, ft_infer_pool, ft_cpu_average_pool)        \
	X(GLOBAL_AVERAGE_POOL, "GlobalAveragePool", 1, 1, 1, ft_import_none, ft_infer_global_pool,                   \
	  ft_cpu_global_average_pool)                                                                       \
	X(GLOBAL_MAX_POOL, "GlobalMaxPool", 1, 1, 1, ft_import_none, ft_infer_global_pool, ft_cpu_global_max_pool)   \
	/* normalisation: runtime/shape_norm.c, importer/op_norm.c, kernels/cpu/norm.c */                   \
	X(BATCH_NORM, "BatchNormalization", 5, 5, 3, ft_import_batch_norm, ft_infer_batch_norm,            \
	  ft_cpu_batch_norm)                                                                                \
	X(LAYER_NORM, "LayerNormalization", 2, 3, 3, ft_import_layer_norm, ft_infer_layer_norm,            \
	  ft_cpu_layer_norm)                                                                                \
	/* matrix products: runtime/shape_matmul.c, importer/op_matmul.c, kernels/cpu/matmul.c */           \
	X(MATMUL, "MatMul", 2, 2, 1, ft_import_none, ft_infer_matmul, ft_cpu_matmul)                                 \
	X(GEMM, "Gemm", 2, 3, 1, ft_import_gemm, ft_infer_gemm, ft_cpu_gemm)                               \
	/* reductions and softmax: runtime/shape_reduce.c, importer/op_reduce.c, kernels/cpu/reduce.c */    \
	X(REDUCE_MEAN, "ReduceMean", 1, 2, 1, ft_import_reduce, ft_infer_reduce, ft_cpu_reduce_mean)       \
	X(REDUCE_SUM, "ReduceSum", 1, 2, 1, ft_import_reduce, ft_infer_reduce, ft_cpu_reduce_sum)          \
	X(REDUCE_MAX, "ReduceMax", 1, 2, 1, ft_import_reduce, ft_infer_reduce, ft_cpu_reduce_max)          \
	X(REDUCE_MIN, "ReduceMin", 1, 2, 1, ft_import_reduce, ft_infer_reduce, ft_cpu_reduce_min)          \
	X(SOFTMAX, "Softmax", 1, 1, 1, ft_import_softmax, ft_infer_softmax, ft_cpu_softmax)               \
	X(LOG_SOFTMAX, "LogSoftmax", 1, 1, 1, ft_import_softmax, ft_infer_softmax, ft_cpu_log_softmax)     \
	/* shapes and data movement: runtime/shape_shape.c, importer/op_shape.c, kernels/cpu/shape.c */     \
	X(CONSTANT, "Constant", 0, 0, 1, ft_import_constant, ft_infer_constant, ft_cpu_constant)           \
	X(SHAPE, "Shape", 1, 1, 1, ft_import_none, ft_infer_shape, ft_cpu_shape)                                     \
	X(CONSTANT_OF_SHAPE, "ConstantOfShape", 1, 1, 1, ft_import_none, ft_infer_constant_of_shape,                 \
	  ft_cpu_constant_of_shape)                                                                         \
	X(RANGE, "Range", 3, 3, 1, ft_import_none, ft_infer_range, ft_cpu_range)                                     \
	X(RESHAPE, "Reshape", 2, 2, 1, ft_import_none, ft_infer_reshape, ft_cpu_copy)                                \
	X(FLATTEN, "Flatten", 1, 1, 1, ft_import_none, ft_infer_flatten, ft_cpu_copy)                                \
	X(SQUEEZE, "Squeeze", 1, 2, 1, ft_import_none, ft_infer_squeeze, ft_cpu_copy)                                \
	X(UNSQUEEZE, "Unsqueeze", 1, 2, 1, ft_import_none, ft_infer_unsqueeze, ft_cpu_copy)                          \
	X(TRANSPOSE, "Transpose", 1, 1, 1, ft_import_none, ft_infer_transpose, ft_cpu_transpose)                     \
	X(CONCAT, "Concat", 1, 1024, 1, ft_import_none, ft_infer_concat, ft_cpu_concat)                              \
	X(SPLIT, "Split", 1, 2, 1024, ft_import_none, ft_infer_split, ft_cpu_split)                                  \
	X(SLICE, "Slice", 1, 5, 1, ft_import_none, ft_infer_slice, ft_cpu_slice)                                     \
	X(GATHER, "Gather", 2, 2, 1, ft_import_none, ft_infer_gather, ft_cpu_gather)                                 \
	X(EXPAND, "Expand", 2, 2, 1, ft_import_none, ft_infer_expand, ft_cpu_expand)                                 \
	X(TILE, "Tile", 2, 2, 1, ft_import_none, ft_infer_tile, ft_cpu_tile)                                         \
	X(PAD, "Pad", 1, 4, 1, ft_import_none, ft_infer_pad, ft_cpu_pad)                                             \
	X(SCATTER_ND, "ScatterND", 3, 3, 1, ft_import_none, ft_infer_scatter_nd, ft_cpu_scatter_nd)          \
	/* Einsum: runtime/einsum.c (equation, shapes) and kernels/cpu/einsum.c */                             \
	X(EINSUM, "Einsum", 1, 8, 1, ft_import_einsum, ft_infer_einsum, ft_cpu_einsum)                         \
	/* ---- internal ops made by passes ("ft." names; never imported) ---- */                             \
	/* training core: runtime/shape_train.c, kernels/cpu/train.c */                                        \
	X(SOFTMAX_CROSS_ENTROPY, "ft.SoftmaxCrossEntropy", 2, 2, 2, ft_import_none, ft_infer_softmax_cross_entropy,                  \
	  ft_cpu_softmax_cross_entropy)                                                                         \
	X(SOFTMAX_CROSS_ENTROPY_GRAD, "ft.SoftmaxCrossEntropyGrad", 3, 3, 1, ft_import_none, ft_infer_softmax_cross_entropy_grad,        \
	  ft_cpu_softmax_cross_entropy_grad)                                                                    \
	X(REDUCE_SUM_TO, "ft.ReduceSumTo", 1, 1, 1, ft_import_none, ft_infer_reduce_sum_to, ft_cpu_reduce_sum_to)            \
	X(GRAD_ACCUM, "ft.GradAccum", 3, 3, 0, ft_import_none, ft_infer_side_effect, ft_cpu_grad_accum)                    \
	X(SGD_STEP, "ft.SGDStep", 4, 6, 0, ft_import_none, ft_infer_side_effect, ft_cpu_sgd_step)                        \
	X(ADAMW_STEP, "ft.AdamWStep", 6, 8, 0, ft_import_none, ft_infer_side_effect, ft_cpu_adamw_step)                    \
	X(SGD_STEP_MULTI, "ft.SGDStepMulti", 6, 3 + 3 * FT_MULTI_MAX, 0, ft_import_none, ft_infer_multi_step,              \
	  ft_cpu_sgd_step_multi)                                                                                \
	X(ADAMW_STEP_MULTI, "ft.AdamWStepMulti", 8, 4 + 4 * FT_MULTI_MAX, 0, ft_import_none, ft_infer_multi_step,          \
	  ft_cpu_adamw_step_multi)                                                                              \
	X(AMP_UNSCALE, "ft.AmpUnscale", 2, 4097, 1, ft_import_none, ft_infer_scalar_f32, ft_cpu_amp_unscale)            \
	X(AMP_UPDATE_SCALE, "ft.AmpUpdateScale", 3, 3, 0, ft_import_none, ft_infer_side_effect, ft_cpu_amp_update_scale)  \
	X(GRAD_NORM_SQ, "ft.GradNormSq", 1, 4096, 1, ft_import_none, ft_infer_scalar_f32, ft_cpu_grad_norm_sq)            \
	/* input pipeline: uint8 images to normalised float at the head of the graph; runtime/shape_norm.c, \
	   kernels/cpu/norm.c; no gradient (it reads only a graph input) */                                     \
	X(IMAGE_NORMALIZE, "ft.ImageNormalize", 1, 1, 1, ft_import_none, ft_infer_image_normalize, ft_cpu_image_normalize) \
	/* elementwise gradients: runtime/shape_elementwise.c, kernels/cpu/elementwise.c */                     \
	X(RELU_GRAD, "ft.ReluGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_relu_grad)                       \
	X(LEAKY_RELU_GRAD, "ft.LeakyReluGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_leaky_relu_grad)           \
	X(SIGMOID_GRAD, "ft.SigmoidGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_sigmoid_grad)                 \
	X(TANH_GRAD, "ft.TanhGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_tanh_grad)                       \
	X(ERF_GRAD, "ft.ErfGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_erf_grad)                         \
	X(HARD_SIGMOID_GRAD, "ft.HardSigmoidGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_hard_sigmoid_grad)       \
	X(HARD_SWISH_GRAD, "ft.HardSwishGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_hard_swish_grad)           \
	X(SILU_GRAD, "ft.SiluGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_silu_grad)                     \
	X(GELU_GRAD, "ft.GeluGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_gelu_grad)                     \
	X(CLIP_GRAD, "ft.ClipGrad", 2, 4, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_clip_grad)                       \
	X(DROPOUT_GRAD, "ft.DropoutGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_dropout_grad)                 \
	/* convolution and pooling gradients: runtime/shape_conv.c, kernels/cpu/conv.c */                      \
	X(CONV_GRAD_INPUT, "ft.ConvGradInput", 2, 2, 1, ft_import_none, ft_infer_conv_grad_input, ft_cpu_conv_grad_input)      \
	X(CONV_GRAD_WEIGHT, "ft.ConvGradWeight", 2, 2, 2, ft_import_none, ft_infer_conv_grad_weight, ft_cpu_conv_grad_weight)   \
	X(MAX_POOL_GRAD, "ft.MaxPoolGrad", 2, 2, 1, ft_import_none, ft_infer_pool_grad, ft_cpu_max_pool_grad)                \
	X(AVERAGE_POOL_GRAD, "ft.AveragePoolGrad", 2, 2, 1, ft_import_none, ft_infer_pool_grad, ft_cpu_average_pool_grad)        \
	X(GLOBAL_POOL_GRAD, "ft.GlobalPoolGrad", 2, 3, 1, ft_import_none, ft_infer_pool_grad, ft_cpu_global_pool_grad)          \
	/* normalisation in training and its gradients: runtime/shape_norm.c, kernels/cpu/norm.c */            \
	X(BATCH_NORM_TRAIN, "ft.BatchNormalizationTrain", 5, 5, 3, ft_import_none, ft_infer_batch_norm_train, ft_cpu_batch_norm_train)   \
	X(BATCH_NORM_APPLY, "ft.BatchNormalizationApply", 5, 5, 1, ft_import_none, ft_infer_batch_norm_apply, ft_cpu_batch_norm_apply) \
	X(BATCH_NORM_GRAD, "ft.BatchNormalizationGrad", 5, 6, 3, ft_import_none, ft_infer_norm_grad, ft_cpu_batch_norm_grad)            \
	X(LAYER_NORM_GRAD, "ft.LayerNormalizationGrad", 5, 5, 3, ft_import_none, ft_infer_norm_grad, ft_cpu_layer_norm_grad)            \
	/* matrix product with transposes: runtime/shape_matmul.c, kernels/cpu/matmul.c */                     \
	X(MATMUL_T, "ft.MatMulT", 2, 2, 1, ft_import_none, ft_infer_matmul_t, ft_cpu_matmul_t)                           \
	/* reduction and softmax gradients: runtime/shape_reduce.c, kernels/cpu/reduce.c */                    \
	X(SOFTMAX_GRAD, "ft.SoftmaxGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_softmax_grad)                 \
	X(LOG_SOFTMAX_GRAD, "ft.LogSoftmaxGrad", 2, 2, 1, ft_import_none, ft_infer_unary_grad, ft_cpu_log_softmax_grad)         \
	X(REDUCE_GRAD, "ft.ReduceGrad", 1, 1, 1, ft_import_none, ft_infer_reduce_grad, ft_cpu_reduce_grad)                  \
	/* data movement gradients: runtime/shape_shape.c, kernels/cpu/shape.c */                              \
	X(SLICE_GRAD, "ft.SliceGrad", 1, 1, 1, ft_import_none, ft_infer_slice_grad, ft_cpu_slice_grad)                     \
	X(GATHER_GRAD, "ft.GatherGrad", 2, 2, 1, ft_import_none, ft_infer_gather_grad, ft_cpu_gather_grad)

typedef enum ft_op {
#define FT_OP_ENUM(e, name, mi, ma, mo, imp, inf, cpu) FT_OP_##e,
	FT_OPS(FT_OP_ENUM)
#undef FT_OP_ENUM
	FT_OP_COUNT
} ft_op;

typedef struct ft_op_info {
	const char *name; /* ONNX op_type */
	int min_in, max_in, max_out;
	ft_import_fn import;
	ft_infer_fn infer;
	ft_cpu_fn cpu;
} ft_op_info;

extern const ft_op_info ft_op_table[FT_OP_COUNT];

/* FT_OP_COUNT if ftrun has no such op (internal "ft.*" ops are never found) */
ft_op ft_op_from_name(const char *onnx_name);

/* declarations of every function the list names */
#define FT_OP_DECL(e, name, mi, ma, mo, imp, inf, cpu)          \
	ft_status imp(struct ft_graph *g, struct ft_node *n);   \
	ft_status inf(struct ft_graph *g, struct ft_node *n);   \
	ft_status cpu(const struct ft_graph *g, struct ft_node *n);
FT_OPS(FT_OP_DECL)
#undef FT_OP_DECL

#endif
