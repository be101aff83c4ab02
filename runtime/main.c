/*
 * main.c - the `ftrun` command line: a thin layer over include/ftrun.h and the
 * inspection helpers. Exit codes: 0 success, 1 runtime failure, 2 bad input.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <execinfo.h>
#endif

#include "amp.h"
#include "dist.h"
#include "export.h"
#include "ftrun.h"
#include "import.h"
#include "inspect.h"
#include "train.h"

#include "cli.h"

enum { EXIT_BAD = FT_EXIT_BAD, MAX_INPUTS = FT_CLI_MAX_INPUTS };

static const char usage[] =
	"usage: ftrun COMMAND MODEL.onnx [options]\n"
	"\n"
	"commands:\n"
	"  inspect MODEL.onnx [-b N] [--params] [--amp fp16|bf16] [--device ...] [--train [--peak]\n"
	"      [--opt sgd|adamw] [--freeze GLOB,...]\n"
	"      [--grad-accum-steps K] [--global-batch G] [--max-memory SIZE] [train's other options]]\n"
	"      ops, parameters (--params: each one's name and shape), FLOPs and planned memory for\n"
	"      batch N (default 1); --amp: each node's\n"
	"      type under autocast; with --train the planned peak memory of one training step (a\n"
	"      train command line with `inspect --train` for `train` plans that run); --peak: what\n"
	"      is live at that peak, by the op that made it and the largest tensors\n"
	"  run MODEL.onnx --input FILE.pb [--input FILE.pb ...] --output-dir DIR\n"
	"      [--device cpu|cuda[:N]|auto|devsim] [--threads N]\n"
	"      inference; inputs are ONNX TensorProto files bound to the graph inputs in order;\n"
	"      writes DIR/output_0.pb, output_1.pb ...\n"
	"\n"
	"  grad MODEL.onnx --input FILE.pb --labels FILE.pb -o GRADS.onnx [--amp fp16|bf16]\n"
	"      [--device ...] [--threads N]\n"
	"      one forward + backward in training mode (BatchNorm on batch statistics) with the\n"
	"      softmax cross-entropy loss; GRADS.onnx holds dLoss/dParam per parameter and \"loss\"\n"
	"\n"
	"  train MODEL.onnx --data PATH|synthetic [-b N] [--epochs E | --steps S] [--lr LR]\n"
	"      [--opt sgd|adamw] [--momentum M] [--nesterov] [--wd WD] [--wd-all]\n"
	"      [--sched cosine|step|none [--min-lr X] [--lr-step-size E] [--lr-gamma G]]\n"
	"      [--warmup-steps N | --warmup-epochs E]\n"
	"      [--label-smoothing X] [--clip-grad-norm X] [--grad-accum-steps K]\n"
	"      [--global-batch G [--max-memory SIZE]]\n"
	"      [-j WORKERS] [--prefetch DEPTH] [--pin-mem | --no-pin-mem] [--augment auto|none|flip|rrc]\n"
	"      [--seed N] [--mean M[,M,M]] [--std S[,S,S]] [--no-hflip] [--skip-bad-images]\n"
	"      [--output-dir DIR] [--checkpoint-every N] [--resume CHECKPOINT] [--eval-each-epoch]\n"
	"      [-o TRAINED.onnx] [--tensorboard] [--amp [fp16|bf16]] [--amp-init-scale S]\n"
	"      [--amp-growth-interval N] [--device ...] [--threads N] [--no-eval] [--dist-timeout SEC]\n"
	"      [--sync-bn] [--bucket-cap-mb MB] [--freeze GLOB[,GLOB,!GLOB...]]\n"
	"      trains on --device (default auto: a GPU when this build and the machine have one,\n"
	"      else the CPU); metrics.csv and checkpoint.ftck go to DIR (default ftrun-out),\n"
	"      TensorBoard event files to DIR/tensorboard with --tensorboard;\n"
	"      --freeze: parameters whose names match a glob (\"features.*\") and no !GLOB stay as they\n"
	"      are (PyTorch's requires_grad=False; inspect --params lists the names)\n"
	"      prints the held-out top-1 (and top-5) accuracy at the end (not with --no-eval);\n"
	"      --sched: after the warmup, cosine toward --min-lr (0), reached one step past the\n"
	"      last (default); step: the lr times G (0.1) every E epochs (30; torchvision's StepLR);\n"
	"      none: constant\n"
	"      --global-batch G --max-memory SIZE picks the largest micro-batch whose planned step\n"
	"      fits SIZE (8G, 512M; binary units) and the accumulation steps that make G;\n"
	"      --max-memory alone refuses a step that does not fit\n"
	"      PATH is an IDX folder, an ImageFolder (train/, val/), a pack file or \"synthetic\";\n"
	"      --augment auto: rrc (random-resized-crop + flip) for ImageFolder images, flip otherwise\n"
	"      data-parallel under mpirun/srun (docs/distributed.md), collectives wait at most\n"
	"      --dist-timeout seconds (600) for the other ranks; gradients go in buckets of\n"
	"      --bucket-cap-mb MiB (25; 0: one, after the backward) sent during the backward;\n"
	"      --sync-bn: BatchNorm statistics over every rank's batch (CPU backend)\n"
	"  eval MODEL.onnx --data PATH [-b N] [--device ...] [--threads N] [-j WORKERS]\n"
	"      the held-out split's accuracy: prints \"top1 0.9123\" and, with more than 5 classes,\n"
	"      \"top5 0.9876\" (a model file; train writes one with -o, a checkpoint is for --resume)\n"
	"  pack DATA OUT.ftpk [--size S] [--channels 1|3] [-j WORKERS] [--skip-bad-images]\n"
	"      both splits of an IDX folder or ImageFolder as decoded uint8 records of S x S\n"
	"      (default: IDX images' own size, 256 for an ImageFolder), read by mmap: --data OUT.ftpk\n"
	"  bench MODEL.onnx [--data PATH|synthetic] [-b N] [--steps S] [--grad-accum-steps K]\n"
	"      [--amp fp16|bf16] [--configs baseline,ga,amp,pm,ga+amp+pm] [--output-dir DIR] [--device ...]\n"
	"      [--threads N] [--opt, --lr and the data options of train]\n"
	"      the ablation: fp32 baseline, gradient accumulation (N as K micro-batches, K = 4),\n"
	"      mixed precision, reused (pinned on a GPU) staging buffers, and all three; one row each\n"
	"      with images/s, step time, planned and measured peak memory, copy rate and data wait;\n"
	"      DIR/bench.csv and DIR/bench.png (default DIR ftrun-bench)\n"
	"\n"
	"An option a command does not take is refused (exit 2). Exit codes: 0 done, 1 failed while\n"
	"running, 2 bad input (file, option, shape).\n";

/* the usage and what this build has */
static void print_usage(FILE *f)
{
	fputs(usage, f);
#ifdef FT_HAVE_CUDA
	const char *cuda = "the CUDA backend (cuDNN, cuBLASLt; NCCL for several GPUs)";
#else
	const char *cuda = "no CUDA backend (no CUDA toolkit when it was built)";
#endif
	fprintf(f, "This build: the CPU backend, %s, %s.\n", cuda,
		ft_dist_transport_built() ? "data-parallel training over MPI"
					  : "no MPI (data-parallel training refused; libopenmpi-dev when building)");
}

