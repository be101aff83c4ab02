/*
 * bench_train.c - times one ftrun training step on the CPU: forward in
 * training mode, softmax cross-entropy, backward and the SGD momentum update
 * (runtime/train.h), fp32.
 *
 * usage: bench_train MODEL.onnx BATCH ITERS [THREADS]
 * prints: "load_ms L step_ms_median S step_ms_min M loss_first A loss_last B"
 * load = ft_trainer_new (import, training graph, plan). The step is SGD with
 * lr 0.01, momentum 0.9, no weight decay, on one fixed random batch (inputs
 * uniform in [-1, 1), labels uniform over the classes); two warm-up steps run
 * before the ITERS timed ones. THREADS 0 (the default) means all cores, as
 * `ftrun train`; OMP_NUM_THREADS also applies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "train.h"

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

/* a 64-bit LCG: the same batch on every run and every libc */
static uint64_t next(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 11;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: bench_train MODEL.onnx BATCH ITERS [THREADS]\n");
		return 2;
	}
	ft_train_config cfg;
	ft_train_config_defaults(&cfg);
	cfg.batch = atoi(argv[2]);
	cfg.lr = 0.01f;
	cfg.momentum = 0.9f;
	cfg.weight_decay = 0.0f;
	cfg.threads = argc > 4 ? atoi(argv[4]) : 0;
	cfg.device = "cpu";
	int iters = atoi(argv[3]);
	if (cfg.batch < 1 || iters < 1) {
		fprintf(stderr, "bench_train: BATCH and ITERS must be >= 1\n");
		return 2;
	}
	int rc = 1;
	double t0 = now_ms();
	ft_trainer *t;
	if (ft_trainer_new(argv[1], &cfg, &t)) {
		fprintf(stderr, "%s\n", ft_last_error());
		return 1;
	}
	double t_load = now_ms() - t0;

	// images is (batch, C, H, W) as the model's input, labels (batch)
	const ft_tensor *xt = &t->g->tensors[t->input];
	int64_t classes = t->g->tensors[t->logits].dims[1];
	float *images = malloc(sizeof(float) * (size_t)xt->numel);
	int64_t *labels = malloc(sizeof(int64_t) * (size_t)cfg.batch);
	double *times = malloc(sizeof(double) * (size_t)iters);
	if (!images || !labels || !times) {
		fprintf(stderr, "bench_train: out of memory\n");
		goto out_free;
	}
	uint64_t s = 1;
	for (int64_t i = 0; i < xt->numel; i++)
		images[i] = (float)((double)next(&s) / 9007199254740992.0 * 2 - 1);
	for (int64_t i = 0; i < cfg.batch; i++)
		labels[i] = (int64_t)(next(&s) % (uint64_t)classes);

	float loss = 0, loss_first = 0;
	for (int i = -2; i < iters; i++) { /* two warm-up steps */
		double a = now_ms();
		if (ft_trainer_step(t, images, labels, cfg.lr, &loss)) {
			fprintf(stderr, "%s\n", ft_last_error());
			goto out_free;
		}
		if (i >= 0)
			times[i] = now_ms() - a;
		if (i == -2)
			loss_first = loss;
	}
	qsort(times, (size_t)iters, sizeof(double), cmp_double);
	printf("load_ms %.1f step_ms_median %.1f step_ms_min %.1f loss_first %.4f loss_last %.4f\n", t_load,
	       times[iters / 2], times[0], loss_first, loss);
	rc = 0;
out_free:
	free(times);
	free(labels);
	free(images);
	ft_trainer_free(t);
	return rc;
}
