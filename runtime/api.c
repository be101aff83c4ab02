/* api.c - include/ftrun.h over the importer, the passes and the executor. */
#include "ftrun.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "import.h"

_Static_assert((int)FTRUN_EBADINPUT == (int)FT_EBADINPUT && (int)FTRUN_EUNSUPPORTED == (int)FT_EUNSUPPORTED &&
		       (int)FTRUN_ERUNTIME == (int)FT_ERUNTIME,
	       "public status codes mirror ft_status");

struct ftrun_session {
	ft_graph *g;
	ft_backend be;
	ft_exec *x;
	void **out_host;
};

const char *ftrun_last_error(void)
{
	return ft_last_error();
}


/* device auto (NULL, "auto", "auto:N"): a GPU when there is one, else the CPU */
static bool is_auto(const char *device)
{
	return !device || strcmp(device, "auto") == 0 || strncmp(device, "auto:", 5) == 0;
}

bool ft_device_is_gpu(const char *device)
{
	if (device && strncmp(device, "cuda", 4) == 0)
		return true;
	if (!is_auto(device))
		return false;
#ifdef FT_HAVE_CUDA
	char why[256];
	return ft_cuda_device_count(why, sizeof(why)) > 0;
#else
	return false;
#endif
}

ft_status ft_pick_backend(const char *device, int threads, const ft_graph *g, ft_backend *be)
{
	/*
	 * auto:N and cuda@N: a data-parallel rank's device, N its local rank: the GPU N modulo the
	 * GPUs this process sees (all of the machine's, or only its own under a launcher that
	 * binds one GPU a task, which it then sees as GPU 0); auto falls back to the CPU.
	 */
	bool automatic = is_auto(device);
	bool local = device && (strncmp(device, "auto:", 5) == 0 || strncmp(device, "cuda@", 5) == 0);
	long gpu = 0;
	if (local) {
		char *end;
		gpu = strtol(device + 5, &end, 10);
		if (*end || end == device + 5 || gpu < 0)
			return ft_error(FT_EBADINPUT, "unknown device \"%s\" (cpu, cuda, cuda:N, auto or auto:N)", device);
	}
	if (!automatic && strcmp(device, "cpu") == 0) {
		*be = ft_backend_cpu_new(threads);
		return FT_OK;
	}
	if (!automatic && strcmp(device, "devsim") == 0) { /* tests of the device-memory paths */
		*be = ft_backend_devsim_new(threads);
		return FT_OK;
	}
	if (!automatic && strncmp(device, "cuda", 4) && strncmp(device, "cuda:", 5))
		return ft_error(FT_EBADINPUT, "unknown device \"%s\" (cpu, cuda, cuda:N or auto)", device);
#ifdef FT_HAVE_CUDA
	char list[1024], why[256];
	int count = local ? ft_cuda_device_count(why, sizeof(why)) : 0;
	if (local && count > 0)
		gpu %= count;
	if (!automatic) {
		char *end;
		long id = local ? gpu : device[4] == ':' ? strtol(device + 5, &end, 10) : 0;
		if (!local && device[4] && (device[4] != ':' || *end || end == device + 5))
			return ft_error(FT_EBADINPUT, "unknown device \"%s\" (cpu, cuda, cuda:N or auto)", device);
		FT_TRY(ft_backend_cuda_new((int)id, be));
		int bad = g ? ft_unsupported_nodes(g, be->iface->supports_op, be->ctx, list, sizeof(list)) : 0;
		if (bad) {
			be->iface->destroy(be->ctx);
			be->iface = NULL;
			return ft_error(FT_EUNSUPPORTED, "%s: the cuda backend does not run %d node%s of this model yet: %s; "
					"use --device cpu or auto", g->path, bad, bad == 1 ? "" : "s", list);
		}
		return FT_OK;
	}
	if (g && ft_cuda_device_count(why, sizeof(why)) > gpu && ft_backend_cuda_new((int)gpu, be) == FT_OK) {
		int bad = ft_unsupported_nodes(g, be->iface->supports_op, be->ctx, list, sizeof(list));
		if (!bad)
			return FT_OK;
		fprintf(stderr, "ftrun: --device auto: running on the CPU; the cuda backend does not run %d node%s of "
			"this model yet: %s\n", bad, bad == 1 ? "" : "s", list);
		be->iface->destroy(be->ctx);
	}
	ft_clear_error();
#else
	(void)gpu;
	if (!automatic)
		return ft_error(FT_EBADINPUT, "--device %s: this build of ftrun has no CUDA backend (the CUDA toolkit was "
				"not found when it was built); use --device cpu or auto", device);
#endif
	*be = ft_backend_cpu_new(threads);
	return FT_OK;
}

