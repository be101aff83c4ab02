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
	int64_t threads;
	/* train / eval */
	const char *data;
	int64_t epochs, steps;
	double lr, momentum, wd, label_smoothing, clip_grad_norm;
	bool nesterov, decay_all;
	const char *opt;      /* sgd | adamw */
	const char *sched;    /* cosine | none */
	int64_t warmup_steps;
	int64_t grad_accum;
	int64_t workers;
	int64_t seed;
	int64_t checkpoint_every;
	int64_t print_every;
	const char *resume;
	bool skip_bad;
	bool no_hflip;
	bool pin_mem;
	bool eval_each_epoch;
	bool tensorboard;     /* event files in OUTDIR/tensorboard */
	bool no_eval;         /* train: no held-out evaluation at the end */
	double dist_timeout;  /* seconds a collective may wait for the other ranks (dist.h) */
	double amp_init_scale;
	int64_t amp_growth_interval;
	bool train;           /* inspect --train */
	double mean[3], std[3];
	int n_mean, n_std;
} ft_cli;

int ft_cmd_train(const ft_cli *c);
/* The mixed-precision options of c into cfg (--amp, --amp-init-scale, --amp-growth-interval). */
struct ft_train_config;
void ft_cli_amp(const ft_cli *c, struct ft_train_config *cfg);
int ft_cmd_eval(const ft_cli *c);
int ft_cli_fail(int status);
int ft_cli_bad_usage(const char *fmt, const char *arg);
/* mkdir -p; 0 on success, -1 with errno set */
int ft_mkdir_p(const char *dir);

#endif
