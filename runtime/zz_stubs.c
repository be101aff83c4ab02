/* TEMPORARY weak stubs while families land */
#include "ir.h"
__attribute__((weak)) ft_status ft_cpu_abs(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_abs not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_add(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_add not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_and(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_and not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_average_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_average_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_batch_norm(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_batch_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_cast(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_cast not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_ceil(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_ceil not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_clip(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_clip not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_concat(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_concat not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_constant(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_constant not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_constant_of_shape(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_constant_of_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_conv(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_conv not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_copy(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_copy not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_div(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_div not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_dropout(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_dropout not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_equal(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_equal not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_erf(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_erf not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_exp(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_exp not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_expand(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_expand not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_floor(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_floor not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_gather(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_gather not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_gemm(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_gemm not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_global_average_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_global_average_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_global_max_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_global_max_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_greater(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_greater not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_greater_or_equal(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_greater_or_equal not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_hard_sigmoid(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_hard_sigmoid not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_hard_swish(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_hard_swish not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_identity(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_identity not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_layer_norm(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_layer_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_leaky_relu(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_leaky_relu not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_less(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_less not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_less_or_equal(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_less_or_equal not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_log(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_log not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_log_softmax(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_log_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_matmul(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_matmul not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_max(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_max not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_max_pool(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_max_pool not implemented yet"); }
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
__attribute__((weak)) ft_status ft_cpu_reduce_max(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_max not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_mean(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_mean not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_min(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_min not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_reduce_sum(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_reduce_sum not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_relu(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_relu not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_scatter_nd(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_scatter_nd not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_shape(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sigmoid(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sigmoid not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_slice(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_slice not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_softmax(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_split(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_split not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sqrt(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sqrt not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_sub(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_sub not implemented yet"); }
__attribute__((weak)) ft_status ft_cpu_tanh(const ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_cpu_tanh not implemented yet"); }
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
__attribute__((weak)) ft_status ft_infer_broadcast(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_broadcast not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_cast(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_cast not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_clip(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_clip not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_compare(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_compare not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_concat(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_concat not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_constant(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_constant not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_constant_of_shape(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_constant_of_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_conv(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_conv not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_dropout(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_dropout not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_expand(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_expand not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_flatten(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_flatten not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_gather(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_gather not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_gemm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_gemm not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_global_pool(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_global_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_layer_norm(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_layer_norm not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_logical(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_logical not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_matmul(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_matmul not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_not(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_not not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_pad(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_pad not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_pool(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_pool not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_pow(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_pow not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_range(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_range not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_reduce(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_reduce not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_reshape(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_reshape not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_scatter_nd(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_scatter_nd not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_shape(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_shape not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_slice(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_slice not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_softmax(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_softmax not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_split(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_split not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_squeeze(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_squeeze not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_tile(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_tile not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_transpose(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_transpose not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_unary(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_unary not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_unary_float(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_unary_float not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_unsqueeze(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_unsqueeze not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_variadic(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_variadic not implemented yet"); }
__attribute__((weak)) ft_status ft_infer_where(ft_graph *g, ft_node *n) { return ft_node_error(g, n, FT_EUNSUPPORTED, "ft_infer_where not implemented yet"); }
