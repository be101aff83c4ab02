/* cli.h - the parsed command line shared by runtime/main.c and runtime/cli_train.c. */
#ifndef FT_CLI_H
#define FT_CLI_H

#include <stdbool.h>
#include <stdint.h>

enum { FT_CLI_MAX_INPUTS = 64, FT_EXIT_BAD = 2 };

typedef struct ft_cli {
	const char *cmd;
	const char *model;
	const char *inputs[FT_CLI_MAX_INPUTS];
	int n_inputs;
	const char *output_dir;
	const char *labels;
	const char *out_file;
	const char *amp;
	const char *device;
	int64_t batch;
	bool batch_set;       /* -b given */
	int64_t threads;
	/* train / eval */
	const char *data;
	int64_t epochs, steps;
	double lr, momentum, wd, label_smoothing, clip_grad_norm;
	bool nesterov, decay_all;
	const char *opt;      /* sgd | adamw */
	const char *sched;    /* cosine | step | none */
	int64_t warmup_steps;
	int64_t warmup_epochs; /* --warmup-epochs: warmup_steps from the epoch's steps */
	double min_lr;        /* --sched cosine falls to this (0) */
	int64_t lr_step_size; /* --sched step: epochs between decays (30) */
	double lr_gamma;      /*   and the factor (0.1), torchvision's StepLR */
	int64_t grad_accum;
	bool accum_set;       /* --grad-accum-steps given */
	int64_t global_batch; /* --global-batch, 0: none */
	size_t max_memory;    /* --max-memory in bytes, 0: none */
	int64_t workers;
	int64_t seed;
	int64_t checkpoint_every;
	int64_t print_every;
	const char *resume;
	bool skip_bad;
	bool no_hflip;
	bool pin_mem;
	const char *augment;  /* auto | none | flip | rrc */
	int64_t prefetch;     /* loader ring depth (0: the default) */
	int64_t pack_size, pack_channels; /* pack */
	bool eval_each_epoch;
	bool tensorboard;     /* event files in OUTDIR/tensorboard */
	bool no_eval;         /* train: no held-out evaluation at the end */
	double dist_timeout;  /* seconds a collective may wait for the other ranks (dist.h) */
	double bucket_cap_mb; /* MiB of gradients per all-reduce bucket (dist.h; 0: one, after the backward) */
	bool sync_bn;         /* BatchNorm statistics over every rank's batch */
	double amp_init_scale;
	int64_t amp_growth_interval;
	bool train;           /* inspect --train */
	bool peak;            /* inspect --train --peak: what is live at the planned peak */
	bool params;          /* inspect --params: every parameter's name and shape */
	const char *freeze;   /* train --freeze GLOB[,GLOB,!GLOB...] */
	const char *configs;  /* bench --configs: comma-separated subset */
	double mean[3], std[3];
	int n_mean, n_std;
} ft_cli;

int ft_cmd_train(const ft_cli *c);
struct ft_train_config;
/* The mixed-precision options of c into cfg (--amp, --amp-init-scale, --amp-growth-interval). */
void ft_cli_amp(const ft_cli *c, struct ft_train_config *cfg);
/* The training options of c into cfg (batch, accumulation, optimizer, threads, device, seed, AMP). */
void ft_cli_train_config(const ft_cli *c, struct ft_train_config *cfg);
/*
 * --global-batch G and --max-memory SIZE: with both, the largest micro-batch
 * whose planned step fits SIZE and the accumulation that reaches G
 * (ft_trainer_fit_batch), printed; with G alone, accumulation G / -b; with
 * SIZE alone, a refusal when the step's plan exceeds it. Updates c->batch,
 * c->grad_accum and cfg. FT_EBADINPUT for combinations that cannot hold.
 */
int ft_cli_fit_batch(ft_cli *c, struct ft_train_config *cfg);
/* "123.4 MiB" into buf */
const char *ft_cli_mib(size_t bytes, char buf[32]);
/*
 * The file a command will write at its end (-o, pack's OUT), checked before the
 * work: not a folder, in a folder that exists and can be written. 0, or the
 * refusal's exit code (2) with the message printed.
 */
int ft_cli_check_output(const char *path);
int ft_cmd_eval(const ft_cli *c);
int ft_cmd_bench(const ft_cli *c);
/* The dataset options of c for a model input x (N, C, H, W), the training or held-out split. */
struct ft_data_config;
struct ft_tensor;
void ft_cli_data_config(const ft_cli *c, const struct ft_tensor *x, bool train, struct ft_data_config *d);
/* The loader options of c (-b, -j, --prefetch, --pin-mem/--no-pin-mem); the caller sets the positions. */
struct ft_loader_config;
void ft_cli_loader_config(const ft_cli *c, struct ft_loader_config *lc);
int ft_cmd_pack(const ft_cli *c);
int ft_cli_fail(int status);
int ft_cli_bad_usage(const char *fmt, const char *arg);
/* mkdir -p; 0 on success, -1 with errno set */
int ft_mkdir_p(const char *dir);

#endif
