/*
 * autodiff.h - reverse-mode differentiation: a graph becomes a bigger graph.
 *
 * ft_autodiff_build() walks the forward nodes of a specialised graph in
 * reverse and, for every node that has a gradient flowing into one of its
 * outputs and an input that needs one, calls that op's gradient rule (the
 * one switch in autodiff.c). A rule appends ordinary nodes (existing ops or
 * the internal gradient ops of ops.h) that compute the gradients of the
 * node's inputs from the gradients of its outputs, and hands them to
 * ft_ad_add_grad(), which adds up the contributions of a tensor used several
 * times. Integer and bool tensors, constants and everything not downstream of
 * a parameter carry no gradient. An op without a rule stops the build with
 * its op and node name.
 *
 * Rules see the forward node by index, never by pointer: emitting nodes grows
 * g->nodes and moves it. Every emitted node is shape-inferred at once, so a
 * rule can read the shapes of what it just made.
 */
#ifndef FT_AUTODIFF_H
#define FT_AUTODIFF_H

#include "ir.h"

typedef struct ft_autodiff {
	ft_graph *g;
	int n_fwd;          /* nodes [0, n_fwd) are the forward pass */
	int *grad;          /* tensor id -> id of its gradient, -1 if none yet */
	bool *requires;     /* tensor id -> whether a parameter flows into it */
	int cap;            /* length of grad/requires */
	int cur;            /* the forward node whose rule is running */
} ft_autodiff;

/*
 * Appends the backward pass of g: for each tensor in wrt (parameters), the
 * gradient of the sum over k of <seed[k], loss[k]>: loss[k] is a tensor of the
 * graph and seed[k] a tensor of the same shape holding dL/dloss[k] (for a
 * scalar loss, a buffer holding 1/K under gradient accumulation). On return
 * grads[i] is the gradient tensor of wrt[i], or -1 when no loss depends on it.
 */
ft_status ft_autodiff_build(ft_graph *g, int n_loss, const int *loss, const int *seed, const int *wrt, int n_wrt,
			    int *grads);

/*
 * After ft_autodiff_build (forward nodes [0, n_fwd), backward [n_fwd, end)): the cheap
 * elementwise outputs of at least min_bytes that the backward reads, and that one node can
 * remake from tensors kept that long anyway, are remade just before their first backward read
 * instead of kept (remat.c). *n_remat (may be NULL) gets how many.
 */
ft_status ft_remat_pass(ft_graph *g, int n_fwd, int end, size_t min_bytes, int *n_remat);

/* ---- for gradient rules ---- */

/* the gradient of tensor t so far, or -1 */
int ft_ad_grad(ft_autodiff *ad, int t);
/* whether tensor t (an input of a forward node) needs a gradient */
bool ft_ad_requires(const ft_autodiff *ad, int t);
/* Adds g to the gradient of tensor t (t must require one). */
ft_status ft_ad_add_grad(ft_autodiff *ad, int t, int g);

/*
 * Starts a node of op with inputs in[0..n_in) (-1 for absent optionals) and
 * n_out fresh outputs named after the forward node being differentiated;
 * set attributes on the returned node, then call ft_ad_end(). Do not keep the
 * pointer past ft_ad_end().
 */
ft_node *ft_ad_begin(ft_autodiff *ad, ft_op op, int n_in, const int *in, int n_out);
/* Infers the node's output shapes; *out0 (may be NULL) gets its first output. */
ft_status ft_ad_end(ft_autodiff *ad, ft_node *n, int *out0);
/* begin + end for a node without attributes; returns the first output or -1 on error */
ft_status ft_ad_emit(ft_autodiff *ad, ft_op op, int n_in, const int *in, int *out0);

/* A constant tensor (float32 scalar, int64 vector) owned by the graph. */
int ft_ad_const_f32(ft_autodiff *ad, float v);
int ft_ad_const_i64(ft_autodiff *ad, const int64_t *v, int n);

/* Sums g over the axes that were broadcast to reach it from target's shape. */
ft_status ft_ad_reduce_to(ft_autodiff *ad, int g, int target, int *out);
/* Reshapes g to target's shape (same element count). */
ft_status ft_ad_reshape_to(ft_autodiff *ad, int g, int target, int *out);

#endif
