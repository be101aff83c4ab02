/*
 * bench_allreduce.c - the time of ftrun's gradient all-reduce (runtime/dist.h, the
 * code path ft_trainer_step uses) for a buffer of N floats, under a launcher:
 *
 *   mpirun -np 2 build-release/tests/bench_allreduce N [REPS]
 *
 * Rank 0 prints the median time of REPS all-reduces (after one warm-up) and the
 * bus bandwidth 2 (W-1)/W * bytes / time (NCCL's convention for an all-reduce).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "dist.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mpirun -np W %s N_FLOATS [REPS]\n", argv[0]);
		return 2;
	}
	size_t n = (size_t)strtoull(argv[1], NULL, 10);
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	if (n == 0 || reps < 1) {
		fprintf(stderr, "bad N_FLOATS or REPS\n");
		return 2;
	}
	ft_dist *d;
	if (ft_dist_init(60, &d)) {
		fprintf(stderr, "%s\n", ft_last_error());
		return 2;
	}
	if (d->size < 2) {
		fprintf(stderr, "run under mpirun with 2 or more ranks\n");
		ft_dist_free(d);
		return 2;
	}
	float *v = ft_aligned_alloc(sizeof(float) * n);
	double *t = ft_xcalloc((size_t)reps, sizeof(double));
	for (int r = -1; r < reps; r++) {
		for (size_t i = 0; i < n; i++)
			v[i] = (float)(i % 7);
		double t0 = now_s();
		ft_dist_allreduce_f32(d, v, n, "bench all-reduce");
		if (r >= 0)
			t[r] = now_s() - t0;
	}
	qsort(t, (size_t)reps, sizeof(double), cmp_double);
	double med = t[reps / 2], bytes = 4.0 * (double)n;
	if (d->rank == 0)
		printf("all-reduce of %zu floats (%.1f MB) on %d ranks: median %.1f ms over %d, bus bandwidth %.2f GB/s\n",
		       n, bytes / 1e6, d->size, med * 1e3, reps, 2.0 * (d->size - 1) / d->size * bytes / med / 1e9);
	free(t);
	free(v);
	ft_dist_free(d);
	return 0;
}
