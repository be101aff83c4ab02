/*
 * onnx_export.c - writing ONNX files: a model whose initializers are given
 * tensors (`ftrun grad`'s GRADS.onnx), and an imported model with its
 * initializers replaced by the trained values (`ftrun train -o`).
 * Both are written atomically (temp file, fsync, rename).
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "tensor_proto.h"

static void fill_tensor_proto(Onnx__TensorProto *tp, const char *name, const ft_tensor *t, const void *data)
{
	onnx__tensor_proto__init(tp);
	tp->name = (char *)name;
	tp->n_dims = (size_t)t->rank;
	tp->dims = (int64_t *)t->dims;
	tp->has_data_type = 1;
	tp->data_type = ft_dtype_to_onnx(t->dtype);
	tp->has_raw_data = 1;
	tp->raw_data.len = ft_tensor_bytes(t);
	tp->raw_data.data = (uint8_t *)data;
}

static ft_status pack_and_write(const Onnx__ModelProto *m, const char *path)
{
	size_t len = onnx__model_proto__get_packed_size(m);
	if (len > ((size_t)2 << 30) - 1)
		return ft_error(FT_EUNSUPPORTED, "%s: the model is %zu bytes; ONNX files over 2 GB need external data, "
				"which ftrun does not write yet", path, len);
	uint8_t *buf = ft_xmalloc(len);
	onnx__model_proto__pack(m, buf);
	ft_status st = ft_write_file_atomic(path, buf, len);
	free(buf);
	return st;
}

ft_status ft_write_tensors_onnx(const char *path, const char *graph_name, int n, const char *const *names,
				const ft_tensor *const *tensors, void *const *data)
{
	Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
	Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
	Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
	Onnx__OperatorSetIdProto *opsets[1] = { &opset };
	opset.domain = "";
	opset.has_version = 1;
	opset.version = 17;
	m.has_ir_version = 1;
	m.ir_version = 8;
	m.producer_name = "ftrun";
	m.n_opset_import = 1;
	m.opset_import = opsets;
	m.graph = &gp;
	gp.name = (char *)graph_name;
	Onnx__TensorProto *tps = ft_xcalloc((size_t)n + 1, sizeof(Onnx__TensorProto));
	Onnx__TensorProto **ptrs = ft_xcalloc((size_t)n + 1, sizeof(Onnx__TensorProto *));
	for (int i = 0; i < n; i++) {
		fill_tensor_proto(&tps[i], names[i], tensors[i], data[i]);
		ptrs[i] = &tps[i];
	}
	gp.n_initializer = (size_t)n;
	gp.initializer = ptrs;
	ft_status st = pack_and_write(&m, path);
	free(ptrs);
	free(tps);
	return st;
}

ft_status ft_export_model(const ft_graph *g, const char *path, const void *(*value)(void *ctx, int id), void *ctx)
{
	Onnx__ModelProto *m = g->model;
	FT_ASSERT(m && m->graph);
	Onnx__GraphProto *gp = m->graph;
	size_t n = gp->n_initializer;
	/* swap each trained initializer's bytes in, pack, and put the originals back */
	Onnx__TensorProto *saved = ft_xcalloc(n + 1, sizeof(Onnx__TensorProto));
	bool *swapped = ft_xcalloc(n + 1, sizeof(bool));
	for (size_t i = 0; i < n; i++) {
		Onnx__TensorProto *tp = gp->initializer[i];
		int id = ft_graph_find(g, tp->name);
		if (id < 0)
			continue;
		const ft_tensor *t = &g->tensors[id];
		if (t->kind != FT_TK_PARAM && t->kind != FT_TK_STATE)
			continue;
		const void *v = value(ctx, id);
		if (!v)
			continue;
		saved[i] = *tp;
		swapped[i] = true;
		tp->has_data_location = 0;
		tp->n_external_data = 0;
		tp->n_float_data = 0;
		tp->n_double_data = 0;
		tp->n_int32_data = 0;
		tp->n_int64_data = 0;
		tp->has_raw_data = 1;
		tp->raw_data.len = ft_tensor_bytes(t);
		tp->raw_data.data = (uint8_t *)v;
	}
	ft_status st = pack_and_write(m, path);
	for (size_t i = 0; i < n; i++)
		if (swapped[i])
			*gp->initializer[i] = saved[i];
	free(swapped);
	free(saved);
	return st;
}