static int exit_code(ftrun_status st)
{
	return st == FTRUN_OK ? 0 : st == FTRUN_ERUNTIME ? 1 : EXIT_BAD;
}

static int fail(ftrun_status st)
{
	fprintf(stderr, "ftrun: %s\n", ftrun_last_error());
	return exit_code(st);
}

int ft_cli_fail(int st)
{
	return fail((ftrun_status)st);
}

int ft_cli_check_output(const char *path)
{
	struct stat sb;
	size_t len = strlen(path);
	if (len == 0) {
		fprintf(stderr, "ftrun: an empty file name to write\n");
		return EXIT_BAD;
	}
	if (path[len - 1] == '/' || (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))) {
		fprintf(stderr, "ftrun: %s is a folder: -o names the file to write (--output-dir the run's folder)\n",
			path);
		return EXIT_BAD;
	}
	char dir[4096];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "ftrun: cannot write %s: its folder %s %s\n", path, dir,
			stat(dir, &sb) != 0 ? "does not exist" : !S_ISDIR(sb.st_mode) ? "is not a folder" : "is not writable");
		return EXIT_BAD;
	}
	return 0;
}

static int bad_usage(const char *fmt, const char *arg);

int ft_cli_bad_usage(const char *fmt, const char *arg)
{
	return bad_usage(fmt, arg);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "ftrun: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(ftrun --help for usage)\n");
	return EXIT_BAD;
}

/*
 * A memory size: a number with an optional unit K, M, G or T (also KB/KiB,
 * MB/MiB, ...; any case), all binary: 1K = 1024 bytes. No unit: bytes.
 */
static bool parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v > 0))
		return false;
	static const char units[] = "KMGT";
	double scale = 1;
	if (*end) {
		const char *u = strchr(units, toupper((unsigned char)*end));
		if (!u)
			return false;
		scale = ldexp(1.0, 10 * (int)(u - units + 1));
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end || v * scale >= 0x1p63)
		return false;
	*out = (size_t)(v * scale);
	return *out > 0;
}

static bool parse_int(const char *s, int64_t min, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !*s || *end || v < min)
		return false;
	*out = v;
	return true;
}

typedef ft_cli cli;

static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || !*s || *end || v != v)
		return false;
	*out = v;
	return true;
}

/* "0.5" or "0.485,0.456,0.406" */
static int parse_triple(const char *s, double *out)
{
	int n = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *tok = strtok(buf, ","); tok && n < 3; tok = strtok(NULL, ","))
		if (!parse_double(tok, &out[n++]))
			return 0;
	return n == 1 || n == 3 ? n : 0;
}

/*
 * Which command takes which option. An option a command would ignore is
 * refused (exit 2) rather than dropped: `eval --resume CKPT` evaluating the
 * model file, not the checkpoint, would be a wrong answer given quietly.
 * inspect --train takes every option of train, so a training command line with
 * `inspect --train` in place of `train` plans that run's step.
 */
enum {
	C_INSPECT = 1 << 0,
	C_RUN = 1 << 1,
	C_GRAD = 1 << 2,
	C_TRAIN = 1 << 3,
	C_EVAL = 1 << 4,
	C_PACK = 1 << 5,
	C_BENCH = 1 << 6,
};

