/*
 * cli_train.c - `ftrun train` and `ftrun eval`: the training loop around
 * ft_trainer (runtime/train.h), the dataset reader (runtime/data.h) and
 * checkpoints (runtime/checkpoint.h).
 *
 * A run is a sequence of optimizer steps; each step takes grad_accum
 * micro-batches, which are batches (epoch, index) of the dataset in order.
 * The position (epoch, index, step) is all the state the data and schedule
 * need, so a checkpoint with the weights and optimizer state resumes exactly.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "data.h"
#include "dist.h"
#include "export.h"
#include "import.h"
#include "loader.h"
#include "tensor_proto.h"
#include "tensorboard.h"
#include "train.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * Linear warmup over warmup steps, then cosine to 0 at total (timm's defaults
 * without restarts), or step: base x gamma^(epochs done / step size), the
 * epoch counted in optimizer steps from the start (torchvision's StepLR, which
 * steps once an epoch), or none.
 */
static float schedule(const ft_cli *c, int64_t step, int64_t total, int64_t steps_per_epoch)
{
	double base = c->lr;
	if (c->warmup_steps > 0 && step < c->warmup_steps)
		return (float)(base * (double)(step + 1) / (double)c->warmup_steps);
	if (c->sched && strcmp(c->sched, "step") == 0)
		return (float)(base * pow(c->lr_gamma, (double)(step / steps_per_epoch / c->lr_step_size)));
	if (!c->sched || strcmp(c->sched, "none") == 0 || total <= c->warmup_steps)
		return (float)base;
	double t = (double)(step - c->warmup_steps) / (double)(total - c->warmup_steps);
	return (float)(c->min_lr + (base - c->min_lr) * 0.5 * (1.0 + cos(M_PI * t)));
}

/* --mean and --std (one value or three; 0.5 each without them) */
static void normalisation(const ft_cli *c, float mean[3], float std[3])
{
	for (int k = 0; k < 3; k++) {
		mean[k] = (float)(c->n_mean ? c->mean[c->n_mean == 1 ? 0 : k] : 0.5);
		std[k] = (float)(c->n_std ? c->std[c->n_std == 1 ? 0 : k] : 0.5);
	}
}

void ft_cli_data_config(const ft_cli *c, const ft_tensor *x, bool train, ft_data_config *d)
{
	ft_data_config_defaults(d);
	d->path = c->data;
	d->train = train;
	d->channels = (int)x->dims[1];
	d->height = (int)x->dims[2];
	d->width = (int)x->dims[3];
	d->seed = (uint64_t)c->seed;
	d->workers = (int)c->workers;
	d->hflip = train && !c->no_hflip && !(c->augment && strcmp(c->augment, "none") == 0);
	d->crop = !c->augment || strcmp(c->augment, "auto") == 0 ? FT_CROP_AUTO
		  : strcmp(c->augment, "rrc") == 0 ? FT_CROP_RRC : FT_CROP_NONE;
	d->skip_bad = c->skip_bad;
	normalisation(c, d->mean, d->std);
}

/* the loader options of the command line (loader.h) */
void ft_cli_loader_config(const ft_cli *c, ft_loader_config *lc)
{
	ft_loader_config_defaults(lc);
	lc->batch = c->batch;
	lc->workers = (int)c->workers;
	lc->depth = (int)c->prefetch;
	lc->staging = c->pin_mem ? FT_STAGING_PINNED : FT_STAGING_PAGEABLE;
}

/*
 * top-1 accuracy of the model at path on the held-out split, with the
 * parameters and state of trainer t when given (evaluation after training).
 * With d (data parallel), rank r evaluates batches r, r+W, ... with rank 0's
 * BatchNorm statistics and the counts are summed: every rank gets the result.
 * It runs where the trainer runs, reading the trained values in place (on a
 * GPU: no copy of the model, the batches go up, the logits come down); without
 * a trainer (`ftrun eval`) on --device (the CPU by default). The caller holds t
 * in its host view and gets it back so.
 */
