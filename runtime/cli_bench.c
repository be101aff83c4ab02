/*
 * cli_bench.c - `ftrun bench MODEL`: the gradient accumulation / mixed
 * precision / pinned memory ablation (issue 6), one row per configuration.
 *
 *   baseline  fp32, the whole batch B in one micro-batch, pageable staging
 *   ga        B as K micro-batches of B/K (--grad-accum-steps K, default 4):
 *             the same optimizer step in less activation memory
 *   amp       --amp TYPE (bf16 on the CPU by default)
 *   pm        the loader's staging ring allocated once and reused (page-locked
 *             with cudaHostAlloc on a GPU; on the CPU aligned host memory),
 *             instead of a fresh pageable buffer per batch (`--no-pin-mem`)
 *   ga+amp+pm all three
 *
 * Each configuration runs in its own child process (fork), so that its peak
 * resident memory (ru_maxrss of that child) is its own: W untimed steps, then
 * S timed ones on synthetic data or --data, fed by the training command's
 * loader (uint8 batches, normalised in the graph). Per row: images/s over
 * the timed steps (data included), the median step time, the planned peak of the step
 * and the measured peak resident set, the copy rate into the input tensor
 * (host-to-device on a GPU, a memcpy on the CPU) and the share of the time
 * spent waiting for data; on a device backend also the most device memory
 * ftrun held at once (every allocation through the backend: the planned
 * block, the parameters and state, the kernels' workspace, the input
 * buffers) and the device memory in use at the end beyond what was in use
 * when the backend was made (cuDNN's and cuBLAS's own allocations too).
 * Writes DIR/bench.csv and DIR/bench.png.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chart.h"
#include "cli.h"
#include "data.h"
#include "loader.h"
#include "train.h"

typedef struct bench_config {
	const char *name;
	bool ga, amp, pm;
} bench_config;

static const bench_config configs[] = {
	{ "baseline", false, false, false }, { "ga", true, false, false }, { "amp", false, true, false },
	{ "pm", false, false, true },        { "ga+amp+pm", true, true, true },
};
enum { N_CONFIGS = sizeof(configs) / sizeof(configs[0]) };

typedef struct bench_result {
	int ok;
	char device[16]; /* the backend the configuration ran on */
	int64_t micro, accum;
	double images_per_s, step_ms, planned_mib, copy_gbps, wait_share, loss_first, loss_last;
	double dev_peak_mib, dev_used_mib; /* the backend's memory callback; -1 on the CPU */
} bench_result;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One configuration, in the child: fills *r; returns the exit status. */
static int run_config(const ft_cli *c, const bench_config *bc, int64_t accum, int64_t warmup, bench_result *r)
{
	ft_cli cl = *c;
	cl.batch = bc->ga ? c->batch / accum : c->batch;
	cl.grad_accum = bc->ga ? accum : 1;
	cl.amp = bc->amp ? (c->amp ? c->amp : "bf16") : NULL;
	ft_train_config cfg;
	ft_cli_train_config(&cl, &cfg);
	r->micro = cl.batch;
	r->accum = cl.grad_accum;
	ft_trainer *t = NULL;
	ft_dataset *ds = NULL;
	ft_loader *ld = NULL;
	ft_loader_ahead feed = { 0 }; /* (ld NULL: nothing held) */
	double *step_s = NULL;
	ft_status st = ft_trainer_new(c->model, &cfg, &t);
	if (st)
		goto out;
	snprintf(r->device, sizeof(r->device), "%s", t->be.iface->name);
	const ft_tensor *xt = &t->g->tensors[t->input];
	ft_data_config dc;
	ft_cli_data_config(&cl, xt, true, &dc);
	int64_t need = (warmup + c->steps) * c->batch;
	dc.synthetic_size = need > 1024 ? need : 1024;
	dc.synthetic_classes = (int)t->g->tensors[t->logits].dims[1];
	st = ft_dataset_open(&dc, &ds);
	if (st)
		goto out;
	/* the training command's loader: workers ahead of the step, pinned (reused) or pageable staging */
	ft_loader_config lc;
	ft_cli_loader_config(&cl, &lc);
	lc.micro = (int)cl.grad_accum;
	lc.per_epoch = ft_dataset_batches(ds, cl.batch) / cl.grad_accum * cl.grad_accum;
	lc.limit = warmup + c->steps;
	lc.staging = bc->pm ? FT_STAGING_PINNED : FT_STAGING_PAGEABLE;
	ft_staging_allocator pinned;
	if (bc->pm && ft_backend_staging(&t->be, &pinned)) /* cudaHostAlloc on a GPU */
		lc.allocator = &pinned;
	st = ft_loader_new(ds, &lc, &ld);
	if (st)
		goto out;
	step_s = ft_xcalloc((size_t)c->steps, sizeof(double));
	double wait = 0, total = 0;
	int64_t bytes0 = 0;
	double copy0 = 0;
	/* as the training command: the next step's images fetched first and copied while a step computes */
	ft_loader_ahead_init(&feed, ld, ft_trainer_copies_ahead(t));
	for (int64_t s = 0; s < warmup + c->steps; s++) {
		if (s == warmup) {
			wait = total = 0;
			bytes0 = t->input_bytes;
			copy0 = ft_trainer_copy_seconds(t);
		}
		double t0 = ft_now_s();
		const void *next;
		st = ft_loader_ahead_next(&feed, s + 1 < warmup + c->steps, &next);
		if (st)
			goto out;
		double t1 = ft_now_s();
		float loss = 0;
		st = ft_trainer_step_ahead(t, feed.cur.images, feed.cur.labels, (float)c->lr, next, &loss);
		ft_loader_ahead_done(&feed);
		if (st)
			goto out;
		double t2 = ft_now_s();
		if (s == 0)
			r->loss_first = loss;
		r->loss_last = loss;
		if (s >= warmup) {
			step_s[s - warmup] = t2 - t0;
			wait += t1 - t0;
			total += t2 - t0;
		}
	}
	qsort(step_s, (size_t)c->steps, sizeof(double), cmp_double);
	ft_plan_summary ps;
	r->planned_mib = (double)ft_trainer_planned_bytes(t, &ps) / (1 << 20);
	r->dev_peak_mib = r->dev_used_mib = -1;
	if (t->be.iface->memory) { /* (after the last step: a step allocates nothing, so its peak is the run's) */
		size_t peak, used;
		t->be.iface->memory(t->be.ctx, &peak, &used);
		r->dev_peak_mib = (double)peak / (1 << 20);
		r->dev_used_mib = (double)used / (1 << 20);
	}
	r->images_per_s = (double)(c->steps * c->batch) / total;
	r->step_ms = 1e3 * step_s[c->steps / 2];
	r->wait_share = wait / total;
	double copy_s = ft_trainer_copy_seconds(t) - copy0;
	r->copy_gbps = copy_s > 0 ? (double)(t->input_bytes - bytes0) / copy_s / 1e9 : 0;
	r->ok = 1;
out:
	free(step_s);
	ft_loader_ahead_end(&feed);
	ft_loader_free(ld);
	ft_dataset_free(ds);
	ft_trainer_free(t);
	return st ? ft_cli_fail(st) : 0;
}