static const struct option_use {
	const char *name, *alias;
	unsigned cmds;
} option_uses[] = {
	{ "-b", "--batch-size", C_INSPECT | C_TRAIN | C_EVAL | C_BENCH },
	{ "--data", NULL, C_TRAIN | C_EVAL | C_BENCH },
	{ "--epochs", NULL, C_TRAIN },
	{ "--steps", NULL, C_TRAIN | C_BENCH },
	{ "--lr", NULL, C_TRAIN | C_BENCH },
	{ "--momentum", NULL, C_TRAIN | C_BENCH },
	{ "--wd", "--weight-decay", C_TRAIN | C_BENCH },
	{ "--label-smoothing", "--smoothing", C_TRAIN | C_BENCH },
	{ "--clip-grad-norm", "--clip-grad", C_TRAIN | C_BENCH },
	{ "--train", NULL, C_INSPECT },
	{ "--peak", NULL, C_INSPECT },
	{ "--params", NULL, C_INSPECT },
	{ "--freeze", NULL, C_TRAIN | C_BENCH },
	{ "--nesterov", NULL, C_TRAIN | C_BENCH },
	{ "--wd-all", NULL, C_TRAIN | C_BENCH },
	{ "--opt", NULL, C_TRAIN | C_BENCH },
	{ "--sched", "--lr-scheduler", C_TRAIN },
	{ "--lr-step-size", NULL, C_TRAIN },
	{ "--lr-gamma", NULL, C_TRAIN },
	{ "--warmup-steps", NULL, C_TRAIN },
	{ "--warmup-epochs", "--lr-warmup-epochs", C_TRAIN },
	{ "--min-lr", "--lr-min", C_TRAIN },
	{ "--grad-accum-steps", NULL, C_TRAIN | C_BENCH },
	{ "--configs", NULL, C_BENCH },
	{ "--global-batch", NULL, C_TRAIN },
	{ "--max-memory", NULL, C_TRAIN },
	{ "-j", "--workers", C_TRAIN | C_EVAL | C_BENCH | C_PACK },
	{ "--seed", NULL, C_TRAIN | C_BENCH },
	{ "--checkpoint-every", NULL, C_TRAIN },
	{ "--print-every", NULL, C_TRAIN },
	{ "--resume", NULL, C_TRAIN },
	{ "--skip-bad-images", NULL, C_TRAIN | C_EVAL | C_BENCH | C_PACK },
	{ "--augment", NULL, C_TRAIN | C_BENCH },
	{ "--prefetch", NULL, C_TRAIN | C_EVAL | C_BENCH },
	{ "--size", NULL, C_PACK },
	{ "--channels", NULL, C_PACK },
	{ "--no-hflip", NULL, C_TRAIN | C_BENCH },
	{ "--eval-each-epoch", NULL, C_TRAIN },
	{ "--tensorboard", NULL, C_TRAIN },
	{ "--no-eval", NULL, C_TRAIN },
	{ "--dist-timeout", NULL, C_TRAIN },
	{ "--bucket-cap-mb", NULL, C_TRAIN },
	{ "--sync-bn", NULL, C_TRAIN },
	{ "--amp", NULL, C_INSPECT | C_TRAIN | C_BENCH | C_GRAD },
	{ "--amp-init-scale", NULL, C_TRAIN | C_BENCH | C_GRAD },
	{ "--amp-growth-interval", NULL, C_TRAIN | C_BENCH },
	{ "--pin-mem", NULL, C_TRAIN | C_EVAL },
	{ "--no-pin-mem", NULL, C_TRAIN | C_EVAL },
	{ "--mean", NULL, C_TRAIN | C_EVAL | C_BENCH },
	{ "--std", NULL, C_TRAIN | C_EVAL | C_BENCH },
	{ "--input", NULL, C_RUN | C_GRAD },
	{ "--labels", NULL, C_GRAD },
	{ "--output-dir", NULL, C_RUN | C_TRAIN | C_BENCH },
	{ "-o", NULL, C_TRAIN | C_GRAD | C_PACK },
	{ "--device", NULL, C_INSPECT | C_RUN | C_GRAD | C_TRAIN | C_EVAL | C_BENCH },
	{ "--threads", "-t", C_INSPECT | C_RUN | C_GRAD | C_TRAIN | C_EVAL | C_BENCH },
};

static unsigned command_bit(const char *cmd)
{
	static const char *const names[] = { "inspect", "run", "grad", "train", "eval", "pack", "bench" };
	for (unsigned i = 0; i < FT_ARRAY_LEN(names); i++)
		if (strcmp(cmd, names[i]) == 0)
			return 1u << i;
	return 0;
}

/* the commands that take option a (0: not an option ftrun has) */
static unsigned option_cmds(const char *a)
{
	for (size_t i = 0; i < FT_ARRAY_LEN(option_uses); i++)
		if (strcmp(a, option_uses[i].name) == 0 || (option_uses[i].alias && strcmp(a, option_uses[i].alias) == 0))
			return option_uses[i].cmds;
	return 0;
}

static int parse(int argc, char **argv, cli *c)
{
	memset(c, 0, sizeof(*c));
	bool training = strcmp(argv[1], "train") == 0 || strcmp(argv[1], "eval") == 0 || strcmp(argv[1], "bench") == 0;
	c->cmd = argv[1];
	c->batch = training ? 32 : 1;
	c->epochs = 1;
	c->lr = 0.1;
	c->momentum = 0.9;
	c->grad_accum = 1;
	c->print_every = 50;
	c->sched = "cosine";
	c->lr_step_size = 30;
	c->lr_gamma = 0.1;
	c->pin_mem = true;
	c->amp_init_scale = 65536.0;
	c->amp_growth_interval = 2000;
	c->dist_timeout = 600;
	c->bucket_cap_mb = 25;
	const char *train_flag = NULL; /* the first option inspect takes only with --train */
	bool epochs_set = false;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] == '-' && a[1]) {
			unsigned takes = option_cmds(a), cmd = command_bit(c->cmd);
			if (!takes && strcmp(a, "--output") == 0)
				return bad_usage("unknown option \"%s\": -o FILE.onnx names the trained model, --output-dir DIR "
						 "the run's folder", a);
			if (!takes)
				return bad_usage("unknown option \"%s\"", a);
			/* inspect --train plans a training step: it takes every option of train */
			bool as_train = cmd == C_INSPECT && (takes & C_TRAIN);
			if (!(takes & cmd) && !as_train) {
				char msg[128];
				snprintf(msg, sizeof(msg), "%s is not an option of `ftrun %s`", a, c->cmd);
				return bad_usage("%s", msg);
			}
			if (as_train && !(takes & cmd) && !train_flag)
				train_flag = a;
		}
