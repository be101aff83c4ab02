/* inspect.c - ops, parameters, FLOPs and planned memory of a model. */
#include "inspect.h"

#include <stdlib.h>

#include "exec.h"
#include "import.h"

double ft_graph_flops(const ft_graph *g)
{
	double flops = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		const ft_tensor *y = ft_out(g, n, 0);
		switch (n->op) {
		case FT_OP_CONV: {
			const ft_tensor *w = ft_in(g, n, 1);
			/* each output element: C_in/group * prod(kernel) multiply-adds */
			double per = 1;
			for (int d = 1; d < w->rank; d++)
				per *= (double)w->dims[d];
			flops += 2.0 * per * (double)y->numel;
			break;
		}
		case FT_OP_MATMUL: {
			const ft_tensor *a = ft_in(g, n, 0);
			flops += 2.0 * (double)a->dims[a->rank - 1] * (double)y->numel;
			break;
		}
		case FT_OP_GEMM: {
			const ft_tensor *a = ft_in(g, n, 0);
			int64_t k = ft_attr_int(n, "transA", 0) ? a->dims[0] : a->dims[1];
			flops += 2.0 * (double)k * (double)y->numel;
			break;
		}
		default:
			break;
		}
	}
	return flops;
}

static const char *human(double bytes, char *buf, size_t len)
{
	const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
	return buf;
}

static void print_tensor_line(FILE *f, const char *what, const ft_tensor *t)
{
	char shape[256];
	fprintf(f, "%-7s %s %s %s", what, t->name, ft_shape_str(t, shape, sizeof(shape)), ft_dtype_name(t->dtype));
	if (t->kind == FT_TK_CONST)
		fprintf(f, " (constant)");
	fputc('\n', f);
}

ft_status ft_inspect(const char *path, int64_t batch, bool params, FILE *f)
{
	ft_graph *g;
	FT_TRY(ft_import_file(path, &g));
	int imported = g->n_nodes;
	ft_status st = ft_graph_specialise(g, batch, NULL, 0);
	if (st) {
		ft_graph_free(g);
		return st;
	}
	fprintf(f, "model   %s (opset %d)\n", g->path, g->opset);
	for (int i = 0; i < g->n_inputs; i++)
		print_tensor_line(f, "input", &g->tensors[g->inputs[i]]);
	for (int i = 0; i < g->n_outputs; i++)
		print_tensor_line(f, "output", &g->tensors[g->outputs[i]]);
	fprintf(f, "nodes   %d imported, %d after specialising for batch %lld (the rest folded into constants or fused)\n",
		imported, g->n_nodes, (long long)batch);

	int count[FT_OP_COUNT] = { 0 };
	for (int i = 0; i < g->n_nodes; i++)
		count[g->nodes[i].op]++;
	fprintf(f, "ops    ");
	for (int k = 0; k < FT_OP_COUNT; k++)
		if (count[k])
			fprintf(f, " %s %d", ft_op_table[k].name, count[k]);
	fputc('\n', f);

	int64_t n_elem[3] = { 0 };
	int n_tens[3] = { 0 };
	size_t bytes[3] = { 0 };
	for (int i = 0; i < g->n_tensors; i++) {
		const ft_tensor *t = &g->tensors[i];
		int k = t->kind == FT_TK_PARAM ? 0 : t->kind == FT_TK_STATE ? 1 : t->kind == FT_TK_CONST ? 2 : -1;
		if (k < 0 || !t->data || !t->shaped)
			continue;
		n_elem[k] += t->numel;
		n_tens[k]++;
		bytes[k] += ft_tensor_bytes(t);
	}
	char b1[32], b2[32];
	fprintf(f, "params  %lld in %d tensors (%s)\n", (long long)n_elem[0], n_tens[0], human((double)bytes[0], b1, 32));
	fprintf(f, "state   %lld in %d tensors (%s, BatchNorm running statistics)\n", (long long)n_elem[1], n_tens[1],
		human((double)bytes[1], b1, 32));
	fprintf(f, "consts  %lld in %d tensors (%s)\n", (long long)n_elem[2], n_tens[2], human((double)bytes[2], b1, 32));
	for (int i = 0; i < g->n_tensors && params; i++) {
		const ft_tensor *t = &g->tensors[i];
		if (t->kind != FT_TK_PARAM)
			continue;
		fprintf(f, "param   %s (", t->name);
		for (int k = 0; k < t->rank; k++)
			fprintf(f, "%s%lld", k ? ", " : "", (long long)t->dims[k]);
		fprintf(f, ")\n");
	}
	double flops = ft_graph_flops(g);
	fprintf(f, "flops   %.3f GFLOPs per forward at batch %lld (%.3f per image; multiply-add = 2)\n", flops / 1e9,
		(long long)batch, flops / 1e9 / (double)batch);
	ft_plan plan;
	st = ft_plan_build(g, &plan);
	if (st == FT_OK) {
		fprintf(f, "memory  inference: %s activations (planned, %s without reuse) + %s weights and constants\n",
			human((double)plan.total, b1, 32), human((double)plan.unshared, b2, 32),
			human((double)ft_graph_const_bytes(g), (char[32]){ 0 }, 32));
		ft_plan_free(&plan);
	}
	for (int i = 0; i < g->n_warnings; i++)
		fprintf(f, "warning %s\n", g->warnings[i]);
	ft_graph_free(g);
	return st;
}
