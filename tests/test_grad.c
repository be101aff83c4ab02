/*
 * test_grad.c - finite-difference checks of the gradient rules (gradcheck.h).
 * usage: test_grad [FILTER...]   runs the cases whose name contains a filter.
 * Ends with "N passed, N failed".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autodiff.h"
#include "cpu/conv.h"
#include "cpu/elementwise.h"
#include "exec.h"
#include "gradcheck.h"
#include "cpu/conv.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static double uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void fill(const gc_input *in, ft_tensor *t)
{
	float *x = t->data;
	float lo = in->lo, hi = in->hi;
	if (in->kind == GC_CONST_F) { /* exactly its value: CF(0) is 0, not the default range below */
		for (int64_t i = 0; i < t->numel; i++)
			x[i] = lo;
		return;
	}
	if (lo == 0 && hi == 0)
		lo = -1, hi = 1;
	switch (in->kind) {
	case GC_PARAM_AWAY:
		for (int64_t i = 0; i < t->numel; i++)
			x[i] = (float)((lo + (hi - lo) * uniform()) * (uniform() < 0.5 ? -1 : 1));
		break;
	case GC_PARAM_PERM: { /* a shuffled ramp: distinct values 0.05 apart, centred on 0 */
		for (int64_t i = 0; i < t->numel; i++)
			x[i] = (float)(0.05 * (double)(i - t->numel / 2));
		for (int64_t i = t->numel - 1; i > 0; i--) {
			int64_t j = (int64_t)(uniform() * (double)(i + 1));
			float tmp = x[i];
			x[i] = x[j];
			x[j] = tmp;
		}
		break;
	}
	default:
		for (int64_t i = 0; i < t->numel; i++)
			x[i] = (float)(lo + (hi - lo) * uniform());
	}
}

static double loss_of(ft_graph *g, const int *outs, const int *seeds, int n)
{
	double l = 0;
	for (int k = 0; k < n; k++) {
		const ft_tensor *y = &g->tensors[outs[k]], *r = &g->tensors[seeds[k]];
		for (int64_t i = 0; i < y->numel; i++)
			l += (double)((const float *)y->data)[i] * ((const float *)r->data)[i];
	}
	return l;
}