#define NEED_VALUE() \
	do { \
		if (!v) \
			return bad_usage("%s needs a value", a); \
		i++; \
	} while (0)
		if (strcmp(a, "-b") == 0 || strcmp(a, "--batch-size") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->batch))
				return bad_usage("bad batch size \"%s\"", v);
			c->batch_set = true;
		} else if (strcmp(a, "--data") == 0) {
			NEED_VALUE();
			c->data = v;
		} else if (strcmp(a, "--epochs") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->epochs))
				return bad_usage("bad --epochs \"%s\"", v);
			epochs_set = true;
		} else if (strcmp(a, "--steps") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->steps))
				return bad_usage("bad --steps \"%s\"", v);
		} else if (strcmp(a, "--lr") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->lr) || c->lr < 0)
				return bad_usage("bad --lr \"%s\"", v);
		} else if (strcmp(a, "--momentum") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->momentum) || c->momentum < 0)
				return bad_usage("bad --momentum \"%s\"", v);
		} else if (strcmp(a, "--wd") == 0 || strcmp(a, "--weight-decay") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->wd) || c->wd < 0)
				return bad_usage("bad --wd \"%s\"", v);
		} else if (strcmp(a, "--label-smoothing") == 0 || strcmp(a, "--smoothing") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->label_smoothing) || c->label_smoothing < 0 || c->label_smoothing >= 1)
				return bad_usage("bad --label-smoothing \"%s\"", v);
		} else if (strcmp(a, "--clip-grad-norm") == 0 || strcmp(a, "--clip-grad") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->clip_grad_norm) || c->clip_grad_norm <= 0)
				return bad_usage("bad --clip-grad-norm \"%s\"", v);
		} else if (strcmp(a, "--train") == 0) {
			c->train = true;
		} else if (strcmp(a, "--peak") == 0) {
			c->peak = true;
		} else if (strcmp(a, "--params") == 0) {
			c->params = true;
		} else if (strcmp(a, "--freeze") == 0) {
			NEED_VALUE();
			c->freeze = v;
		} else if (strcmp(a, "--nesterov") == 0) {
			c->nesterov = true;
		} else if (strcmp(a, "--wd-all") == 0) {
			c->decay_all = true;
		} else if (strcmp(a, "--opt") == 0) {
			NEED_VALUE();
			if (strcmp(v, "sgd") && strcmp(v, "adamw"))
				return bad_usage("--opt %s: use sgd or adamw", v);
			c->opt = v;
		} else if (strcmp(a, "--sched") == 0 || strcmp(a, "--lr-scheduler") == 0) {
			NEED_VALUE();
			/* (torchvision's names for the same schedules) */
			if (strcmp(v, "cosineannealinglr") == 0)
				v = "cosine";
			else if (strcmp(v, "steplr") == 0)
				v = "step";
			if (strcmp(v, "cosine") && strcmp(v, "step") && strcmp(v, "none"))
				return bad_usage("--sched %s: use cosine, step or none", v);
			c->sched = v;
		} else if (strcmp(a, "--warmup-epochs") == 0 || strcmp(a, "--lr-warmup-epochs") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 0, &c->warmup_epochs) || c->warmup_epochs > 1000000)
				return bad_usage("bad --warmup-epochs \"%s\"", v);
		} else if (strcmp(a, "--min-lr") == 0 || strcmp(a, "--lr-min") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->min_lr) || c->min_lr < 0)
				return bad_usage("bad --min-lr \"%s\"", v);
		} else if (strcmp(a, "--lr-step-size") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->lr_step_size))
				return bad_usage("bad --lr-step-size \"%s\" (epochs, at least 1)", v);
		} else if (strcmp(a, "--lr-gamma") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->lr_gamma) || !(c->lr_gamma > 0 && c->lr_gamma <= 1))
				return bad_usage("bad --lr-gamma \"%s\" (a factor in (0, 1])", v);
		} else if (strcmp(a, "--warmup-steps") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 0, &c->warmup_steps))
				return bad_usage("bad --warmup-steps \"%s\"", v);
		} else if (strcmp(a, "--grad-accum-steps") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->grad_accum))
				return bad_usage("bad --grad-accum-steps \"%s\"", v);
			c->accum_set = true;
		} else if (strcmp(a, "--configs") == 0) {
			NEED_VALUE();
			c->configs = v;
		} else if (strcmp(a, "--global-batch") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->global_batch))
				return bad_usage("bad --global-batch \"%s\"", v);
		} else if (strcmp(a, "--max-memory") == 0) {
			NEED_VALUE();
			if (!parse_size(v, &c->max_memory))
				return bad_usage("bad --max-memory \"%s\": a size such as 8G, 512M, 2.5GiB or 1073741824", v);
		} else if (strcmp(a, "-j") == 0 || strcmp(a, "--workers") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 0, &c->workers))
				return bad_usage("bad worker count \"%s\"", v);
		} else if (strcmp(a, "--seed") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 0, &c->seed))
				return bad_usage("bad --seed \"%s\"", v);
		} else if (strcmp(a, "--checkpoint-every") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->checkpoint_every))
				return bad_usage("bad --checkpoint-every \"%s\"", v);
		} else if (strcmp(a, "--print-every") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->print_every))
				return bad_usage("bad --print-every \"%s\"", v);
		} else if (strcmp(a, "--resume") == 0) {
			NEED_VALUE();
			c->resume = v;
		} else if (strcmp(a, "--skip-bad-images") == 0) {
			c->skip_bad = true;
		} else if (strcmp(a, "--augment") == 0) {
			NEED_VALUE();
			if (strcmp(v, "auto") && strcmp(v, "none") && strcmp(v, "flip") && strcmp(v, "rrc"))
				return bad_usage("--augment %s: use auto, none, flip or rrc", v);
			c->augment = v;
		} else if (strcmp(a, "--prefetch") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->prefetch) || c->prefetch > 64)
				return bad_usage("bad --prefetch \"%s\" (ring depth 1..64)", v);
		} else if (strcmp(a, "--size") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->pack_size) || c->pack_size > 4096)
				return bad_usage("bad --size \"%s\" (1..4096)", v);
		} else if (strcmp(a, "--channels") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->pack_channels) || (c->pack_channels != 1 && c->pack_channels != 3))
				return bad_usage("bad --channels \"%s\" (1 or 3)", v);
		} else if (strcmp(a, "--no-hflip") == 0) {
			c->no_hflip = true;
		} else if (strcmp(a, "--eval-each-epoch") == 0) {
			c->eval_each_epoch = true;
		} else if (strcmp(a, "--tensorboard") == 0) {
			c->tensorboard = true;
		} else if (strcmp(a, "--no-eval") == 0) {
			c->no_eval = true;
		} else if (strcmp(a, "--dist-timeout") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->dist_timeout) || !(c->dist_timeout > 0))
				return bad_usage("bad --dist-timeout \"%s\" (seconds)", v);
		} else if (strcmp(a, "--bucket-cap-mb") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->bucket_cap_mb) || !(c->bucket_cap_mb >= 0 && c->bucket_cap_mb <= 1e6))
				return bad_usage("bad --bucket-cap-mb \"%s\" (MiB, 0 for one bucket)", v);
		} else if (strcmp(a, "--sync-bn") == 0) {
			c->sync_bn = true;
		} else if (strcmp(a, "--amp") == 0) {
			/* --amp alone: bf16, which the CPU backend computes as well as fp16 and
			 * needs no loss scaling */
			c->amp = "bf16";
			if (v && (strcmp(v, "fp16") == 0 || strcmp(v, "bf16") == 0)) {
				c->amp = v;
				i++;
			} else if (v && v[0] != '-' && !strstr(v, ".onnx") && access(v, F_OK) != 0) {
				return bad_usage("--amp takes fp16 or bf16, not \"%s\"", v);
			}
		} else if (strcmp(a, "--amp-init-scale") == 0) {
			NEED_VALUE();
			if (!parse_double(v, &c->amp_init_scale) || !(c->amp_init_scale > 0) || c->amp_init_scale > 3e38)
				return bad_usage("bad --amp-init-scale \"%s\"", v);
		} else if (strcmp(a, "--amp-growth-interval") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->amp_growth_interval))
				return bad_usage("bad --amp-growth-interval \"%s\"", v);
		} else if (strcmp(a, "--pin-mem") == 0) {
			c->pin_mem = true;
		} else if (strcmp(a, "--no-pin-mem") == 0) {
			c->pin_mem = false;
		} else if (strcmp(a, "--mean") == 0) {
			NEED_VALUE();
			if (!(c->n_mean = parse_triple(v, c->mean)))
				return bad_usage("bad --mean \"%s\" (one value or three, comma-separated)", v);
		} else if (strcmp(a, "--std") == 0) {
			NEED_VALUE();
			if (!(c->n_std = parse_triple(v, c->std)))
				return bad_usage("bad --std \"%s\" (one value or three, comma-separated)", v);
		} else if (strcmp(a, "--input") == 0) {
			NEED_VALUE();
			if (c->n_inputs == MAX_INPUTS)
				return bad_usage("too many --input (at most 64)%s", "");
			c->inputs[c->n_inputs++] = v;
		} else if (strcmp(a, "--output-dir") == 0) {
			NEED_VALUE();
			c->output_dir = v;
		} else if (strcmp(a, "--labels") == 0) {
			NEED_VALUE();
			c->labels = v;
		} else if (strcmp(a, "-o") == 0) {
			NEED_VALUE();
			c->out_file = v;
		} else if (strcmp(a, "--device") == 0) {
			NEED_VALUE();
			c->device = v;
		} else if (strcmp(a, "--threads") == 0 || strcmp(a, "-t") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->threads))
				return bad_usage("bad thread count \"%s\"", v);
		} else if (a[0] == '-') {
			return bad_usage("unknown option \"%s\"", a);
		} else if (!c->model) {
			c->model = a;
		} else if (strcmp(c->cmd, "pack") == 0 && !c->out_file) {
			c->out_file = a; /* pack DATA OUT */
		} else {
			return bad_usage("unexpected argument \"%s\"", a);
		}
