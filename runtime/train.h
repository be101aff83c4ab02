/*
 * train.h - the training graph and the trainer that runs it.
 *
 * ft_trainer_new() turns an imported classifier into one graph that holds a
 * whole training step (DESIGN.md):
 *   nodes [0, n_micro)     forward in training mode (BatchNorm on batch
 *                          statistics, updating running mean/var; Dropout with
 *                          masks drawn from (seed, step, micro-batch)), the softmax
 *                          cross-entropy loss on the first output, the
 *                          backward pass, and (with K > 1) the accumulation of
 *                          each parameter's gradient into a persistent buffer;
 *   nodes [n_micro, n)     the optimizer step (optional gradient-norm clip, SGD
 *                          or AdamW per parameter).
 * The micro-batch range runs K times per step with dLoss = 1/K; the first
 * micro-batch writes the accumulated gradients, later ones add. Parameters,
 * BatchNorm state, optimizer state and per-step scalars (learning rate, step
 * count, dLoss seed) are persistent tensors; everything else comes from the
 * one planned block, so a step allocates nothing.
 */
#ifndef FT_TRAIN_H
#define FT_TRAIN_H

#include "exec.h"

typedef enum ft_optimizer { FT_OPT_SGD, FT_OPT_ADAMW } ft_optimizer;

enum { FT_REMAT_AUTO = -2, FT_REMAT_MIN_BYTES = 1 << 20 };

typedef struct ft_train_config {
	int64_t batch;          /* micro-batch size */
	int grad_accum;         /* K micro-batches per optimizer step (>= 1) */
	bool optimizer;         /* false: forward + backward only (`ftrun grad`) */
	ft_optimizer opt;
	float lr;               /* base learning rate; the schedule scales it */
	float momentum;         /* SGD */
	bool nesterov;
	float weight_decay;
	bool decay_all;         /* also decay biases and norm parameters (rank <= 1) */
	float beta1, beta2, eps; /* AdamW */
	float label_smoothing;
	float clip_grad_norm;   /* 0: off */
	int threads;
	const char *device;
	uint64_t seed;          /* dropout masks */
	ft_dtype amp;           /* FT_F16, FT_BF16, or FT_UNDEF: no mixed precision (amp.h) */
	float amp_init_scale;   /* fp16 loss scale at the start (GradScaler: 2^16) */
	int amp_growth_interval; /* clean steps before the scale doubles (2000) */
	bool sync_bn;           /* BatchNorm statistics over every rank's batch (dist.h; CPU backend) */
	bool plan_only;         /* build the step and its memory plan, allocate no step memory:
				   only ft_trainer_planned_bytes may be asked (ft_exec_plan_only) */
	int64_t remat_min_bytes; /* recompute cheap activations of at least this size in the backward
				   instead of keeping them (remat.c); -1: none; FT_REMAT_AUTO: 1 MiB on a
				   GPU, none on the CPU (FT_REMAT=1: 1 MiB anywhere, all: 0, 0: none) */
	const char *freeze;     /* --freeze GLOB[,GLOB,!GLOB...]: parameters kept as they are (NULL: none) */
	bool input_u8;          /* images come as uint8, normalised in the graph (loader.h) */
	float mean[3], std[3];  /*   with these (std 0 means 1) */
} ft_train_config;

void ft_train_config_defaults(ft_train_config *c);

typedef struct ft_trainer {
	ft_graph *g;
	ft_train_config cfg;
	ft_backend be;
	ft_exec *x;
	int input;              /* image batch tensor (graph input 0) */
	int labels;             /* int64 (batch) */
	int logits;
	int loss;
	int n_micro;            /* nodes [0, n_micro) run per micro-batch */
	int n_params;
	int n_frozen;           /* parameters --freeze made constants */
	int *params;            /* tensor ids of the trained parameters */
	int *grads;             /* per parameter: its gradient (accumulated when K > 1) */
	int seed;               /* f32 scalar buffer: dLoss (1/K) */
	int first;              /* f32 scalar buffer: 1 on a step's first micro-batch */
	int lr;                 /* f32 scalar buffer */
	int step_t;             /* f32 scalar buffer: optimizer steps applied (AdamW's t) */
	int64_t step;           /* optimizer steps taken (skipped fp16 steps included) */
	int n_pro;              /* nodes [0, n_pro) run once per step: casts of the weights (AMP) */
	int n_remat;            /* activations recomputed in the backward (remat.c) */
	int n_channels_last;    /* convolutions run channels last (layout.c, FT_CHANNELS_LAST=1) */
	int unscale;            /* fp16: the AMP_UNSCALE node, -1 without */
	int amp_scale;          /* fp16: f32 scalar buffers: the loss scale, */
	int amp_growth;         /*   clean steps since it last changed, */
	int found_inf;          /*   and the step's inf/NaN flag (an activation) */
	int64_t skipped;        /* fp16 steps skipped for an inf/NaN gradient */
	int micro;              /* micro-batch within the step */
	int n_state;
	int *state;             /* BatchNorm running statistics */
	int n_opt_state;
	int *opt_state;         /* momentum buffers / Adam moments, in parameter order */
	void *in_buf[2];        /* a backend that copies ahead (copy_ahead): the input's two device buffers, */
	int in_cur;             /*   the one the input tensor reads now, */
	const void *ahead;      /*   and the host images being copied into the other (NULL: none) */
	int64_t input_bytes;    /* image bytes copied into the input tensor, all steps */
	double input_seconds;   /*   and the time those copies took (host-to-device on a GPU), */
				/*   asynchronous ones not included: ft_trainer_copy_seconds */
	/* called once per step between the last micro-batch's backward and the
	 * optimizer nodes, with the gradients in t->grads (host memory) and the mean
	 * micro-batch loss: data-parallel averaging (dist.h); NULL: none */
	ft_status (*reduce)(void *ctx, struct ft_trainer *t, float *loss);
	/* called after each node of the last micro-batch of a step, [n_pro, n_micro), with the
	 * reduce hook's ctx: gradients complete by then (ft_trainer_grad_ready) can be sent
	 * while the backward goes on; NULL: none */
	void (*after_node)(void *ctx, struct ft_trainer *t, int node);
	void *reduce_ctx;
} ft_trainer;