static ft_status evaluate(const ft_cli *c, const char *path, ft_trainer *t, ft_dist *d, double *top1,
			  double *top5, int64_t *count, const char **where)
{
	ft_graph *g = NULL;
	ft_exec *x = NULL;
	ft_dataset *ds = NULL;
	ft_loader *ld = NULL;
	float *logits = NULL;
	int64_t b = c->batch;
	int64_t rank = d ? d->rank : 0, world = d ? d->size : 1;
	ft_backend be = { 0 }, own = { 0 }; /* own: made here (ftrun eval), destroyed here */
	bool device_view = false;
	ft_status st = d && t ? ft_dist_broadcast_state(d, t) : FT_OK;
	if (st)
		return st;
	if (t && strcmp(t->be.iface->name, "cpu") != 0) {
		be = t->be;
		ft_trainer_host_view(t, false); /* the eval graph binds the device copies */
		device_view = true;
	}
	st = t ? ft_trainer_eval_graph(t, b, &g) : ft_import_file(path, &g);
	if (st)
		goto out_free;
	if (!t)
		st = ft_graph_specialise(g, b, NULL, 0);
	if (st)
		goto out_free;
	if (!t && c->device && (st = ft_pick_backend(c->device, (int)c->threads, g, &own)))
		goto out_free;
	if (!be.iface)
		be = own.iface ? own : ft_backend_cpu_new((int)c->threads);
	if (g->n_inputs != 1 || g->tensors[g->inputs[0]].rank != 4) {
		st = ft_error(FT_EUNSUPPORTED, "%s: eval needs one image input (N,C,H,W)", path);
		goto out_free;
	}
	ft_data_config dc;
	ft_cli_data_config(c, &g->tensors[g->inputs[0]], false, &dc);
	if (!t && (st = ft_graph_input_u8(g, 0, dc.mean, dc.std))) /* uint8 batches, normalised in the graph */
		goto out_free;
	const ft_tensor *xt = &g->tensors[g->inputs[0]], *yt = &g->tensors[g->outputs[0]];
	if (yt->rank != 2) {
		st = ft_error(FT_EBADINPUT, "%s: the first output is not (N, classes)", path);
		goto out_free;
	}
	st = ft_dataset_open(&dc, &ds);
	if (st)
		goto out_free;
	if (ft_dataset_classes(ds) > yt->dims[1]) { /* (a label past the logits would be read as one) */
		st = ft_error(FT_EBADINPUT, "%s has %d classes, the model's output has %lld", c->data,
			      ft_dataset_classes(ds), (long long)yt->dims[1]);
		goto out_free;
	}
	st = ft_exec_new(g, be, &x);
	if (st)
		goto out_free;
	*where = be.iface->name;
	logits = ft_xmalloc(ft_tensor_bytes(yt));
	int64_t n = ft_dataset_size(ds), right = 0, right5 = 0, seen = 0, classes = yt->dims[1];
	/* each rank a contiguous run of the batches (the counts are summed over ranks) */
	int64_t nb = (n + b - 1) / b, lo = nb * rank / world, hi = nb * (rank + 1) / world;
	if (hi > lo) {
		ft_loader_config lc;
		ft_cli_loader_config(c, &lc);
		lc.per_epoch = nb; /* the last batch may be partial */
		lc.index = lo;
		lc.limit = hi - lo;
		st = ft_loader_new(ds, &lc, &ld);
		if (st)
			goto out_free;
	}
	for (int64_t start = lo * b; start < hi * b; start += b) {
		/* rows of the last batch past the end have label -1 and do not count */
		ft_loader_slot sl;
		st = ft_loader_next(ld, &sl);
		if (st == FT_OK)
			st = ft_exec_set_input(x, 0, sl.images, ft_tensor_bytes(xt));
		if (st == FT_OK)
			st = ft_exec_run(x);
		if (st == FT_OK)
			st = ft_exec_get_output(x, 0, logits, ft_tensor_bytes(yt));
		if (st)
			goto out_free;
		const int64_t *labels = sl.labels;
		for (int64_t i = 0; i < b && start + i < n; i++) {
			/* the label's rank: the classes above it, a tie going to the lower index (as the
			 * first maximum is the top-1 answer); top-1 is rank 0, top-5 ranks 0..4; a NaN
			 * at the label ranks last (no comparison with it holds) */
			const float *row = logits + i * classes, v = row[labels[i]];
			int64_t above = v != v ? classes : 0;
			for (int64_t k = 0; k < classes && v == v; k++)
				above += row[k] > v || (row[k] == v && k < labels[i]);
			right += above == 0;
			right5 += above < 5;
			seen++;
		}
		ft_loader_release(ld, &sl);
	}
	int64_t counts[3] = { right, right5, seen };
	if (d && (st = ft_dist_sum_i64(d, counts, 3, "the evaluation's counts")))
		goto out_free;
	*top1 = counts[2] ? (double)counts[0] / (double)counts[2] : 0;
	*top5 = classes <= 5 ? -1 : counts[2] ? (double)counts[1] / (double)counts[2] : 0; /* (-1: 5 classes or fewer) */
	*count = counts[2];
out_free:
	ft_loader_free(ld);
	free(logits);
	ft_exec_free(x);
	ft_dataset_free(ds);
	ft_graph_free(g);
	if (own.iface && own.iface->destroy)
		own.iface->destroy(own.ctx);
	if (device_view)
		ft_trainer_host_view(t, true);
	return st;
}

int ft_cmd_eval(const ft_cli *c)
{
	if (!c->data)
		return ft_cli_bad_usage("eval needs --data PATH%s", "");
	double top1, top5;
	int64_t n;
	const char *where = "";
	ft_status st = evaluate(c, c->model, NULL, NULL, &top1, &top5, &n, &where);
	if (st)
		return ft_cli_fail(st);
	printf("top1 %.4f\n", top1);
	if (top5 >= 0)
		printf("top5 %.4f\n", top5);
	fprintf(stderr, "(%lld held-out images, evaluated on %s)\n", (long long)n, where);
	return 0;
}