#undef NEED_VALUE
	}
	if (!c->model)
		return bad_usage(strcmp(argv[1], "pack") ? "%s needs a model file" : "%s needs DATA and OUT", argv[1]);
	if (train_flag && !c->train && !c->amp) /* (inspect --amp plans the step too) */
		return bad_usage("%s plans a training step: inspect takes it with --train", train_flag);
	if (epochs_set && c->steps)
		return bad_usage("--epochs and --steps both given: the run is one or the other%s", "");
	return 0;
}


/* the forward nodes after the AMP pass, by the type they compute in */
static ft_status amp_report(const cli *c, ft_dtype lp)
{
	ft_graph *g;
	FT_TRY(ft_import_file(c->model, &g));
	ft_status st = ft_graph_specialise(g, c->batch, NULL, 0);
	if (!st)
		st = ft_amp_pass(g, lp);
	if (st) {
		ft_graph_free(g);
		return st;
	}
	int n_low = 0, n_f32 = 0, n_cast = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		const ft_tensor *y = ft_out(g, n, 0);
		if (n->op == FT_OP_CAST) {
			n_cast++;
			continue;
		}
		bool low = y && y->dtype == lp;
		if (!y || !(low || y->dtype == FT_F32))
			continue; /* integer and shape nodes */
		n_low += low;
		n_f32 += !low;
		printf("amp     %-5s %-22s %s\n", low ? ft_amp_name(lp) : "fp32", ft_op_table[n->op].name, n->name);
	}
	printf("amp     %d nodes in %s, %d in fp32, %d casts (weights cast once per step)\n", n_low, ft_amp_name(lp),
	       n_f32, n_cast);
	ft_graph_free(g);
	return FT_OK;
}

