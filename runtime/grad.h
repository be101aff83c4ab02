/*
 * grad.h - the gradient rules, one per differentiable op, called from the one
 * switch in autodiff.c. A rule is given the forward node's index; it reads
 * the gradients of the node's outputs with ft_ad_grad() (-1 where none flows),
 * emits the nodes that compute its inputs' gradients, and passes each to
 * ft_ad_add_grad() for the inputs that ft_ad_requires().
 * Files: runtime/grad_<family>.c, next to the family's shape inference.
 */
#ifndef FT_GRAD_H
#define FT_GRAD_H

#include "autodiff.h"

#define FT_GRAD_RULES(X)                                                                               \
	X(add) X(sub) X(mul) X(div) X(pow) X(neg) X(relu) X(leaky_relu) X(sigmoid) X(tanh) X(erf) X(sqrt) \
	X(exp) X(log) X(reciprocal) X(abs) X(hard_sigmoid) X(hard_swish) X(silu) X(gelu) X(clip) X(where) X(cast)          \
	X(identity) X(dropout)                                                                          \
	X(conv) X(max_pool) X(average_pool) X(global_average_pool) X(global_max_pool)                    \
	X(batch_norm) X(layer_norm)                                                                     \
	X(matmul) X(gemm) X(einsum)                                                                     \
	X(reduce_mean) X(reduce_sum) X(softmax) X(log_softmax)                                          \
	X(reshape) X(transpose) X(concat) X(split) X(slice) X(gather) X(expand) X(pad)                  \
	X(softmax_cross_entropy)

#define FT_GRAD_DECL(name) ft_status ft_grad_##name(ft_autodiff *ad, int node);
FT_GRAD_RULES(FT_GRAD_DECL)
#undef FT_GRAD_DECL

#endif