static const void *host_value(void *ctx, int id)
{
	return ((ft_trainer *)ctx)->g->tensors[id].data;
}

/* data_pct: the share of the step's wall time spent waiting for the loader */
static const char metrics_header[] = "step,epoch,loss,lr,images_per_s,seconds,data_pct";
static const char epochs_header[] = "epoch,train_loss,test_top1,seconds,test_top5";

/*
 * Opens a CSV of the run for appending. A fresh run starts it with its header.
 * A resumed run keeps the header and the complete rows whose first field (step
 * or epoch) is below keep_below: a run killed after its last checkpoint has
 * rows past it, maybe a partial last line, and the resumed run writes those
 * steps again. With loss_sum, the losses (third field) of the kept rows of
 * epoch give back the sum and count the epoch's mean train loss needs.
 */
static ft_status open_csv(const char *path, const char *header, bool resume, int64_t keep_below, int64_t epoch,
			  double *loss_sum, int64_t *loss_rows, FILE **out)
{
	if (resume && access(path, F_OK) == 0) {
		void *data;
		size_t len, n = 0;
		FT_TRY(ft_read_file(path, &data, &len));
		char *kept = ft_xmalloc(len + strlen(header) + 2);
		n += (size_t)sprintf(kept, "%s\n", header);
		const char *p = data, *end = p + len;
		for (const char *nl; p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
			/* every parsed line ends in '\n', so strtoll/strtod stop inside it */
			char *e;
			long long first = strtoll(p, &e, 10);
			if (e == p || *e != ',' || first >= keep_below)
				continue; /* the header, or a row past the checkpoint */
			memcpy(kept + n, p, (size_t)(nl + 1 - p));
			n += (size_t)(nl + 1 - p);
			if (loss_sum && strtoll(e + 1, &e, 10) == epoch && *e == ',') {
				*loss_sum += (float)strtod(e + 1, NULL);
				(*loss_rows)++;
			}
		}
		free(data);
		ft_status st = ft_write_file_atomic(path, kept, n);
		free(kept);
		FT_TRY(st);
	}
	FILE *f = fopen(path, resume ? "a" : "w");
	if (!f)
		return ft_error(FT_ERUNTIME, "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) == 0 && ftell(f) == 0)
		fprintf(f, "%s\n", header);
	*out = f;
	return FT_OK;
}

/* " top5 0.9876" into buf */
static const char *fmt_top5(double top5, char buf[32])
{
	snprintf(buf, 32, " top5 %.4f", top5);
	return buf;
}

/*
 * rank 0 at an epoch's end: its row of epochs.csv and its TensorBoard scalars (top1 < 0: not
 * evaluated; top5 < 0: not evaluated, or 5 classes or fewer). top5 is the last column, so the
 * columns of earlier versions keep their places.
 */
static ft_status epoch_row(FILE *ecsv, ft_tb_writer *tb, int64_t epoch, double loss, double top1, double top5,
			   double seconds)
{
	fprintf(ecsv, "%lld,%.5f,%.4f,%.1f,%.4f\n", (long long)epoch, loss, top1, seconds, top5);
	fflush(ecsv);
	if (!tb)
		return FT_OK;
	double wall = ft_tb_now();
	FT_TRY(ft_tb_scalar(tb, "epoch/loss", epoch, wall, (float)loss));
	if (top1 >= 0)
		FT_TRY(ft_tb_scalar(tb, "epoch/top1", epoch, wall, (float)top1));
	if (top5 >= 0)
		FT_TRY(ft_tb_scalar(tb, "epoch/top5", epoch, wall, (float)top5));
	return ft_tb_flush(tb);
}

/* the signal that stops the run: this process's alone, or the ranks' agreed one (dist.h) */
static int stopping(const ft_dist *d)
{
	return d->size > 1 ? d->stop_sig : (int)stop_signal;
}

/*
 * The settings every rank must share, checked before anything is built: the
 * model's bytes, the batch, accumulation, precision, optimizer and schedule.
 */
static ft_status agree_at_start(ft_dist *d, const ft_cli *c)
{
	int64_t hash, bytes;
	FT_TRY(ft_dist_file_hash(c->model, &hash, &bytes));
	/* (a text field compares its first 8 characters; glob lists share theirs) */
	int64_t freeze_hash = c->freeze ? (int64_t)ft_crc32c(0, c->freeze, strlen(c->freeze)) + 1 : 0;
	const ft_dist_field f[] = {
		{ .what = "the model file (crc32c of its bytes)", .kind = FT_DIST_HASH, .i = hash },
		{ .what = "the model file's size in bytes", .kind = FT_DIST_INT, .i = bytes },
		{ .what = "the batch size (-b)", .kind = FT_DIST_INT, .i = c->batch },
		{ .what = "--grad-accum-steps", .kind = FT_DIST_INT, .i = c->grad_accum },
		{ .what = "--amp", .kind = FT_DIST_TEXT, .text = c->amp ? c->amp : "off" },
		{ .what = "--amp-init-scale", .kind = FT_DIST_REAL, .r = c->amp_init_scale },
		{ .what = "--amp-growth-interval", .kind = FT_DIST_INT, .i = c->amp_growth_interval },
		{ .what = "--opt", .kind = FT_DIST_TEXT, .text = c->opt ? c->opt : "sgd" },
		{ .what = "--lr", .kind = FT_DIST_REAL, .r = c->lr },
		{ .what = "--momentum", .kind = FT_DIST_REAL, .r = c->momentum },
		{ .what = "--nesterov", .kind = FT_DIST_INT, .i = c->nesterov },
		{ .what = "--wd", .kind = FT_DIST_REAL, .r = c->wd },
		{ .what = "--wd-all", .kind = FT_DIST_INT, .i = c->decay_all },
		{ .what = "--label-smoothing", .kind = FT_DIST_REAL, .r = c->label_smoothing },
		{ .what = "--clip-grad-norm", .kind = FT_DIST_REAL, .r = c->clip_grad_norm },
		{ .what = "--sched", .kind = FT_DIST_TEXT, .text = c->sched },
		{ .what = "--warmup-steps", .kind = FT_DIST_INT, .i = c->warmup_steps },
		{ .what = "--lr-step-size", .kind = FT_DIST_INT, .i = c->lr_step_size },
		{ .what = "--lr-gamma", .kind = FT_DIST_REAL, .r = c->lr_gamma },
		{ .what = "--warmup-epochs", .kind = FT_DIST_INT, .i = c->warmup_epochs },
		{ .what = "--min-lr", .kind = FT_DIST_REAL, .r = c->min_lr },
		{ .what = "--seed", .kind = FT_DIST_INT, .i = c->seed },
		{ .what = "--steps", .kind = FT_DIST_INT, .i = c->steps },
		{ .what = "--epochs", .kind = FT_DIST_INT, .i = c->epochs },
		{ .what = "--no-hflip", .kind = FT_DIST_INT, .i = c->no_hflip },
		{ .what = "--sync-bn", .kind = FT_DIST_INT, .i = c->sync_bn },
		{ .what = "--bucket-cap-mb", .kind = FT_DIST_REAL, .r = c->bucket_cap_mb },
		{ .what = "--freeze (crc32c of the list)", .kind = FT_DIST_HASH, .i = freeze_hash },
	};
	return ft_dist_agree(d, "at start", f, (int)FT_ARRAY_LEN(f));
}

void ft_cli_train_config(const ft_cli *c, ft_train_config *cfg)
{
	ft_train_config_defaults(cfg);
	cfg->batch = c->batch;
	cfg->grad_accum = (int)c->grad_accum;
	cfg->opt = c->opt && strcmp(c->opt, "adamw") == 0 ? FT_OPT_ADAMW : FT_OPT_SGD;
	cfg->lr = (float)c->lr;
	cfg->momentum = (float)c->momentum;
	cfg->nesterov = c->nesterov;
	cfg->weight_decay = (float)c->wd;
	cfg->decay_all = c->decay_all;
	cfg->label_smoothing = (float)c->label_smoothing;
	cfg->clip_grad_norm = (float)c->clip_grad_norm;
	cfg->threads = (int)c->threads;
	cfg->device = c->device;
	cfg->seed = (uint64_t)c->seed;
	cfg->freeze = c->freeze;
	ft_cli_amp(c, cfg);
	cfg->input_u8 = true; /* uint8 batches from the loader, normalised in the graph (loader.h) */
	normalisation(c, cfg->mean, cfg->std);
}

const char *ft_cli_mib(size_t bytes, char buf[32])
{
	snprintf(buf, 32, "%.1f MiB", (double)bytes / (1 << 20));
	return buf;
}

int ft_cli_fit_batch(ft_cli *c, ft_train_config *cfg)
{
	char b1[32], b2[32], b3[32];
	if (c->global_batch && c->max_memory) {
		if (c->batch_set || c->accum_set)
			return ft_cli_bad_usage("--global-batch with --max-memory chooses the micro-batch and the "
						"accumulation steps%s: drop -b and --grad-accum-steps", "");
		ft_batch_fit fit;
		ft_status st = ft_trainer_fit_batch(c->model, cfg, c->global_batch, c->max_memory, &fit);
		if (st)
			return ft_cli_fail(st);
		fprintf(stderr, "global batch %lld within --max-memory %s: micro-batch %lld x %lld accumulation steps, "
			"planned peak %s", (long long)c->global_batch, ft_cli_mib(c->max_memory, b1), (long long)fit.micro,
			(long long)fit.accum, ft_cli_mib(fit.planned, b2));
		if (fit.larger)
			fprintf(stderr, "; micro-batch %lld would plan %s", (long long)fit.larger,
				ft_cli_mib(fit.larger_planned, b3));
		fprintf(stderr, "; %d plans built\n", fit.probes);
		c->batch = fit.micro;
		c->grad_accum = fit.accum;
	} else if (c->global_batch) {
		if (c->accum_set)
			return ft_cli_bad_usage("--global-batch sets the accumulation steps%s: drop --grad-accum-steps "
						"(or add --max-memory to have the micro-batch chosen too)", "");
		if (c->global_batch % c->batch)
			return ft_cli_fail(ft_error(FT_EBADINPUT, "--global-batch %lld is not a multiple of the micro-batch "
						    "%lld (-b)", (long long)c->global_batch, (long long)c->batch));
		c->grad_accum = c->global_batch / c->batch;
		fprintf(stderr, "global batch %lld: micro-batch %lld x %lld accumulation steps\n",
			(long long)c->global_batch, (long long)c->batch, (long long)c->grad_accum);
	} else if (c->max_memory) {
		size_t planned;
		ft_status st = ft_trainer_plan(c->model, cfg, &planned);
		if (st)
			return ft_cli_fail(st);
		if (planned > c->max_memory)
			return ft_cli_fail(ft_error(FT_EBADINPUT, "one step of micro-batch %lld x %lld accumulation steps "
						    "plans %s, more than --max-memory %s: lower -b, or give "
						    "--global-batch to have ftrun choose", (long long)c->batch,
						    (long long)c->grad_accum, ft_cli_mib(planned, b1), ft_cli_mib(c->max_memory, b2)));
	}
	cfg->batch = c->batch;
	cfg->grad_accum = (int)c->grad_accum;
	return 0;
}

/* *collective: every rank ends with this code (a disagreement, an agreed stop), so none is left waiting */
static int train(const ft_cli *args, ft_dist *d, bool *collective)
{
	ft_cli cl = *args, *c = &cl; /* --global-batch / --max-memory settle the batch */
	if (!c->data)
		return ft_cli_bad_usage("train needs --data PATH|synthetic%s", "");
	/* (--opt and --sched values were checked when the command line was read) */
	if (c->min_lr > 0 && c->sched && strcmp(c->sched, "cosine"))
		return ft_cli_bad_usage("--min-lr is where --sched cosine ends; --sched %s has none", c->sched);
	if (c->min_lr > c->lr)
		return ft_cli_bad_usage("--min-lr above --lr%s", "");
	if (c->warmup_epochs && c->warmup_steps)
		return ft_cli_bad_usage("--warmup-epochs and --warmup-steps both given: one or the other%s", "");
	const char *outdir = c->output_dir ? c->output_dir : "ftrun-out";
	if (ft_mkdir_p(outdir) != 0) {
		fprintf(stderr, "ftrun: cannot create %s: %s\n", outdir, strerror(errno));
		return 1;
	}
	const bool root = ft_dist_is_root(d);
	int rc_out = root && c->out_file ? ft_cli_check_output(c->out_file) : 0; /* (only rank 0 writes it) */
	if (rc_out)
		return rc_out;
	ft_status st = d->size > 1 ? agree_at_start(d, c) : FT_OK;
	if (st) {
		*collective = strstr(ft_last_error(), "the ranks disagree") != NULL;
		ft_error_prefix("rank %d of %d", d->rank, d->size);
		return ft_cli_fail(st);
	}
	ft_train_config cfg;
	ft_cli_train_config(c, &cfg);
	cfg.seed = ft_dist_rank_seed(d, (uint64_t)c->seed); /* dropout masks differ per rank */
	cfg.sync_bn = c->sync_bn;
	char device[32];
	if (d->size > 1 && (!cfg.device || !strcmp(cfg.device, "auto") || !strcmp(cfg.device, "cuda"))) {
		/* one GPU per rank of this machine: its local rank's, modulo the GPUs it sees (api.c) */
		snprintf(device, sizeof(device), "%s%d", cfg.device && !strcmp(cfg.device, "cuda") ? "cuda@" : "auto:",
			 d->local_rank);
		cfg.device = device;
	}
	d->bucket_cap = (size_t)(c->bucket_cap_mb * 1048576.0);
	if (d->size > 1 && c->global_batch) { /* the global batch is over all ranks: each takes its share */
		if (c->global_batch % d->size)
			return ft_cli_fail(ft_error(FT_EBADINPUT, "--global-batch %lld is not a multiple of the %d ranks",
						    (long long)c->global_batch, d->size));
		c->global_batch /= d->size;
	}
	int fit = ft_cli_fit_batch(c, &cfg);
	if (fit)
		return fit;
	ft_trainer *t = NULL;
	ft_dataset *ds = NULL;
	ft_loader *ld = NULL;
	ft_loader_ahead feed = { 0 }; /* (ld NULL: nothing held) */
	FILE *csv = NULL, *ecsv = NULL;
	ft_tb_writer *tb = NULL;
	int rc = 0;
	st = ft_trainer_new(c->model, &cfg, &t);
	for (int i = 0; root && st == FT_OK && i < t->g->n_warnings; i++) /* (what the import noticed) */
		fprintf(stderr, "ftrun: warning: %s\n", t->g->warnings[i]);
	if (st == FT_OK)
		st = ft_dist_attach(d, t, &stop_signal);
	if (st)
		goto out_free;
	const ft_tensor *xt = &t->g->tensors[t->input];
	if (xt->rank != 4) {
		st = ft_error(FT_EUNSUPPORTED, "%s: train needs an image input (N,C,H,W)", c->model);
		goto out_free;
	}
	ft_data_config dc;
	ft_cli_data_config(c, xt, true, &dc);
	st = ft_dataset_open(&dc, &ds);
	if (st)
		goto out_free;
	int64_t classes = t->g->tensors[t->logits].dims[1];
	if (ft_dataset_classes(ds) > classes) {
		st = ft_error(FT_EBADINPUT, "%s has %d classes, the model's output has %lld", c->data,
			      ft_dataset_classes(ds), (long long)classes);
		goto out_free;
	}
	int64_t per_epoch = ft_dataset_batches(ds, c->batch);
	int64_t per_step = c->grad_accum * d->size; /* micro-batches of every rank in one step */
	if (per_epoch < per_step) {
		st = ft_error(FT_EBADINPUT, "%s: %lld images make fewer than one step of %lld x %lld x %d ranks", c->data,
			      (long long)ft_dataset_size(ds), (long long)c->grad_accum, (long long)c->batch, d->size);
		goto out_free;
	}
	int64_t steps_per_epoch = per_epoch / per_step;
	if (c->warmup_epochs)
		c->warmup_steps = c->warmup_epochs * steps_per_epoch;
	int64_t total = c->steps > 0 ? c->steps : c->epochs * steps_per_epoch;
	ft_ckpt_meta meta = { .seed = c->seed, .micro_batch = c->batch, .grad_accum = c->grad_accum };
	if (c->resume) {
		ft_trainer_host_view(t, true); /* the checkpoint's values go to host memory, then the device */
		st = ft_checkpoint_load(t->g, &meta, c->resume);
		ft_trainer_host_view(t, false);
		if (st)
			goto out_free;
		/* the position counts batches of the micro-batch size, whatever the accumulation and
		 * world size were: those may change (docs/distributed.md), the batch size may not */
		if (meta.seed != c->seed || meta.micro_batch != c->batch) {
			st = ft_error(FT_EBADINPUT, "%s: the checkpoint was made with seed %lld, batch %lld; this run "
				      "has %lld, %lld", c->resume, (long long)meta.seed, (long long)meta.micro_batch,
				      (long long)c->seed, (long long)c->batch);
			goto out_free;
		}
		meta.grad_accum = c->grad_accum;
		t->step = meta.step;
		ft_trainer_params_changed(t);
		if (root)
			fprintf(stderr, "resumed from %s at step %lld (epoch %lld, batch %lld)\n", c->resume,
				(long long)meta.step, (long long)meta.epoch, (long long)meta.batch);
	}
	if (d->size > 1) {
		const ft_dist_field f[] = {
			{ .what = "the training images", .kind = FT_DIST_INT, .i = ft_dataset_size(ds) },
			{ .what = "the classes of the data", .kind = FT_DIST_INT, .i = ft_dataset_classes(ds) },
			{ .what = "the resumed step", .kind = FT_DIST_INT, .i = meta.step },
			{ .what = "the resumed epoch", .kind = FT_DIST_INT, .i = meta.epoch },
			{ .what = "the resumed batch", .kind = FT_DIST_INT, .i = meta.batch },
		};
		st = ft_dist_agree(d, "on the data and the resumed position", f, (int)FT_ARRAY_LEN(f));
		if (st) {
			*collective = true;
			goto out_free;
		}
	}
	char path[4200];
	double epoch_loss = 0;
	int64_t epoch_steps = 0;
	snprintf(path, sizeof(path), "%s/metrics.csv", outdir);
	/* rank 0 writes every file of the run */
	st = root ? open_csv(path, metrics_header, c->resume, meta.step + 1, meta.epoch, &epoch_loss, &epoch_steps, &csv)
		  : FT_OK;
	if (st)
		goto out_free;
	if (c->tensorboard && root) {
		snprintf(path, sizeof(path), "%s/tensorboard", outdir);
		st = ft_tb_open(path, &tb);
		if (st)
			goto out_free;
	}
	ft_loader_config lc;
	ft_cli_loader_config(c, &lc);
	ft_staging_allocator pinned;
	if (ft_backend_staging(&t->be, &pinned)) /* page-locked staging on a GPU */
		lc.allocator = &pinned;
	lc.micro = (int)c->grad_accum;
	lc.stride = d->size; /* rank r's micro-batch m of a step: batch index + m * W + r (dist.h) */
	lc.offset = d->rank;
	lc.per_epoch = per_epoch;
	lc.epoch = meta.epoch;
	lc.index = meta.batch;
	lc.limit = total > t->step ? total - t->step : 1; /* the steps left (<= 0 would mean no end) */
	st = ft_loader_new(ds, &lc, &ld);
	if (st)
		goto out_free;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	bool tty = isatty(2);
	char ranks[128] = "";
	if (d->size > 1)
		snprintf(ranks, sizeof(ranks), " x %d ranks (%s, rank 0 on this line)", d->size, d->launcher);
	if (root)
		fprintf(stderr, "training %s on %s: %lld images, batch %lld x %lld accumulation%s = effective batch %lld, "
			"%lld steps (%lld per epoch), %s, lr %g\n", c->model, c->data, (long long)ft_dataset_size(ds),
			(long long)c->batch, (long long)c->grad_accum, ranks, (long long)(c->batch * per_step),
			(long long)total, (long long)steps_per_epoch, cfg.opt == FT_OPT_ADAMW ? "adamw" : "sgd", c->lr);
	if (root && t->n_frozen)
		fprintf(stderr, "--freeze %s: %d parameter tensors kept as they are, %d trained\n", c->freeze, t->n_frozen,
			t->n_params);
	double t0 = ft_now_s(), t_last = t0, t_step = t0, wait_last = 0, wait_step = 0;
	int64_t images_since = 0, start_step = t->step;
	snprintf(path, sizeof(path), "%s/epochs.csv", outdir);
	st = root ? open_csv(path, epochs_header, c->resume, meta.epoch, 0, NULL, NULL, &ecsv) : FT_OK;
	if (st)
		goto out_free;
	snprintf(path, sizeof(path), "%s/checkpoint.ftck", outdir);
	/* on a GPU the next step's images are fetched before a step and copied while it computes */
	ft_loader_ahead_init(&feed, ld, ft_trainer_copies_ahead(t));
	while (t->step < total && !stopping(d)) {
		const void *next;
		st = ft_loader_ahead_next(&feed, t->step + 1 < total, &next);
		if (st)
			goto out_free;
		const ft_loader_slot sl = feed.cur;
		FT_ASSERT(sl.epoch == meta.epoch && sl.index == meta.batch);
		meta.batch += per_step;
		float lr = schedule(c, t->step, total, steps_per_epoch), loss;
		st = ft_trainer_step_ahead(t, sl.images, sl.labels, lr, next, &loss);
		ft_loader_ahead_done(&feed);
		if (st)
			goto out_free;
		meta.step = t->step;
		epoch_loss += loss;
		epoch_steps++;
		images_since += c->batch * per_step;
		bool epoch_end = meta.batch + per_step > per_epoch;
		double now = ft_now_s();
		double ips = images_since / (now - t_last > 1e-9 ? now - t_last : 1e-9);
		double waited = ft_loader_get_stats(ld).wait_s;
		double data_pct = 100 * (waited - wait_step) / (now - t_step > 1e-9 ? now - t_step : 1e-9);
		wait_step = waited;
		t_step = now;
		/* %.9g: the float reads back exactly (a resumed run sums an epoch's losses from it) */
		if (csv)
			fprintf(csv, "%lld,%lld,%.9g,%.6g,%.1f,%.3f,%.1f\n", (long long)t->step, (long long)meta.epoch, loss,
				lr, ips, now - t0, data_pct);
		if (tb) {
			double wall = ft_tb_now();
			if ((st = ft_tb_scalar(tb, "train/loss", t->step, wall, loss)) ||
			    (st = ft_tb_scalar(tb, "train/lr", t->step, wall, lr)) ||
			    (st = ft_tb_scalar(tb, "train/images_per_s", t->step, wall, (float)ips)))
				goto out_free;
		}
		if (root && (t->step % c->print_every == 0 || t->step == total || epoch_end)) {
			double eta = (now - t0) / (double)(t->step - start_step) * (double)(total - t->step);
			char scaler[64] = "";
			float scale;
			if (t->amp_scale >= 0 && ft_trainer_read(t, t->amp_scale, &scale) == FT_OK) /* fp16: GradScaler */
				snprintf(scaler, sizeof(scaler), " scale %g skipped %lld", scale, (long long)t->skipped);
			/* data: the share of the time since the last line spent waiting for the loader */
			double data = 100 * (waited - wait_last) / (now - t_last > 1e-9 ? now - t_last : 1e-9);
			fprintf(stderr, "%sepoch %lld step %lld/%lld loss %.4f lr %.4g%s %.1f img/s data %.0f%% ETA %.0fs%s",
				tty ? "\r" : "", (long long)meta.epoch, (long long)t->step, (long long)total, loss, lr,
				scaler, ips, data, eta, tty ? "   " : "\n");
			t_last = now;
			wait_last = waited;
			images_since = 0;
			fflush(csv);
			if (tb && (st = ft_tb_flush(tb)))
				goto out_free;
		}
		if (epoch_end) {
			meta.epoch++;
			meta.batch = 0;
		}
		if (epoch_end || (c->checkpoint_every > 0 && t->step % c->checkpoint_every == 0)) {
			ft_trainer_host_view(t, true); /* checkpoint and evaluation read host memory */
			/*
			 * An epoch's row of epochs.csv goes before the checkpoint that ends the epoch, as the
			 * step rows do: a run killed between them resumes from the older checkpoint, which
			 * drops the row and writes it again. With --eval-each-epoch the row needs the
			 * evaluation, which must not hold the checkpoint back (an evaluation that fails, a bad
			 * image of the held-out split, would lose the epoch's training): checkpoint, evaluate,
			 * then the row; a run killed in between resumes after the epoch without its row.
			 */
			bool row_first = epoch_end && !c->eval_each_epoch;
			double epoch_mean = epoch_steps ? epoch_loss / (double)epoch_steps : 0.0;
			if (row_first && root && (st = epoch_row(ecsv, tb, meta.epoch - 1, epoch_mean, -1, -1, ft_now_s() - t0)))
				goto out_free;
			if (root) {
				fflush(csv); /* the rows up to the checkpoint are in the file before it is */
				st = ft_checkpoint_save(t->g, &meta, path);
				if (st)
					goto out_free;
			}
			if (epoch_end && !row_first) {
				double top1 = -1, top5 = -1;
				int64_t n;
				const char *where;
				st = evaluate(c, c->model, t, d, &top1, &top5, &n, &where);
				if (st)
					goto out_free;
				if (root)
					fprintf(stderr, "%sepoch %lld top1 %.4f%s\n", tty ? "\n" : "", (long long)meta.epoch - 1,
						top1, top5 >= 0 ? fmt_top5(top5, (char[32]){ 0 }) : "");
				if (root &&
				    (st = epoch_row(ecsv, tb, meta.epoch - 1, epoch_mean, top1, top5, ft_now_s() - t0)))
					goto out_free;
			}
			if (epoch_end) {
				epoch_loss = 0;
				epoch_steps = 0;
			}
			/* (every rank leaves the host view: the next step runs on the device) */
			ft_trainer_host_view(t, false);
		}
	}
	if (tty && root)
		fputc('\n', stderr);
	ft_trainer_host_view(t, true); /* from here on host code reads the trained values */
	st = root ? ft_checkpoint_save(t->g, &meta, path) : FT_OK;
	if (st)
		goto out_free;
	if (stopping(d)) {
		if (root)
			fprintf(stderr, "stopped by signal %d at step %lld; checkpoint in %s (resume with --resume)\n",
				stopping(d), (long long)t->step, path);
		rc = 128 + stopping(d); /* the shell convention: 130 for SIGINT, 143 for SIGTERM */
		*collective = true;     /* every rank stopped after the same step */
		goto out_free;
	}
	if (c->out_file && root) {
		st = ft_export_model(t->g, c->out_file, host_value, t);
		if (st)
			goto out_free;
		fprintf(stderr, "trained model written to %s\n", c->out_file);
	}
	double top1, top5;
	int64_t n;
	const char *where = "";
	ft_status est = c->no_eval ? FT_OK : evaluate(c, c->model, t, d, &top1, &top5, &n, &where);
	if (est == FT_OK && !c->no_eval && root) {
		printf("top1 %.4f\n", top1);
		if (top5 >= 0)
			printf("top5 %.4f\n", top5);
		fprintf(stderr, "(%lld held-out images, evaluated on %s)\n", (long long)n, where);
	}
	else if (est)
		fprintf(stderr, "ftrun: no held-out evaluation: %s\n", ft_last_error());
out_free:
	if (tb && !st)
		st = ft_tb_flush(tb);
	ft_tb_close(tb);
	if (ecsv)
		fclose(ecsv);
	if (csv)
		fclose(csv);
	ft_loader_ahead_end(&feed);
	ft_loader_free(ld);
	ft_dataset_free(ds);
	ft_dist_detach(d); /* (NCCL's buffers are the trainer's backend's) */
	ft_trainer_free(t);
	if (st && d->size > 1)
		ft_error_prefix("rank %d of %d", d->rank, d->size);
	if (st)
		return ft_cli_fail(st);
	return rc;
}

int ft_cmd_train(const ft_cli *c)
{
	ft_dist *d;
	ft_status st = ft_dist_init(c->dist_timeout, &d);
	if (st)
		return ft_cli_fail(st);
	bool collective = false;
	int rc = train(c, d, &collective);
	if (d->size > 1 && rc != 0 && !collective) {
		/* the other ranks may be waiting in a collective for this one: end them all now */
		fprintf(stderr, "ftrun: rank %d of %d stops the job (exit code %d)\n", d->rank, d->size, rc);
		ft_dist_abort(d, rc);
	}
	ft_dist_free(d);
	return rc;
}