ft_status ft_trainer_new(const char *model_path, const ft_train_config *cfg, ft_trainer **out);
void ft_trainer_free(ft_trainer *t);

/*
 * One optimizer step over cfg.grad_accum micro-batches. images holds K
 * micro-batches of the input's shape (float32, or uint8 with cfg.input_u8),
 * labels K*batch class indices.
 * lr is the learning rate of this step (the caller's schedule). *loss gets the
 * mean of the micro-batch losses (and over the ranks, with a reduce hook).
 */
ft_status ft_trainer_step(ft_trainer *t, const void *images, const int64_t *labels, float lr, float *loss);

/*
 * The same, told the images of the next step's first micro-batch (or NULL): on
 * a backend with a copy stream (copy_ahead: CUDA, and devsim as a test) they
 * are copied to the device while this step computes, into the input's other
 * buffer, as each micro-batch's successor is, and the next step that gets them
 * (the same pointer; the memory left unchanged until then) only waits for that
 * copy. The caller must hold next until then: two loader slots at once.
 */
ft_status ft_trainer_step_ahead(ft_trainer *t, const void *images, const int64_t *labels, float lr, const void *next,
				float *loss);
/* whether ft_trainer_step_ahead copies ahead on this trainer's backend */
bool ft_trainer_copies_ahead(const ft_trainer *t);

/* Forward + backward on one micro-batch without a step: gradients in t->grads. */
ft_status ft_trainer_grad(ft_trainer *t, const void *images, const int64_t *labels, float *loss);

/* Tells the kernels that parameters changed outside a step (a checkpoint load). */
void ft_trainer_params_changed(ft_trainer *t);

/* Copies device data of tensor id to host (no-op copy on the CPU). */
ft_status ft_trainer_read(ft_trainer *t, int id, void *host);
/* Tensor id's bytes from host memory (through the backend: device memory on a GPU). */
void ft_trainer_write(ft_trainer *t, int id, const void *host);
/*
 * Parameters, state and optimizer buffers readable and writable in host
 * memory (host = true: checkpoints, export, the CPU evaluation), or back on
 * the device for the next step (false). See ft_exec_host_view.
 */
void ft_trainer_host_view(ft_trainer *t, bool host);

/*
 * The model's inference graph for batch, specialised, whose parameters and
 * BatchNorm state point at the trainer's (evaluation during training; the
 * graph must not outlive the trainer). With cfg.input_u8 its input is uint8
 * too, normalised by the same ImageNormalize node.
 */
ft_status ft_trainer_eval_graph(const ft_trainer *t, int64_t batch, ft_graph **out);

/*
 * ready[k] (n_params of them): the node of the micro-batch range after which
 * the gradient of parameter k holds its final value for the step, when it is
 * the last micro-batch (the accumulating node with K > 1).
 */
void ft_trainer_grad_ready(const ft_trainer *t, int *ready);

/* planned bytes of a training step (the sum of *s): everything it holds */
size_t ft_trainer_planned_bytes(const ft_trainer *t, ft_plan_summary *s);
/* the time the input copies took so far: input_seconds plus the event-timed asynchronous ones */
double ft_trainer_copy_seconds(const ft_trainer *t);

/* The planned peak of one step of cfg (cfg->batch, cfg->grad_accum, ...) without allocating it. */
ft_status ft_trainer_plan(const char *model_path, const ft_train_config *cfg, size_t *planned);

typedef struct ft_batch_fit {
	int64_t micro;          /* the chosen micro-batch */
	int64_t accum;          /* accumulation steps: micro * accum = the global batch */
	size_t planned;         /* its planned peak */
	int64_t larger;         /* the next larger micro-batch tried (a divisor of the global batch), 0 if none */
	size_t larger_planned;  /* and its planned peak (> the limit) */
	int probes;             /* plans built */
} ft_batch_fit;

/*
 * `--global-batch G --max-memory SIZE`: the largest micro-batch b dividing
 * `global` whose step (cfg with batch b and accumulation G / b) plans at most
 * max_bytes, found by bisection over the divisors (the planned peak grows with
 * the micro-batch). FT_EBADINPUT naming the smallest plan when not even
 * micro-batch 1 fits.
 */
ft_status ft_trainer_fit_batch(const char *model_path, const ft_train_config *cfg, int64_t global, size_t max_bytes,
			       ft_batch_fit *fit);

#endif
