/*
 * ftrun.h - the public C API of ftrun.
 *
 * Overview: a model is an ONNX file imported into ftrun's IR. A session binds
 * a model to a device and a batch size: shapes are specialised, constants
 * folded, memory planned in one block; after that, running it allocates
 * nothing. The `ftrun` command line is a thin layer over this API.
 *
 * Errors: every call returns an ftrun_status; on failure ftrun_last_error()
 * (thread-local) says what and where, e.g.
 *   model.onnx: node "/layer1/Conv" (Conv, opset 17): input [2,3,224,224] has 3 channels ...
 * FTRUN_EBADINPUT and FTRUN_EUNSUPPORTED are the caller's to fix (the CLI
 * exits with 2), FTRUN_ERUNTIME is a failure while running (exit 1).
 *
 * Ownership: the caller frees what it creates with the matching _free call;
 * pointers returned by accessors live as long as the session.
 * Threads: a session is used by one thread at a time.
 */
#ifndef FTRUN_H
#define FTRUN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ftrun_status {
	FTRUN_OK = 0,
	FTRUN_EBADINPUT = 1,
	FTRUN_EUNSUPPORTED = 2,
	FTRUN_ERUNTIME = 3,
} ftrun_status;

const char *ftrun_last_error(void);

/* ONNX element types (TensorProto.DataType values) */
enum { FTRUN_FLOAT = 1, FTRUN_UINT8 = 2, FTRUN_INT32 = 6, FTRUN_INT64 = 7, FTRUN_BOOL = 9, FTRUN_FLOAT16 = 10,
       FTRUN_DOUBLE = 11, FTRUN_BFLOAT16 = 16 };

#define FTRUN_MAX_RANK 8

typedef struct ftrun_tensor {
	const char *name;
	int dtype;                      /* ONNX element type */
	int rank;
	int64_t dims[FTRUN_MAX_RANK];
	void *data;                     /* host memory, row-major */
} ftrun_tensor;

typedef struct ftrun_session ftrun_session;

typedef struct ftrun_options {
	const char *device;     /* "cpu", "cuda" or "auto" (NULL: auto) */
	int threads;            /* CPU threads, 0: all cores */
	int64_t batch;          /* for symbolic batch dims (0: from the inputs, else 1) */
} ftrun_options;

/*
 * Loads model_path and prepares inference. inputs (may be NULL) give shapes
 * and, for integer inputs, values that are bound as constants (they usually
 * carry shapes); float inputs are copied in by ftrun_session_run.
 */
ftrun_status ftrun_session_new(const char *model_path, const ftrun_tensor *inputs, int n_inputs,
			       const ftrun_options *opt, ftrun_session **out);
void ftrun_session_free(ftrun_session *s);

/* Runs the graph on inputs (same order and shapes as given to _new). */
ftrun_status ftrun_session_run(ftrun_session *s, const ftrun_tensor *inputs, int n_inputs);

int ftrun_session_num_outputs(const ftrun_session *s);
/* Output i after a run: name, dtype, shape and host data owned by the session. */
ftrun_status ftrun_session_output(ftrun_session *s, int i, ftrun_tensor *out);
/* The device the session runs on ("cpu", "cuda"). */
const char *ftrun_session_device(const ftrun_session *s);

/* ---- training ------------------------------------------------------- */

/*
 * A trainer holds the training graph of a classifier (forward in training
 * mode, softmax cross-entropy on the first output, backward, optimizer), its
 * parameters, BatchNorm state and optimizer state. One call to
 * ftrun_trainer_step() is one optimizer step over grad_accum micro-batches.
 */
typedef struct ftrun_trainer ftrun_trainer;

typedef struct ftrun_train_options {
	const char *device;      /* "cpu", "cuda", "auto" (NULL: auto) */
	int threads;             /* 0: all cores */
	int64_t batch;           /* micro-batch size */
	int grad_accum;          /* micro-batches per optimizer step */
	const char *optimizer;   /* "sgd" or "adamw" */
	float lr, momentum, weight_decay;
	int nesterov;
	int decay_all;           /* also decay biases and norm parameters */
	float beta1, beta2, eps; /* AdamW */
	float label_smoothing;
	float clip_grad_norm;    /* 0: off */
	uint64_t seed;           /* dropout masks */
} ftrun_train_options;

/* batch 32, accumulation 1, SGD lr 0.1 momentum 0.9, no weight decay, AdamW betas 0.9/0.999 */
void ftrun_train_options_default(ftrun_train_options *o);

ftrun_status ftrun_trainer_new(const char *model_path, const ftrun_train_options *o, ftrun_trainer **out);
void ftrun_trainer_free(ftrun_trainer *t);
/* The image input's shape (batch, C, H, W) and the number of classes. */
void ftrun_trainer_shape(const ftrun_trainer *t, int64_t dims[4], int64_t *classes);
/*
 * One optimizer step: images holds grad_accum micro-batches (float32, row-major,
 * the input's shape each), labels grad_accum * batch class indices; lr is this
 * step's learning rate. *loss gets the mean micro-batch loss.
 */
ftrun_status ftrun_trainer_step(ftrun_trainer *t, const float *images, const int64_t *labels, float lr, float *loss);
/* Inference with the current weights (BatchNorm on its running statistics):
 * logits (batch x classes) for one batch of the input's shape. */
ftrun_status ftrun_trainer_predict(ftrun_trainer *t, const float *images, float *logits);
/* Checkpoints: everything the run needs to continue (see runtime/checkpoint.h). */
ftrun_status ftrun_trainer_save(ftrun_trainer *t, const char *path);
ftrun_status ftrun_trainer_load(ftrun_trainer *t, const char *path);
/* Writes the trained model as ONNX (BatchNorm in inference mode, learned statistics). */
ftrun_status ftrun_trainer_export(ftrun_trainer *t, const char *path);

#ifdef __cplusplus
}
#endif

#endif
