/*
 * gradcheck.h - the finite-difference check of every gradient rule.
 *
 * A case is one op with its attributes and inputs. tests/test_grad.c builds a
 * one-node graph, seeds dL/dy_k with fixed random tensors R_k (so
 * L = sum_k <R_k, y_k>, computed on the host in double), lets autodiff build
 * the backward pass, and compares each float input's analytic gradient with
 * the central difference (L(x+h) - L(x-h)) / 2h on up to 64 elements per input.
 *
 * Tolerance: |analytic - numeric| <= 2e-3 + 2e-2*|numeric|. The kernels
 * compute in float32: rounding in y is about 1e-7 relative per element, so L
 * carries about 1e-5 absolute error over a few hundred terms, which the
 * division by 2h (h = 1e-2) turns into about 5e-4; the truncation error of the
 * central difference is O(h^2 * f''') ~ 1e-4 for these smooth ops. Inputs of
 * ops with kinks (Relu, Clip, MaxPool) are drawn away from them (gen modes).
 */
#ifndef FT_GRADCHECK_H
#define FT_GRADCHECK_H

#include "ir.h"

enum {
	GC_PARAM,      /* float input, differentiated, uniform in [lo, hi] */
	GC_PARAM_AWAY, /* float, |x| in [lo, hi] with random sign (away from 0 kinks) */
	GC_PARAM_PERM, /* float, distinct values spaced >= 0.05 (no ties for max/min) */
	GC_PARAM_POS,  /* float, uniform in [lo, hi], lo > 0 */
	GC_CONST_F,    /* float constant (not differentiated), uniform in [lo, hi] */
	GC_CONST_I,    /* int64 constant with the values in ivals */
	GC_CONST_B,    /* bool constant: ivals[i] != 0 */
	GC_ABSENT,     /* an absent optional input */
};

typedef struct gc_input {
	int kind;
	int rank;
	int64_t dims[FT_MAX_RANK];
	float lo, hi;
	const int64_t *ivals;
} gc_input;

typedef struct gc_case {
	const char *name;
	ft_op op;
	int n_in;
	gc_input in[8];
	int n_out;                                 /* outputs the node makes (>= 1) */
	int n_loss;                                /* outputs seeded in the loss (default 1) */
	void (*attrs)(ft_graph *g, ft_node *n);    /* sets the node's attributes (may be NULL) */
	int opset;                                 /* 0: 17 */
} gc_case;

/* a gradient that is not written: building it must fail with a message holding why */
typedef struct gc_refusal {
	gc_case c;
	const char *why;
} gc_refusal;
extern const gc_refusal gc_refusals_matmul[];
extern const int gc_n_refusals_matmul;

/* each family file defines its table: tests/grad_cases_<family>.c */
extern const gc_case gc_cases_elementwise[], gc_cases_conv[], gc_cases_norm[], gc_cases_matmul[],
	gc_cases_reduce[], gc_cases_shape[], gc_cases_train[];
extern const int gc_n_elementwise, gc_n_conv, gc_n_norm, gc_n_matmul, gc_n_reduce, gc_n_shape, gc_n_train;

#endif
