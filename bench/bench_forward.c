/*
 * bench_forward.c - times ftrun's load and forward pass on the CPU.
 *
 * usage: bench_forward MODEL.onnx BATCH ITERS [IMAGE_SIZE]
 * prints: "load_ms L import_ms I forward_ms_median F forward_ms_min M"
 * load = import + specialise + plan; import = parsing the file into the IR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "exec.h"
#include "ftrun.h"
#include "import.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_forward MODEL.onnx BATCH ITERS [IMAGE_SIZE]\n");
		return 2;
	}
	int batch = atoi(argv[2]), iters = atoi(argv[3]), hw = argc > 4 ? atoi(argv[4]) : 224;
	double t0 = now_ms();
	ft_graph *g;
	if (ft_import_file(argv[1], &g)) {
		fprintf(stderr, "%s\n", ft_last_error());
		return 1;
	}
	double t_import = now_ms() - t0;
	ft_graph_free(g);

	ftrun_tensor in = { .dtype = FTRUN_FLOAT, .rank = 4, .dims = { batch, 3, hw, hw } };
	size_t n = (size_t)batch * 3 * (size_t)hw * (size_t)hw;
	float *x = malloc(n * sizeof(float));
	srand(1);
	for (size_t i = 0; i < n; i++)
		x[i] = (float)rand() / RAND_MAX - 0.5f;
	in.data = x;
	ftrun_session *s;
	t0 = now_ms();
	ftrun_options opt = { .device = "cpu" };
	if (ftrun_session_new(argv[1], &in, 1, &opt, &s)) {
		fprintf(stderr, "%s\n", ftrun_last_error());
		return 1;
	}
	double t_load = now_ms() - t0;
	double *t = malloc(sizeof(double) * (size_t)iters);
	for (int i = -2; i < iters; i++) { /* two warm-up runs */
		double a = now_ms();
		if (ftrun_session_run(s, &in, 1)) {
			fprintf(stderr, "%s\n", ftrun_last_error());
			return 1;
		}
		if (i >= 0)
			t[i] = now_ms() - a;
	}
	qsort(t, (size_t)iters, sizeof(double), cmp_double);
	printf("load_ms %.1f import_ms %.1f forward_ms_median %.1f forward_ms_min %.1f\n", t_load, t_import,
	       t[iters / 2], t[0]);
	ftrun_session_free(s);
	free(t);
	free(x);
	return 0;
}
