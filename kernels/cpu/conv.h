/*
 * kernels/cpu/conv.h - what kernels/cpu/conv.c offers beyond the per-op
 * functions of ops.h: the reference kernel under its own name (the oracle of
 * tests/test_cpu_fast.c), and the hooks the oneDNN fast path needs from the
 * backend and the trainer.
 *
 * The fast path (oneDNN, f32) keeps per node, in n->extra (an ft_cpu_extra,
 * freed by ft_cpu_release): the convolution primitive built for the node's
 * geometry, and the weights reordered into the layout oneDNN picked. The
 * reordered copy of a PARAM/CONST weight is made once and reused while the
 * weight's data pointer and the parameter generation
 * (ft_cpu_conv_params_changed) stay the same; a weight produced by a node
 * (an activation) is reordered on every call. Activations are reordered
 * between the executor's plain layout and oneDNN's blocked one on every call,
 * through per-thread scratch (conv.c).
 */
#ifndef FT_CPU_CONV_H
#define FT_CPU_CONV_H

#include "ir.h"

/* The plain C Conv (f32, f64): the spec the fast path is tested against. */
ft_status ft_cpu_conv_ref(const ft_graph *g, ft_node *n);
/* The plain C CONV_GRAD_INPUT and CONV_GRAD_WEIGHT, the oracles of their fast paths. */
ft_status ft_cpu_conv_grad_input_ref(const ft_graph *g, ft_node *n);
ft_status ft_cpu_conv_grad_weight_ref(const ft_graph *g, ft_node *n);

/* Tells the fast path that parameter values changed in place (an optimizer
 * step, a checkpoint load): cached reordered weights are made again on their
 * next use. Cheap (one atomic increment); call once per step. */
void ft_cpu_conv_params_changed(void);

/* true when Conv runs through oneDNN in this build */
bool ft_cpu_conv_has_fast_path(void);

#endif