void ftrun_session_free(ftrun_session *s)
{
	if (!s)
		return;
	if (s->out_host)
		for (int i = 0; i < s->g->n_outputs; i++)
			free(s->out_host[i]);
	free(s->out_host);
	ft_exec_free(s->x);
	if (s->be.iface && s->be.iface->destroy)
		s->be.iface->destroy(s->be.ctx);
	ft_graph_free(s->g);
	free(s);
}

ftrun_status ftrun_session_new(const char *model_path, const ftrun_tensor *inputs, int n_inputs,
			       const ftrun_options *opt, ftrun_session **out)
{
	ftrun_options defaults = { 0 };
	if (!opt)
		opt = &defaults;
	*out = NULL;
	ftrun_session *s = ft_xcalloc(1, sizeof(*s));
	ft_bind *binds = ft_xcalloc((size_t)n_inputs + 1, sizeof(ft_bind));
	ft_status st = ft_import_file(model_path, &s->g);
	if (st)
		goto out_free;
	int64_t batch = opt->batch;
	for (int i = 0; i < n_inputs; i++) {
		const ftrun_tensor *t = &inputs[i];
		const char *name = t->name;
		if (!name || !name[0]) { /* positional: the i-th graph input */
			if (i >= s->g->n_inputs) {
				st = ft_error(FT_EBADINPUT, "%s: %d inputs given, the model takes %d", model_path,
					      n_inputs, s->g->n_inputs);
				goto out_free;
			}
			name = s->g->tensors[s->g->inputs[i]].name;
		}
		if (t->rank < 0 || t->rank > FT_MAX_RANK) {
			st = ft_error(FT_EBADINPUT, "input \"%s\": rank %d", name, t->rank);
			goto out_free;
		}
		binds[i].name = name;
		binds[i].dtype = ft_dtype_from_onnx(t->dtype);
		binds[i].rank = t->rank;
		memcpy(binds[i].dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
		if (ft_dtype_is_int(binds[i].dtype) || binds[i].dtype == FT_BOOL)
			binds[i].value = t->data;
		if (!batch && t->rank > 0)
			batch = t->dims[0];
	}
	st = ft_graph_specialise(s->g, batch > 0 ? batch : 1, binds, n_inputs);
	if (st)
		goto out_free;
	st = ft_pick_backend(opt->device, opt->threads, s->g, &s->be);
	if (st)
		goto out_free;
	st = ft_exec_new(s->g, s->be, &s->x);
	if (st)
		goto out_free;
	s->out_host = ft_xcalloc((size_t)s->g->n_outputs + 1, sizeof(void *));
	for (int i = 0; i < s->g->n_outputs; i++)
		s->out_host[i] = ft_aligned_alloc(ft_tensor_bytes(&s->g->tensors[s->g->outputs[i]]));
	free(binds);
	*out = s;
	return FTRUN_OK;
out_free:
	free(binds);
	ftrun_session_free(s);
	return (ftrun_status)st;
}

ftrun_status ftrun_session_run(ftrun_session *s, const ftrun_tensor *inputs, int n_inputs)
{
	ft_graph *g = s->g;
	for (int i = 0; i < g->n_inputs; i++) {
		const ft_tensor *t = &g->tensors[g->inputs[i]];
		const ftrun_tensor *src = NULL;
		for (int k = 0; k < n_inputs && !src; k++)
			if (inputs[k].name && strcmp(inputs[k].name, t->name) == 0)
				src = &inputs[k];
		if (!src && i < n_inputs && (!inputs[i].name || !inputs[i].name[0]))
			src = &inputs[i];
		if (!src)
			return (ftrun_status)ft_error(FT_EBADINPUT, "%s: no value for input \"%s\"", g->path, t->name);
		ft_status st = ft_exec_set_input(s->x, i, src->data, ft_tensor_bytes(t));
		if (st)
			return (ftrun_status)st;
	}
	ft_status st = ft_exec_run(s->x);
	if (st)
		return (ftrun_status)st;
	for (int i = 0; i < g->n_outputs; i++) {
		st = ft_exec_get_output(s->x, i, s->out_host[i], ft_tensor_bytes(&g->tensors[g->outputs[i]]));
		if (st)
			return (ftrun_status)st;
	}
	return FTRUN_OK;
}

int ftrun_session_num_outputs(const ftrun_session *s)
{
	return s->g->n_outputs;
}

ftrun_status ftrun_session_output(ftrun_session *s, int i, ftrun_tensor *out)
{
	if (i < 0 || i >= s->g->n_outputs)
		return (ftrun_status)ft_error(FT_EBADINPUT, "output %d out of range", i);
	const ft_tensor *t = &s->g->tensors[s->g->outputs[i]];
	out->name = t->name;
	out->dtype = ft_dtype_to_onnx(t->dtype);
	out->rank = t->rank;
	memcpy(out->dims, t->dims, sizeof(int64_t) * (size_t)t->rank);
	out->data = s->out_host[i];
	return FTRUN_OK;
}

const char *ftrun_session_device(const ftrun_session *s)
{
	return s->be.iface->name;
}