static bool run_case(const gc_case *c, const char *refused)
{
	/* each case draws from its own seed (its name's hash): its inputs do not depend on the
	 * cases before it or on the filter */
	rng_state = 0x9e3779b97f4a7c15ull;
	for (const char *p = c->name; *p; p++)
		rng_state = (rng_state ^ (uint8_t)*p) * 0x100000001b3ull;
	rng_state |= 1;
	ft_graph *g = ft_graph_new(c->name);
	g->opset = c->opset ? c->opset : 17;
	ft_exec *x = NULL;
	bool ok = false;
	int ids[8], wrt[8], grads[8], n_wrt = 0;
	for (int i = 0; i < c->n_in; i++) {
		const gc_input *in = &c->in[i];
		if (in->kind == GC_ABSENT) {
			ids[i] = -1;
			continue;
		}
		char name[32];
		snprintf(name, sizeof(name), "in%d", i);
		ids[i] = ft_graph_tensor(g, name);
		ft_tensor *t = &g->tensors[ids[i]];
		ft_dtype dt = in->kind == GC_CONST_I ? FT_I64 : in->kind == GC_CONST_B ? FT_BOOL : FT_F32;
		ft_tensor_set_shape(t, dt, in->rank, in->dims);
		t->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(t) + 8));
		if (in->kind == GC_CONST_I) {
			memcpy(t->data, in->ivals, ft_tensor_bytes(t));
			t->kind = FT_TK_CONST;
		} else if (in->kind == GC_CONST_B) {
			for (int64_t e = 0; e < t->numel; e++)
				((uint8_t *)t->data)[e] = in->ivals[e] != 0;
			t->kind = FT_TK_CONST;
		} else {
			fill(in, t);
			t->kind = in->kind == GC_CONST_F ? FT_TK_CONST : FT_TK_PARAM;
			if (t->kind == FT_TK_PARAM)
				wrt[n_wrt++] = ids[i];
		}
	}
	ft_node *n = ft_graph_add_node(g, c->op, c->name, c->n_in, c->n_out ? c->n_out : 1);
	for (int i = 0; i < c->n_in; i++)
		n->in[i] = ids[i];
	for (int i = 0; i < n->n_out; i++) {
		char name[32];
		snprintf(name, sizeof(name), "out%d", i);
		n->out[i] = ft_graph_tensor(g, name);
		g->tensors[n->out[i]].producer = 0;
	}
	if (c->attrs)
		c->attrs(g, n);
	if (ft_op_table[c->op].infer(g, &g->nodes[0])) {
		printf("FAIL %s: infer: %s\n", c->name, ft_last_error());
		goto out;
	}
	int n_loss = c->n_loss ? c->n_loss : 1, outs[8], seeds[8];
	for (int k = 0; k < n_loss; k++) {
		outs[k] = g->nodes[0].out[k];
		const ft_tensor *y = &g->tensors[outs[k]];
		seeds[k] = ft_graph_new_tensor(g, "seed");
		ft_tensor *s = &g->tensors[seeds[k]];
		ft_tensor_set_shape(s, FT_F32, y->rank, y->dims);
		s->kind = FT_TK_CONST;
		s->data = ft_graph_own(g, ft_aligned_alloc(ft_tensor_bytes(s) + 8));
		gc_input r = { .kind = GC_CONST_F, .lo = -1, .hi = 1 };
		fill(&r, s);
	}
	if (ft_autodiff_build(g, n_loss, outs, seeds, wrt, n_wrt, grads)) {
		if (refused && strstr(ft_last_error(), refused) && strstr(ft_last_error(), c->name))
			ok = true; /* refused as it should be, with its reason */
		else
			printf("FAIL %s: autodiff: %s\n", c->name, ft_last_error());
		goto out;
	}
	if (refused) {
		printf("FAIL %s: the gradient was built; expected a refusal saying \"%s\"\n", c->name, refused);
		goto out;
	}
	int *all_out = FT_ARENA_NEW(g->arena, int, n_loss + n_wrt);
	int n_all = 0;
	for (int k = 0; k < n_loss; k++)
		all_out[n_all++] = outs[k];
	for (int k = 0; k < n_wrt; k++)
		if (grads[k] >= 0)
			all_out[n_all++] = grads[k];
	g->outputs = all_out;
	g->n_outputs = n_all;
	ft_cpu_dropout_seed(1); /* training-mode Dropout draws the same mask on every run */
	if (ft_exec_new(g, ft_backend_cpu_new(0), &x) || ft_exec_run(x)) {
		printf("FAIL %s: run: %s\n", c->name, ft_last_error());
		goto out;
	}
	/* keep every analytic gradient before the finite differences rerun the
	 * forward node: the planner may share a gradient's buffer with a forward
	 * output that dies early (a saved mean, say), which the reruns overwrite */
	float *analytics[8] = { NULL };
	for (int k = 0; k < n_wrt; k++) {
		if (grads[k] < 0)
			continue;
		size_t bytes = sizeof(float) * (size_t)g->tensors[wrt[k]].numel;
		analytics[k] = malloc(bytes + 4);
		memcpy(analytics[k], g->tensors[grads[k]].data, bytes);
	}
	ok = true;
	for (int k = 0; k < n_wrt && ok; k++) {
		ft_tensor *p = &g->tensors[wrt[k]];
		if (grads[k] < 0) {
			printf("FAIL %s: no gradient for input %s\n", c->name, p->name);
			ok = false;
			break;
		}
		float *pv = p->data;
		const float *analytic = analytics[k];
		int64_t step = p->numel > 64 ? p->numel / 64 : 1;
		const double h = 1e-2;
		for (int64_t i = 0; i < p->numel && ok; i += step) {
			float orig = pv[i];
			pv[i] = (float)(orig + h);
			ft_cpu_conv_params_changed(); /* changed in place: cached copies are stale (conv.h) */
			ft_cpu_dropout_seed(1);
			ft_exec_run_range(x, 0, 1);
			double lp = loss_of(g, outs, seeds, n_loss);
			pv[i] = (float)(orig - h);
			ft_cpu_conv_params_changed();
			ft_cpu_dropout_seed(1);
			ft_exec_run_range(x, 0, 1);
			double lm = loss_of(g, outs, seeds, n_loss);
			pv[i] = orig;
			ft_cpu_conv_params_changed();
			double num = (lp - lm) / (2 * h), a = analytic[i];
			if (!(fabs(a - num) <= 2e-3 + 2e-2 * fabs(num))) {
				printf("FAIL %s: d/d%s[%lld]: analytic %.6g, finite difference %.6g\n", c->name, p->name,
				       (long long)i, a, num);
				ok = false;
			}
		}
	}
	for (int k = 0; k < n_wrt; k++)
		free(analytics[k]);
out:
	ft_exec_free(x);
	ft_graph_free(g);
	return ok;
}

int main(int argc, char **argv)
{
	struct { const gc_case *cases; int n; } fams[] = {
		{ gc_cases_elementwise, gc_n_elementwise }, { gc_cases_conv, gc_n_conv },
		{ gc_cases_norm, gc_n_norm }, { gc_cases_matmul, gc_n_matmul }, { gc_cases_reduce, gc_n_reduce },
		{ gc_cases_shape, gc_n_shape }, { gc_cases_train, gc_n_train },
	};
	int pass = 0, fail = 0;
	for (size_t f = 0; f < FT_ARRAY_LEN(fams); f++)
		for (int i = 0; i < fams[f].n; i++) {
			const gc_case *c = &fams[f].cases[i];
			bool match = argc < 2;
			for (int a = 1; a < argc && !match; a++)
				match = strstr(c->name, argv[a]) != NULL;
			if (!match)
				continue;
			if (run_case(c, NULL)) {
				pass++;
				if (getenv("GC_VERBOSE"))
					printf("PASS %s\n", c->name);
			} else {
				fail++;
			}
		}
	for (int i = 0; i < gc_n_refusals_matmul; i++) {
		const gc_refusal *r = &gc_refusals_matmul[i];
		bool match = argc < 2;
		for (int a = 1; a < argc && !match; a++)
			match = strstr(r->c.name, argv[a]) != NULL;
		if (!match)
			continue;
		if (run_case(&r->c, r->why)) {
			pass++;
			if (getenv("GC_VERBOSE"))
				printf("PASS %s (refused: %s)\n", r->c.name, r->why);
		} else {
			fail++;
		}
	}
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