static bool wanted(const char *list, const char *name)
{
	if (!list)
		return true;
	size_t n = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return true;
	return false;
}

int ft_cmd_bench(const ft_cli *c)
{
	int64_t accum = c->accum_set ? c->grad_accum : 4;
	int64_t warmup = 2;
	if (c->configs)
		for (const char *p = c->configs; *p;) {
			size_t n = strcspn(p, ",");
			bool known = false;
			for (int i = 0; i < N_CONFIGS; i++)
				known |= strlen(configs[i].name) == n && strncmp(configs[i].name, p, n) == 0;
			if (!known)
				return ft_cli_bad_usage("bench --configs: unknown configuration in \"%s\" (baseline, ga, "
							"amp, pm, ga+amp+pm)", c->configs);
			p += n + (p[n] == ',');
		}
	bool any_ga = false; /* (the batch splits only where a row accumulates) */
	for (int i = 0; i < N_CONFIGS; i++)
		any_ga |= configs[i].ga && wanted(c->configs, configs[i].name);
	if (any_ga && c->batch % accum)
		return ft_cli_bad_usage("bench: the batch (-b) must be a multiple of the accumulation steps of the ga "
					"rows (--grad-accum-steps, default 4)%s", "");
	const char *outdir = c->output_dir ? c->output_dir : "ftrun-bench";
	if (ft_mkdir_p(outdir) != 0) {
		fprintf(stderr, "ftrun: cannot create %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	char ga[64] = "";
	if (any_ga)
		snprintf(ga, sizeof(ga), " (ga: %lld x %lld)", (long long)(c->batch / accum), (long long)accum);
	fprintf(stderr, "bench %s on %s: batch %lld per optimizer step%s, %lld timed steps after %lld, %s, %lld threads\n",
		c->model, c->data ? c->data : "synthetic", (long long)c->batch, ga, (long long)c->steps, (long long)warmup,
		c->amp ? c->amp : "amp rows in bf16", (long long)c->threads);
	ft_train_config once; /* the environment's warnings (FT_REMAT) here, once, not in every child */
	ft_train_config_defaults(&once);
	bench_result res[N_CONFIGS];
	double rss_mib[N_CONFIGS];
	const char *names[N_CONFIGS];
	int n = 0, rc = 0;
	printf("%-10s %9s %10s %9s %12s %12s %10s %7s %11s %11s\n", "config", "batch", "images/s", "step ms",
	       "planned MiB", "peak RSS MiB", "copy GB/s", "wait %", "device MiB", "in use MiB");
	for (int i = 0; i < N_CONFIGS; i++) {
		if (!wanted(c->configs, configs[i].name))
			continue;
		int fd[2];
		if (pipe(fd) != 0) {
			fprintf(stderr, "ftrun: pipe: %s\n", strerror(errno));
			return 1;
		}
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "ftrun: fork: %s\n", strerror(errno));
			return 1;
		}
		if (pid == 0) {
			close(fd[0]);
			bench_result r = { 0 };
			int code = run_config(c, &configs[i], accum, warmup, &r);
			ssize_t w = write(fd[1], &r, sizeof(r));
			_exit(w == (ssize_t)sizeof(r) ? code : 1);
		}
		close(fd[1]);
		bench_result r = { 0 };
		ssize_t got = read(fd[0], &r, sizeof(r));
		close(fd[0]);
		int status = 0;
		struct rusage ru;
		if (wait4(pid, &status, 0, &ru) < 0 || got != (ssize_t)sizeof(r) || !r.ok) {
			int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
			fprintf(stderr, "ftrun: bench configuration %s failed (%s %d)\n", configs[i].name,
				WIFEXITED(status) ? "exit" : "signal",
				WIFEXITED(status) ? code : WTERMSIG(status));
			rc = code ? code : 1;
			continue;
		}
		res[n] = r;
		rss_mib[n] = (double)ru.ru_maxrss / 1024; /* KiB on Linux */
		names[n] = configs[i].name;
		char batch[32];
		snprintf(batch, sizeof(batch), "%lldx%lld", (long long)r.micro, (long long)r.accum);
		char dev[2][32] = { "-", "-" };
		if (r.dev_peak_mib >= 0) {
			snprintf(dev[0], sizeof(dev[0]), "%.1f", r.dev_peak_mib);
			snprintf(dev[1], sizeof(dev[1]), "%.1f", r.dev_used_mib);
		}
		printf("%-10s %9s %10.1f %9.1f %12.1f %12.1f %10.2f %7.1f %11s %11s\n", names[n], batch, r.images_per_s,
		       r.step_ms, r.planned_mib, rss_mib[n], r.copy_gbps, 100 * r.wait_share, dev[0], dev[1]);
		fflush(stdout);
		n++;
	}
	if (!n)
		return rc ? rc : 1;
	char path[4200];
	snprintf(path, sizeof(path), "%s/bench.csv", outdir);
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "ftrun: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f, "config,micro_batch,accum,images_per_s,step_ms,planned_mib,peak_rss_mib,copy_gb_per_s,wait_share,"
		   "loss_first,loss_last,device_peak_mib,device_in_use_mib\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s,%lld,%lld,%.2f,%.2f,%.1f,%.1f,%.3f,%.4f,%.5g,%.5g,%.1f,%.1f\n", names[i],
			(long long)res[i].micro, (long long)res[i].accum, res[i].images_per_s, res[i].step_ms,
			res[i].planned_mib, rss_mib[i], res[i].copy_gbps, res[i].wait_share, res[i].loss_first,
			res[i].loss_last, res[i].dev_peak_mib, res[i].dev_used_mib);
	if (fclose(f) != 0) {
		fprintf(stderr, "ftrun: cannot write %s\n", path);
		return 1;
	}
	double values[3 * N_CONFIGS];
	for (int i = 0; i < n; i++) {
		values[i] = res[i].images_per_s;
		values[n + i] = res[i].planned_mib;
		values[2 * n + i] = 100 * res[i].wait_share;
	}
	static const char *const panels[] = { "images/s", "planned peak MiB", "waiting for data %" };
	const char *base = strrchr(c->model, '/');
	char title[256];
	snprintf(title, sizeof(title), "ftrun bench %s, batch %lld, %s", base ? base + 1 : c->model,
		 (long long)c->batch, res[0].device);
	snprintf(path, sizeof(path), "%s/bench.png", outdir);
	ft_status st = ft_chart_bars(path, title, n, names, 3, panels, values);
	if (st)
		return ft_cli_fail(st);
	fprintf(stderr, "wrote %s/bench.csv and %s/bench.png\n", outdir, outdir);
	return rc;
}