#ifdef FT_HAVE_CUDA
static bool cuda_supports(void *ctx, const ft_graph *g, const ft_node *n)
{
	(void)ctx;
	return ft_cuda_supports(g, n);
}
#endif

/* which nodes of a training step the CUDA backend runs (inspect --train --device cuda) */
static void cuda_line(const ft_graph *g)
{
#ifdef FT_HAVE_CUDA
	char list[1024];
	int missing = ft_unsupported_nodes(g, cuda_supports, NULL, list, sizeof(list));
	printf("cuda    %d of %d nodes of the step run on the CUDA backend%s%s\n", g->n_nodes - missing, g->n_nodes,
	       missing ? "; not yet: " : "", list);
#else
	(void)g;
	printf("cuda    this build has no CUDA backend (the CUDA toolkit was not found when it was built)\n");
#endif
}

typedef struct live_tensor {
	int id;
	size_t bytes;
} live_tensor;

static int by_bytes_desc(const void *a, const void *b)
{
	const live_tensor *x = a, *y = b;
	return x->bytes != y->bytes ? (x->bytes < y->bytes ? 1 : -1) : x->id - y->id;
}

/*
 * inspect --train --peak: the node of the step where the most planned bytes are live, and what
 * they are: by the op that made them, then the largest tensors. The block (plan_line's
 * "activations and gradients") is at least this; what it has beyond is fragmentation.
 */
static void peak_report(const ft_trainer *t)
{
	const ft_graph *g = t->g;
	const ft_plan *p = ft_exec_plan(t->x);
	int nn = g->n_nodes, nt = g->n_tensors;
	int64_t *delta = ft_xcalloc((size_t)nn + 2, sizeof(int64_t));
	int *made_by = ft_xmalloc(sizeof(int) * ((size_t)nt + 1));
	for (int i = 0; i < nt; i++)
		made_by[i] = -1;
	for (int i = 0; i < nn; i++)
		for (int j = 0; j < g->nodes[i].n_out; j++)
			if (g->nodes[i].out[j] >= 0)
				made_by[g->nodes[i].out[j]] = i;
	for (int i = 0; i < nt; i++)
		if (p->root[i] == i && p->start[i] >= 0) {
			int64_t b = (int64_t)ft_align64(ft_tensor_bytes(&g->tensors[i]));
			delta[p->start[i]] += b;
			delta[p->end[i] + 1 <= nn ? p->end[i] + 1 : nn + 1] -= b;
		}
	int64_t live = 0, most = -1;
	int at = 0;
	for (int k = 0; k <= nn; k++) {
		live += delta[k];
		if (live > most)
			most = live, at = k;
	}
	live_tensor *lt = ft_xmalloc(sizeof(live_tensor) * ((size_t)nt + 1));
	int n_live = 0;
	for (int i = 0; i < nt; i++)
		if (p->root[i] == i && p->start[i] >= 0 && p->start[i] <= at && at <= p->end[i])
			lt[n_live++] = (live_tensor){ i, ft_align64(ft_tensor_bytes(&g->tensors[i])) };
	qsort(lt, (size_t)n_live, sizeof(live_tensor), by_bytes_desc);
	char b1[32], b2[32];
	const char *where = at < nn ? g->nodes[at].name : "the step's end";
	printf("peak    %s live at node %d of %d (%s %s): %d tensors\n", ft_cli_mib((size_t)most, b1), at, nn,
	       at < nn ? ft_op_table[g->nodes[at].op].name : "", where, n_live);
	/* by the op that made them (the graph's inputs: "input") */
	size_t by_op[FT_OP_COUNT + 1] = { 0 };
	int count_op[FT_OP_COUNT + 1] = { 0 };
	for (int k = 0; k < n_live; k++) {
		int m = made_by[lt[k].id], op = m >= 0 ? (int)g->nodes[m].op : FT_OP_COUNT;
		by_op[op] += lt[k].bytes;
		count_op[op]++;
	}
	for (int shown = 0; shown < 10; shown++) {
		int best = -1;
		for (int op = 0; op <= FT_OP_COUNT; op++)
			if (by_op[op] && (best < 0 || by_op[op] > by_op[best]))
				best = op;
		if (best < 0)
			break;
		printf("peak      %10s in %4d tensors made by %s\n", ft_cli_mib(by_op[best], b1), count_op[best],
		       best < FT_OP_COUNT ? ft_op_table[best].name : "the graph's inputs");
		by_op[best] = 0;
	}
	for (int k = 0; k < n_live && k < 12; k++) {
		const ft_tensor *x = &g->tensors[lt[k].id];
		printf("peak      %10s %-4s %-20s %s\n", ft_cli_mib(lt[k].bytes, b1), ft_dtype_name(x->dtype),
		       ft_shape_str(x, b2, sizeof(b2)), x->name);
	}
	free(lt);
	free(made_by);
	free(delta);
}

