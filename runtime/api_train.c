/* api_train.c - the training half of include/ftrun.h, over runtime/train.h. */
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "export.h"
#include "ftrun.h"
#include "import.h"
#include "train.h"

struct ftrun_trainer {
	ft_trainer *t;
	ft_graph *eval_g; /* the inference graph, built on first predict, sharing the weights */
	ft_exec *eval_x;
	ft_backend eval_be; /* the CPU backend it runs on when the trainer's is a device (else unused) */
};

void ftrun_train_options_default(ftrun_train_options *o)
{
	ft_train_config c;
	ft_train_config_defaults(&c);
	memset(o, 0, sizeof(*o));
	o->batch = c.batch;
	o->grad_accum = c.grad_accum;
	o->optimizer = "sgd";
	o->lr = c.lr;
	o->momentum = c.momentum;
	o->beta1 = c.beta1;
	o->beta2 = c.beta2;
	o->eps = c.eps;
}

ftrun_status ftrun_trainer_new(const char *model_path, const ftrun_train_options *o, ftrun_trainer **out)
{
	ftrun_train_options d;
	if (!o) {
		ftrun_train_options_default(&d);
		o = &d;
	}
	*out = NULL;
	if (o->optimizer && strcmp(o->optimizer, "sgd") && strcmp(o->optimizer, "adamw"))
		return (ftrun_status)ft_error(FT_EBADINPUT, "unknown optimizer \"%s\" (sgd or adamw)", o->optimizer);
	ft_train_config c;
	ft_train_config_defaults(&c);
	c.batch = o->batch;
	c.grad_accum = o->grad_accum;
	c.opt = o->optimizer && strcmp(o->optimizer, "adamw") == 0 ? FT_OPT_ADAMW : FT_OPT_SGD;
	c.lr = o->lr;
	c.momentum = o->momentum;
	c.nesterov = o->nesterov;
	c.weight_decay = o->weight_decay;
	c.decay_all = o->decay_all;
	c.beta1 = o->beta1;
	c.beta2 = o->beta2;
	c.eps = o->eps;
	c.label_smoothing = o->label_smoothing;
	c.clip_grad_norm = o->clip_grad_norm;
	c.threads = o->threads;
	c.device = o->device;
	c.seed = o->seed;
	ftrun_trainer *tr = ft_xcalloc(1, sizeof(*tr));
	ft_status st = ft_trainer_new(model_path, &c, &tr->t);
	if (st) {
		free(tr);
		return (ftrun_status)st;
	}
	*out = tr;
	return FTRUN_OK;
}

void ftrun_trainer_free(ftrun_trainer *tr)
{
	if (!tr)
		return;
	ft_exec_free(tr->eval_x);
	if (tr->eval_be.iface && tr->eval_be.iface->destroy)
		tr->eval_be.iface->destroy(tr->eval_be.ctx);
	ft_graph_free(tr->eval_g);
	ft_trainer_free(tr->t);
	free(tr);
}

void ftrun_trainer_shape(const ftrun_trainer *tr, int64_t dims[4], int64_t *classes)
{
	const ft_tensor *x = &tr->t->g->tensors[tr->t->input];
	for (int i = 0; i < 4; i++)
		dims[i] = i < x->rank ? x->dims[i] : 1;
	*classes = tr->t->g->tensors[tr->t->logits].dims[1];
}

ftrun_status ftrun_trainer_step(ftrun_trainer *tr, const float *images, const int64_t *labels, float lr, float *loss)
{
	return (ftrun_status)ft_trainer_step(tr->t, images, labels, lr, loss);
}

ftrun_status ftrun_trainer_predict(ftrun_trainer *tr, const float *images, float *logits)
{
	/*
	 * The inference graph shares the trainer's weights. On a device backend they
	 * live in device memory: the evaluation runs on the CPU over the trainer's
	 * host copies, refreshed for each call (a slow path, until evaluation runs on
	 * the device).
	 */
	bool device = strcmp(tr->t->be.iface->name, "cpu") != 0;
	ft_status st = FT_OK;
	if (device)
		ft_trainer_host_view(tr->t, true);
	if (!tr->eval_g) {
		st = ft_trainer_eval_graph(tr->t, tr->t->cfg.batch, &tr->eval_g);
		if (st == FT_OK && device && !tr->eval_be.iface)
			tr->eval_be = ft_backend_cpu_new(tr->t->cfg.threads);
		if (st == FT_OK)
			st = ft_exec_new(tr->eval_g, device ? tr->eval_be : tr->t->be, &tr->eval_x);
		if (st) {
			ft_graph_free(tr->eval_g);
			tr->eval_g = NULL;
		}
	}
	if (st == FT_OK) {
		const ft_graph *g = tr->eval_g;
		st = ft_exec_set_input(tr->eval_x, 0, images, ft_tensor_bytes(&g->tensors[g->inputs[0]]));
		if (st == FT_OK)
			st = ft_exec_run(tr->eval_x);
		if (st == FT_OK)
			st = ft_exec_get_output(tr->eval_x, 0, logits, ft_tensor_bytes(&g->tensors[g->outputs[0]]));
	}
	if (device)
		ft_trainer_host_view(tr->t, false);
	return (ftrun_status)st;
}

ftrun_status ftrun_trainer_save(ftrun_trainer *tr, const char *path)
{
	ft_ckpt_meta m = { .step = tr->t->step, .seed = (int64_t)tr->t->cfg.seed, .micro_batch = tr->t->cfg.batch,
			   .grad_accum = tr->t->cfg.grad_accum };
	ft_trainer_host_view(tr->t, true); /* device memory on a GPU: read through host copies */
	ft_status st = ft_checkpoint_save(tr->t->g, &m, path);
	ft_trainer_host_view(tr->t, false);
	return (ftrun_status)st;
}

ftrun_status ftrun_trainer_load(ftrun_trainer *tr, const char *path)
{
	ft_ckpt_meta m;
	ft_trainer_host_view(tr->t, true);
	ft_status st = ft_checkpoint_load(tr->t->g, &m, path);
	ft_trainer_host_view(tr->t, false);
	if (st)
		return (ftrun_status)st;
	tr->t->step = m.step;
	ft_trainer_params_changed(tr->t);
	return FTRUN_OK;
}

static const void *host_value(void *ctx, int id)
{
	return ((ft_trainer *)ctx)->g->tensors[id].data;
}

ftrun_status ftrun_trainer_export(ftrun_trainer *tr, const char *path)
{
	ft_trainer_host_view(tr->t, true);
	ft_status st = ft_export_model(tr->t->g, path, host_value, tr->t);
	ft_trainer_host_view(tr->t, false);
	return (ftrun_status)st;
}
