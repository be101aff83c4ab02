/* TEMPORARY weak stubs while families land */
#include "grad.h"
__attribute__((weak)) ft_status ft_cpu_abs(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_abs not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_adamw_step(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_adamw_step not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_add(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_add not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_and(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_and not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_average_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_average_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_average_pool_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_average_pool_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_batch_norm(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_batch_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_batch_norm_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_batch_norm_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_batch_norm_train(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_batch_norm_train not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_cast(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_cast not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_ceil(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_ceil not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_clip(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_clip not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_clip_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_clip_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_concat(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_concat not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_constant(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_constant not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_constant_of_shape(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_constant_of_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_conv(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_conv not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_conv_grad_input(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_conv_grad_input not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_conv_grad_weight(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_conv_grad_weight not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_copy(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_copy not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_div(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_div not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_dropout(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_dropout not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_dropout_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_dropout_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_equal(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_equal not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_erf(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_erf not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_erf_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_erf_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_exp(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_exp not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_expand(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_expand not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_floor(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_floor not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_gather(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_gather not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_gather_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_gather_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_gemm(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_gemm not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_global_average_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_global_average_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_global_max_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_global_max_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_global_pool_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_global_pool_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_grad_accum(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_grad_accum not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_grad_norm_sq(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_grad_norm_sq not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_greater(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_greater not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_greater_or_equal(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_greater_or_equal not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_hard_sigmoid(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_hard_sigmoid not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_hard_sigmoid_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_hard_sigmoid_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_hard_swish(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_hard_swish not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_hard_swish_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_hard_swish_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_identity(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_identity not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_layer_norm(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_layer_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_layer_norm_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_layer_norm_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_leaky_relu(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_leaky_relu not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_leaky_relu_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_leaky_relu_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_less(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_less not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_less_or_equal(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_less_or_equal not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_log(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_log not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_log_softmax(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_log_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_log_softmax_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_log_softmax_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_matmul(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_matmul not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_matmul_t(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_matmul_t not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_max(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_max not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_max_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_max_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_max_pool_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_max_pool_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_min(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_min not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_mod(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_mod not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_mul(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_mul not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_neg(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_neg not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_not(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_not not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_or(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_or not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_pad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_pad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_pow(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_pow not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_range(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_range not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reciprocal(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reciprocal not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_max(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_max not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_mean(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_mean not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_min(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_min not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_sum(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_sum not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_sum_to(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_sum_to not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_relu(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_relu not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_relu_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_relu_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_scatter_nd(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_scatter_nd not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sgd_step(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sgd_step not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_shape(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sigmoid(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sigmoid not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sigmoid_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sigmoid_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_slice(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_slice not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_slice_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_slice_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_softmax(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_softmax_cross_entropy(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_softmax_cross_entropy not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_softmax_cross_entropy_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_softmax_cross_entropy_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_softmax_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_softmax_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_split(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_split not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sqrt(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sqrt not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sub(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sub not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_tanh(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_tanh not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_tanh_grad(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_tanh_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_tile(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_tile not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_transpose(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_transpose not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_where(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_where not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_xor(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_xor not implemented yet"); }
__attribute__((weak)) ft_status ft_import_batch_norm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_batch_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_import_cast(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_cast not implemented yet"); }
__attribute__((weak)) ft_status ft_import_clip(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_clip not implemented yet"); }
__attribute__((weak)) ft_status ft_import_constant(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_constant not implemented yet"); }
__attribute__((weak)) ft_status ft_import_conv(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_conv not implemented yet"); }
__attribute__((weak)) ft_status ft_import_dropout(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_dropout not implemented yet"); }
__attribute__((weak)) ft_status ft_import_gemm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_gemm not implemented yet"); }
__attribute__((weak)) ft_status ft_import_layer_norm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_layer_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_import_mod(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_mod not implemented yet"); }
__attribute__((weak)) ft_status ft_import_pool(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_import_reduce(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_reduce not implemented yet"); }
__attribute__((weak)) ft_status ft_import_softmax(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_import_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_batch_norm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_batch_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_batch_norm_train(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_batch_norm_train not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_broadcast(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_broadcast not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_cast(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_cast not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_clip(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_clip not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_compare(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_compare not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_concat(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_concat not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_constant(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_constant not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_constant_of_shape(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_constant_of_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_conv(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_conv not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_conv_grad_input(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_conv_grad_input not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_conv_grad_weight(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_conv_grad_weight not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_dropout(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_dropout not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_expand(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_expand not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_flatten(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_flatten not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_gather(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_gather not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_gather_grad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_gather_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_gemm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_gemm not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_global_pool(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_global_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_grad_norm_sq(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_grad_norm_sq not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_layer_norm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_layer_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_logical(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_logical not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_matmul(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_matmul not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_matmul_t(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_matmul_t not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_norm_grad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_norm_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_not(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_not not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_pad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_pad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_pool(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_pool_grad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_pool_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_pow(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_pow not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_range(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_range not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_reduce(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_reduce not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_reduce_grad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_reduce_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_reduce_sum_to(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_reduce_sum_to not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_reshape(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_reshape not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_scatter_nd(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_scatter_nd not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_shape(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_side_effect(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_side_effect not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_slice(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_slice not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_slice_grad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_slice_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_softmax(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_softmax_cross_entropy(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_softmax_cross_entropy not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_softmax_cross_entropy_grad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_softmax_cross_entropy_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_split(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_split not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_squeeze(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_squeeze not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_tile(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_tile not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_transpose(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_transpose not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_unary(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_unary not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_unary_float(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_unary_float not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_unary_grad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_unary_grad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_unsqueeze(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_unsqueeze not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_variadic(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_variadic not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_where(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_where not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_add(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_add not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_sub(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_sub not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_mul(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_mul not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_div(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_div not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_pow(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_pow not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_neg(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_neg not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_relu(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_relu not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_leaky_relu(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_leaky_relu not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_sigmoid(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_sigmoid not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_tanh(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_tanh not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_erf(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_erf not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_sqrt(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_sqrt not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_exp(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_exp not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_log(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_log not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_reciprocal(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_reciprocal not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_abs(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_abs not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_hard_sigmoid(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_hard_sigmoid not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_hard_swish(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_hard_swish not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_clip(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_clip not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_where(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_where not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_cast(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_cast not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_identity(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_identity not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_dropout(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_dropout not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_conv(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_conv not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_max_pool(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_max_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_average_pool(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_average_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_global_average_pool(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_global_average_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_global_max_pool(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_global_max_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_batch_norm(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_batch_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_layer_norm(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_layer_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_matmul(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_matmul not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_gemm(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_gemm not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_reduce_mean(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_reduce_mean not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_reduce_sum(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_reduce_sum not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_softmax(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_log_softmax(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_log_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_reshape(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_reshape not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_transpose(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_transpose not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_concat(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_concat not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_split(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_split not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_slice(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_slice not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_gather(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_gather not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_expand(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_expand not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_pad(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_pad not implemented yet"); }
__attribute__((weak)) ft_status ft_grad_softmax_cross_entropy(ft_autodiff *ad, int i) { return ft_node_error(ad->g, &ad->g->nodes[i], FT_EUNSUPPORTED, "gradient rule ft_grad_softmax_cross_entropy not implemented yet"); }