static int plan_line(const cli *c, const char *amp)
{
	ft_train_config cfg;
	ft_cli_train_config(c, &cfg);
	cfg.amp = !amp ? FT_UNDEF : strcmp(amp, "fp16") == 0 ? FT_F16 : FT_BF16;
	cfg.plan_only = true;
	bool cuda = c->device && strncmp(c->device, "cuda", 4) == 0;
	if (cuda) {
		if (cfg.remat_min_bytes == FT_REMAT_AUTO) /* the graph as the GPU would run it */
			cfg.remat_min_bytes = FT_REMAT_MIN_BYTES;
		cfg.device = "cpu"; /* the plan below is the CPU's; the CUDA line needs no GPU */
	}
	ft_trainer *t;
	ft_status fs = ft_trainer_new(c->model, &cfg, &t);
	if (fs)
		return fail((ftrun_status)fs);
	if (cuda)
		cuda_line(t->g);
	ft_plan_summary ps;
	size_t total = ft_trainer_planned_bytes(t, &ps);
	char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32];
	printf("train   one step at batch %lld (%s, accumulation %lld, %s): planned peak %s = %s activations and "
	       "gradients (one block, reused by liveness) + %s parameters, state and optimizer buffers + %s "
	       "kernel workspace + %s kernel state (oneDNN's reordered weights) + %s allowance for what libraries "
	       "allocate inside calls\n",
	       (long long)c->batch, cfg.opt == FT_OPT_ADAMW ? "adamw" : "sgd", (long long)c->grad_accum,
	       amp ? amp : "fp32", ft_cli_mib(total, b1), ft_cli_mib(ps.activations, b2), ft_cli_mib(ps.persistent, b3),
	       ft_cli_mib(ps.workspace, b4), ft_cli_mib(ps.kernel_state, b5), ft_cli_mib(ps.library, b6));
	printf("train   %d nodes (%d forward+backward per micro-batch), %d trained parameters, %d activations "
	       "recomputed in the backward instead of kept\n",
	       t->g->n_nodes, t->n_micro - t->n_pro, t->n_params, t->n_remat);
	if (c->peak)
		peak_report(t);
	ft_trainer_free(t);
	return 0;
}

static int cmd_inspect(cli *c)
{
	if (c->peak && !c->train)
		return bad_usage("--peak reports on a training step's plan: add --train%s", "");
	if ((c->global_batch || c->max_memory) && !c->train && !c->amp)
		return bad_usage("--global-batch and --max-memory are about a training step: add --train%s", "");
	if (c->global_batch || c->max_memory) {
		ft_train_config cfg;
		ft_cli_train_config(c, &cfg);
		int rc = ft_cli_fit_batch(c, &cfg);
		if (rc)
			return rc;
	}
	ftrun_status st = (ftrun_status)ft_inspect(c->model, c->batch, c->params, stdout);
	if (st)
		return fail(st);
	if (c->amp) {
		st = (ftrun_status)amp_report(c, strcmp(c->amp, "fp16") == 0 ? FT_F16 : FT_BF16);
		if (st)
			return fail(st);
	}
	if (!c->train && !c->amp)
		return 0;
	int rc = plan_line(c, NULL);
	if (!rc && c->amp)
		rc = plan_line(c, c->amp);
	return rc;
}

void ft_cli_amp(const ft_cli *c, ft_train_config *cfg)
{
	cfg->amp = !c->amp ? FT_UNDEF : strcmp(c->amp, "fp16") == 0 ? FT_F16 : FT_BF16;
	cfg->amp_init_scale = (float)c->amp_init_scale;
	cfg->amp_growth_interval = (int)c->amp_growth_interval;
}

int ft_mkdir_p(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int cmd_run(cli *c)
{
	if (!c->output_dir)
		return bad_usage("run needs --output-dir DIR%s", "");
	ftrun_tensor in[MAX_INPUTS];
	memset(in, 0, sizeof(in));
	ftrun_status st = FTRUN_OK;
	int n = 0, rc = 0;
	ftrun_session *s = NULL;
	for (; n < c->n_inputs; n++) {
		ft_dtype dt;
		ft_status fs = ft_read_tensor_file(c->inputs[n], NULL, 0, &dt, &in[n].rank, in[n].dims, &in[n].data);
		if (fs) {
			st = (ftrun_status)fs;
			goto out_free;
		}
		in[n].dtype = ft_dtype_to_onnx(dt);
	}
	ftrun_options opt = { .device = c->device, .threads = (int)c->threads };
	st = ftrun_session_new(c->model, in, n, &opt, &s);
	if (st)
		goto out_free;
	st = ftrun_session_run(s, in, n);
	if (st)
		goto out_free;
	if (ft_mkdir_p(c->output_dir) != 0) {
		fprintf(stderr, "ftrun: cannot create %s: %s\n", c->output_dir, strerror(errno));
		rc = 1;
		goto out_free;
	}
	for (int i = 0; i < ftrun_session_num_outputs(s); i++) {
		ftrun_tensor o;
		ftrun_session_output(s, i, &o);
		char path[4200];
		snprintf(path, sizeof(path), "%s/output_%d.pb", c->output_dir, i);
		st = (ftrun_status)ft_write_tensor_file(path, o.name, ft_dtype_from_onnx(o.dtype), o.rank, o.dims, o.data);
		if (st)
			goto out_free;
	}
out_free:
	ftrun_session_free(s);
	for (int i = 0; i < n; i++)
		free(in[i].data);
	if (st)
		return fail(st);
	return rc;
}

/* `ftrun grad`: one forward + backward in training mode; GRADS.onnx holds dLoss/dParam and "loss" */
static int cmd_grad(cli *c)
{
	if (c->n_inputs != 1 || !c->labels || !c->out_file)
		return bad_usage("grad needs --input FILE.pb, --labels FILE.pb and -o GRADS.onnx%s", "");
	int rc = ft_cli_check_output(c->out_file);
	if (rc)
		return rc;
	ftrun_tensor in = { 0 }, lab = { 0 };
	ft_dtype dt, lt;
	ft_trainer *t = NULL;
	ft_status st = ft_read_tensor_file(c->inputs[0], NULL, 0, &dt, &in.rank, in.dims, &in.data);
	if (st == FT_OK)
		st = ft_read_tensor_file(c->labels, NULL, 0, &lt, &lab.rank, lab.dims, &lab.data);
	if (st)
		goto out_free;
	if (dt != FT_F32 || in.rank < 1) {
		st = ft_error(FT_EBADINPUT, "%s: the input must be a float32 batch, got %s rank %d", c->inputs[0],
			      ft_dtype_name(dt), in.rank);
		goto out_free;
	}
	if (!ft_dtype_is_int(lt) || lab.rank != 1 || lab.dims[0] != in.dims[0]) {
		st = ft_error(FT_EBADINPUT, "%s: labels must be integers of shape (%lld), got %s rank %d", c->labels,
			      (long long)in.dims[0], ft_dtype_name(lt), lab.rank);
		goto out_free;
	}
	int64_t *labels = ft_xmalloc(sizeof(int64_t) * (size_t)lab.dims[0]);
	ft_tensor lv = { .dtype = lt, .numel = lab.dims[0], .data = lab.data };
	for (int64_t i = 0; i < lab.dims[0]; i++)
		labels[i] = ft_tensor_int(&lv, i);
	free(lab.data);
	lab.data = labels;
	ft_train_config cfg;
	ft_train_config_defaults(&cfg);
	cfg.batch = in.dims[0];
	cfg.optimizer = false;
	ft_cli_amp(c, &cfg);
	cfg.device = c->device;
	cfg.threads = (int)c->threads;
	st = ft_trainer_new(c->model, &cfg, &t);
	if (st)
		goto out_free;
	float loss;
	st = ft_trainer_grad(t, in.data, labels, &loss);
	/* fp16: the scale GradScaler would step with, halving after each overflow as it does */
	for (int tries = 0; !st && t->found_inf >= 0 && tries < 128; tries++) {
		float inf, scale;
		if ((st = ft_trainer_read(t, t->found_inf, &inf)) || inf == 0.0f ||
		    (st = ft_trainer_read(t, t->amp_scale, &scale)))
			break;
		scale *= 0.5f;
		ft_trainer_write(t, t->amp_scale, &scale);
		fprintf(stderr, "fp16: inf/NaN gradients; loss scale halved to %g\n", scale);
		st = ft_trainer_grad(t, in.data, labels, &loss);
	}
	if (st)
		goto out_free;
	int n = t->n_params + 1;
	const char **names = ft_xcalloc((size_t)n, sizeof(char *));
	const ft_tensor **ts = ft_xcalloc((size_t)n, sizeof(ft_tensor *));
	void **data = ft_xcalloc((size_t)n, sizeof(void *));
	for (int k = 0; k < t->n_params && !st; k++) { /* to host memory (from the device on a GPU) */
		names[k] = t->g->tensors[t->params[k]].name;
		ts[k] = &t->g->tensors[t->grads[k]];
		data[k] = ft_xmalloc(ft_tensor_bytes(ts[k]) + 1);
		st = ft_trainer_read(t, t->grads[k], data[k]);
	}
	ft_tensor loss_t = { .dtype = FT_F32, .rank = 0, .numel = 1 };
	names[n - 1] = "loss";
	ts[n - 1] = &loss_t;
	data[n - 1] = &loss;
	if (!st)
		st = ft_write_tensors_onnx(c->out_file, "grads", n, names, ts, data);
	for (int k = 0; k < t->n_params; k++)
		free(data[k]);
	free(data);
	free(ts);
	free(names);
	if (st == FT_OK)
		printf("loss %.6f, %d parameter gradients written to %s\n", loss, t->n_params, c->out_file);
out_free:
	ft_trainer_free(t);
	free(in.data);
	free(lab.data);
	if (st)
		return fail((ftrun_status)st);
	return 0;
}

/*
 * A crash is a bug in ftrun, never the input's fault: say so with the stack
 * (addresses within the binary: addr2line -f -e ftrun +OFFSET names them), then
 * die of the same signal, so the exit status is still 128 + signal. Sanitizer
 * builds keep their own, better reports.
 */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
static void crash_report(int sig)
{
	static const char msg[] = "ftrun: crashed (a bug in ftrun, not in your input); stack:\n";
	ssize_t w = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	(void)w;
	void *frames[48];
	backtrace_symbols_fd(frames, backtrace(frames, 48), STDERR_FILENO);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_crash(void)
{
	void *warm[1]; /* backtrace loads libgcc on first use: not inside the handler */
	backtrace(warm, 1);
	struct sigaction sa = { .sa_handler = crash_report, .sa_flags = SA_RESETHAND | SA_NODEFER };
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
#else
static void on_crash(void)
{
}
#endif

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_BAD : 0;
	}
	on_crash();
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0) {
		puts("ftrun 0.1.0");
		return 0;
	}
	bool known = strcmp(cmd, "inspect") == 0 || strcmp(cmd, "run") == 0 || strcmp(cmd, "grad") == 0 ||
		     strcmp(cmd, "train") == 0 || strcmp(cmd, "eval") == 0 || strcmp(cmd, "bench") == 0 ||
		     strcmp(cmd, "pack") == 0;
	if (!known)
		return bad_usage("unknown command \"%s\"", cmd);
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) { /* ftrun train --help */
			print_usage(stdout);
			return 0;
		}
	cli c;
	int rc = parse(argc, argv, &c);
	if (rc)
		return rc;
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(&c);
	if (strcmp(cmd, "grad") == 0)
		return cmd_grad(&c);
	if (strcmp(cmd, "train") == 0)
		return ft_cmd_train(&c);
	if (strcmp(cmd, "eval") == 0)
		return ft_cmd_eval(&c);
	if (strcmp(cmd, "bench") == 0) {
		if (!c.data)
			c.data = "synthetic";
		if (c.steps <= 0)
			c.steps = 10;
		return ft_cmd_bench(&c);
	}
	if (strcmp(cmd, "pack") == 0)
		return ft_cmd_pack(&c);
	return cmd_run(&c);
}
