/* onnx_import.c - ModelProto -> ft_graph (see import.h). */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor_proto.h"
#include "wire_check.h"

ft_status ft_import_none(ft_graph *g, ft_node *n)
{
	(void)g;
	(void)n;
	return FT_OK;
}

static void model_free(void *m)
{
	onnx__model_proto__free_unpacked(m, NULL);
}

static bool default_domain(const char *d)
{
	return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

/* Turns decoded bytes into tensor id's data, the graph owning what was allocated. */
static void set_tensor_data(ft_graph *g, int id, ft_decoded_tensor *d, ft_tensor_kind kind)
{
	ft_tensor *t = &g->tensors[id];
	ft_tensor_set_shape(t, d->dtype, d->rank, d->dims);
	t->data = d->data;
	if (d->owned)
		ft_graph_own(g, d->data);
	t->kind = kind;
}

static ft_status import_attr(ft_graph *g, ft_node *n, const Onnx__AttributeProto *ap, ft_attr *a, const char *dir)
{
	a->name = ft_arena_strdup(g->arena, ap->name ? ap->name : "");
	int type = ap->has_type ? (int)ap->type : 0;
	if (!type) { /* IR version < 3: infer from the fields set */
		if (ap->has_f) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
		else if (ap->has_i) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
		else if (ap->has_s) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
		else if (ap->t) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
		else if (ap->n_ints) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
		else if (ap->n_floats) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
	}
	switch (type) {
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
		a->kind = FT_ATTR_INT;
		a->i = ap->i;
		return FT_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
		a->kind = FT_ATTR_FLOAT;
		a->f = ap->f;
		return FT_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
		a->kind = FT_ATTR_INTS;
		if (ap->n_ints > INT32_MAX)
			break;
		a->n = (int)ap->n_ints;
		a->ints = FT_ARENA_NEW(g->arena, int64_t, a->n ? a->n : 1);
		if (a->n)
			memcpy(a->ints, ap->ints, sizeof(int64_t) * (size_t)a->n);
		return FT_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
		a->kind = FT_ATTR_FLOATS;
		if (ap->n_floats > INT32_MAX)
			break;
		a->n = (int)ap->n_floats;
		a->floats = FT_ARENA_NEW(g->arena, float, a->n ? a->n : 1);
		if (a->n)
			memcpy(a->floats, ap->floats, sizeof(float) * (size_t)a->n);
		return FT_OK;
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
		a->kind = FT_ATTR_STRING;
		char *s = ft_arena_alloc(g->arena, ap->s.len + 1);
		if (ap->s.len)
			memcpy(s, ap->s.data, ap->s.len);
		a->s = s;
		return FT_OK;
	}
	case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
		if (!ap->t)
			break;
		a->kind = FT_ATTR_TENSOR;
		int id = ft_graph_new_tensor(g, ft_arena_printf(g->arena, "%s/%s", n->name, a->name));
		char what[512];
		snprintf(what, sizeof(what), "%s: node \"%s\" attribute \"%s\"", g->path, n->name, a->name);
		ft_decoded_tensor d;
		FT_TRY(ft_tensor_proto_decode(ap->t, dir, what, &d));
		set_tensor_data(g, id, &d, FT_TK_CONST);
		a->i = id;
		return FT_OK;
	}
	default:
		break;
	}
	return ft_node_error(g, n, FT_EUNSUPPORTED, "attribute \"%s\" has a type (%d) ftrun does not support",
			     a->name, type);
}

static ft_status import_value_info(ft_graph *g, const Onnx__ValueInfoProto *vi, int id)
{
	ft_tensor *t = &g->tensors[id];
	t->kind = FT_TK_INPUT;
	const Onnx__TypeProto *tp = vi->type;
	if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		return ft_error(FT_EUNSUPPORTED, "%s: graph input \"%s\" is not a tensor", g->path, t->name);
	const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	t->dtype = ft_dtype_from_onnx(tt->elem_type);
	if (t->dtype == FT_UNDEF)
		return ft_error(FT_EUNSUPPORTED, "%s: graph input \"%s\" has element type %d, which ftrun does not support",
				g->path, t->name, (int)tt->elem_type);
	if (!tt->shape)
		return FT_OK; /* unknown rank: must be bound by the caller */
	if (tt->shape->n_dim > FT_MAX_RANK)
		return ft_error(FT_EUNSUPPORTED, "%s: graph input \"%s\" has rank %zu (at most %d supported)", g->path,
				t->name, tt->shape->n_dim, FT_MAX_RANK);
	t->rank = (int)tt->shape->n_dim;
	for (int i = 0; i < t->rank; i++) {
		const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
			if (d->dim_value < 0)
				return ft_error(FT_EBADINPUT, "%s: graph input \"%s\" has negative dim %lld", g->path,
						t->name, (long long)d->dim_value);
			t->dims[i] = d->dim_value;
		} else {
			t->dims[i] = -1;
			t->dim_param[i] = ft_arena_strdup(g->arena,
				d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param
					? d->dim_param : "?");
		}
	}
	t->shaped = true; /* dims may still hold symbols; ft_graph_specialise settles them */
	return FT_OK;
}

/* Which inputs of which ops take trainable parameters (DESIGN.md "Semantics"). */
static bool is_trainable_slot(ft_op op, int slot)
{
	switch (op) {
	case FT_OP_CONV:
	case FT_OP_GEMM:
		return slot >= 1;
	case FT_OP_MATMUL:
		return true;
	case FT_OP_BATCH_NORM:
	case FT_OP_LAYER_NORM:
		return slot == 1 || slot == 2;
	default:
		return false;
	}
}

/*
 * Parameters are float initializers that feed trainable slots, or any float
 * initializer of more than one element (embeddings, class tokens, layer scales
 * feed Add/Concat/Expand/Mul); BatchNorm running mean/var are state; everything
 * else (integer tensors, float scalars) is constant. A constant-folded export
 * names what it folded "onnx::Op_123" or "/path/Op_output_0": a slice of a
 * position embedding (trained) or a folded constant (not), which the file does
 * not tell apart, so those train and a warning names them (--freeze keeps them).
 * docs/training.md, "What trains".
 */
static bool exporter_made(const char *name)
{
	return strncmp(name, "onnx::", 6) == 0 || name[0] == '/';
}

static void classify_initializers(ft_graph *g, const int *init_ids, int n_init)
{
	int *uses = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(int));
	bool *trainable = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(bool));
	bool *bn_state = ft_xcalloc((size_t)g->n_tensors + 1, sizeof(bool));
	bool any_bn = false;
	int n_conv = 0, n_anon = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ft_node *n = &g->nodes[i];
		any_bn |= n->op == FT_OP_BATCH_NORM;
		if (n->op == FT_OP_CONV) {
			n_conv++;
			/* a folded Conv+BN gets a new weight the exporter names "onnx::Conv_123" */
			if (strncmp(g->tensors[n->in[1]].name, "onnx::", 6) == 0)
				n_anon++;
		}
		for (int j = 0; j < n->n_in; j++) {
			int id = n->in[j];
			if (id < 0)
				continue;
			uses[id]++;
			if (is_trainable_slot(n->op, j))
				trainable[id] = true;
			if (n->op == FT_OP_BATCH_NORM && (j == 3 || j == 4))
				bn_state[id] = true;
		}
	}
	int shared = 0, n_folded = 0;
	const char *shared_name = NULL, *folded_name = NULL;
	for (int k = 0; k < n_init; k++) {
		int id = init_ids[k];
		ft_tensor *t = &g->tensors[id];
		if (t->kind == FT_TK_INPUT)
			continue; /* an initializer overridden by a graph input of the same name */
		if (!ft_dtype_is_float(t->dtype))
			t->kind = FT_TK_CONST;
		else if (bn_state[id])
			t->kind = FT_TK_STATE;
		else if (trainable[id] || t->numel > 1)
			t->kind = FT_TK_PARAM;
		else
			t->kind = FT_TK_CONST;
		if (t->kind == FT_TK_PARAM && !trainable[id] && exporter_made(t->name)) {
			n_folded++;
			folded_name = folded_name ? folded_name : t->name;
		}
		if (t->kind != FT_TK_CONST && uses[id] > 1 && (trainable[id] || bn_state[id])) {
			shared++;
			shared_name = t->name;
		}
	}
	if (!any_bn && n_anon > 0)
		ft_graph_warn(g,
			      "no BatchNormalization left and %d of %d Conv weights have exporter-made names (\"onnx::...\"): "
			      "the export looks constant-folded in eval mode (BatchNorm fused into Conv); training it will "
			      "not match the original network; export with do_constant_folding=False and "
			      "training=TrainingMode.PRESERVE",
			      n_anon, n_conv);
	if (shared)
		ft_graph_warn(g,
			      "%d parameter or state initializers feed more than one node (e.g. \"%s\"): an eval-mode export "
			      "may have merged initializers that happened to be equal; they would be trained as one",
			      shared, shared_name);
	if (n_folded)
		ft_graph_warn(g,
			      "%d float initializers the exporter made (e.g. \"%s\") feed no weight input and train as "
			      "parameters: a constant-folded export, where such a value is a folded slice of a parameter "
			      "(an embedding) or a folded constant, which ONNX does not tell apart; --freeze 'onnx::*' "
			      "keeps them as they are, export with do_constant_folding=False avoids them",
			      n_folded, folded_name);
	free(bn_state);
	free(trainable);
	free(uses);
}

static ft_status import_graph(ft_graph *g, const Onnx__ModelProto *m, const char *dir)
{
	const Onnx__GraphProto *gp = m->graph;
	if (!gp)
		return ft_error(FT_EBADINPUT, "%s: the model has no graph", g->path);
	int64_t opset = INT64_MIN;
	for (size_t i = 0; i < m->n_opset_import; i++)
		if (m->opset_import[i] && default_domain(m->opset_import[i]->domain))
			opset = m->opset_import[i]->version;
	if (opset == INT64_MIN)
		opset = 1; /* no default-domain import (IR < 3 models have none): the first opset */
	if (opset < 1 || opset > 18)
		return ft_error(FT_EUNSUPPORTED, "%s: opset %lld is not supported (ftrun reads opsets up to 18; 13 to 18 "
				"fully)", g->path, (long long)opset);
	g->opset = (int)opset;

	int *init_ids = ft_xmalloc(sizeof(int) * (gp->n_initializer + 1));
	ft_status st = FT_OK;
	for (size_t i = 0; i < gp->n_initializer; i++) {
		const Onnx__TensorProto *tp = gp->initializer[i];
		if (!tp->name || !tp->name[0]) {
			st = ft_error(FT_EBADINPUT, "%s: initializer %zu has no name", g->path, i);
			goto out_free_init;
		}
		if (ft_graph_find(g, tp->name) >= 0) {
			st = ft_error(FT_EBADINPUT, "%s: initializer \"%s\" is defined twice", g->path, tp->name);
			goto out_free_init;
		}
		int id = ft_graph_tensor(g, tp->name);
		char what[512];
		snprintf(what, sizeof(what), "%s: initializer \"%.300s\"", g->path, tp->name);
		ft_decoded_tensor d;
		st = ft_tensor_proto_decode(tp, dir, what, &d);
		if (st)
			goto out_free_init;
		set_tensor_data(g, id, &d, FT_TK_CONST);
		init_ids[i] = id;
	}

	int *inputs = FT_ARENA_NEW(g->arena, int, gp->n_input + 1);
	for (size_t i = 0; i < gp->n_input; i++) {
		const Onnx__ValueInfoProto *vi = gp->input[i];
		if (!vi->name || !vi->name[0]) {
			st = ft_error(FT_EBADINPUT, "%s: graph input %zu has no name", g->path, i);
			goto out_free_init;
		}
		int id = ft_graph_find(g, vi->name);
		if (id >= 0 && g->tensors[id].data)
			continue; /* an initializer listed as input (IR < 4): a parameter with a default */
		if (id >= 0) {
			st = ft_error(FT_EBADINPUT, "%s: graph input \"%s\" is listed twice", g->path, vi->name);
			goto out_free_init;
		}
		id = ft_graph_tensor(g, vi->name);
		st = import_value_info(g, vi, id);
		if (st)
			goto out_free_init;
		inputs[g->n_inputs++] = id;
	}
	g->inputs = inputs;

	/* nodes: unsupported ops are collected and reported all at once */
	char *unsupported = NULL;
	size_t uns_len = 0;
	int n_unsupported = 0;
	for (size_t i = 0; i < gp->n_node; i++) {
		const Onnx__NodeProto *np = gp->node[i];
		const char *op_type = np->op_type ? np->op_type : "";
		const char *name = np->name && np->name[0] ? np->name
				   : ft_arena_printf(g->arena, "%s_%zu", op_type, i);
		ft_op op = default_domain(np->domain) ? ft_op_from_name(op_type) : FT_OP_COUNT;
		if (op == FT_OP_COUNT) {
			char line[600];
			int k = snprintf(line, sizeof(line), "%s  node \"%.200s\" (%s%s%.100s)", n_unsupported ? "\n" : "",
					 name, default_domain(np->domain) ? "" : np->domain,
					 default_domain(np->domain) ? "" : ".", op_type);
			if (k > (int)sizeof(line) - 1)
				k = (int)sizeof(line) - 1;
			unsupported = ft_xrealloc(unsupported, uns_len + (size_t)k + 1);
			memcpy(unsupported + uns_len, line, (size_t)k + 1);
			uns_len += (size_t)k;
			n_unsupported++;
			continue;
		}
		const ft_op_info *info = &ft_op_table[op];
		if (np->n_input > 4096 || np->n_output > 4096) {
			st = ft_error(FT_EBADINPUT, "%s: node \"%s\" (%s) has too many inputs/outputs", g->path, name,
				      op_type);
			goto out_free_uns;
		}
		ft_node *n = ft_graph_add_node(g, op, name, (int)np->n_input, (int)np->n_output);
		int present_in = 0;
		for (size_t j = 0; j < np->n_input; j++)
			if (np->input[j] && np->input[j][0]) {
				n->in[j] = ft_graph_tensor(g, np->input[j]);
				present_in = (int)j + 1;
			}
		for (size_t j = 0; j < np->n_output; j++)
			if (np->output[j] && np->output[j][0])
				n->out[j] = ft_graph_tensor(g, np->output[j]);
		n->n_in = present_in; /* trailing absent optionals do not count */
		if (n->n_in < info->min_in || n->n_in > info->max_in) {
			st = ft_node_error(g, n, FT_EBADINPUT, "has %d inputs; %s takes %d to %d", n->n_in, info->name,
					   info->min_in, info->max_in);
			goto out_free_uns;
		}
		if (n->n_out < 1 || n->n_out > info->max_out || n->out[0] < 0) {
			st = ft_node_error(g, n, FT_EBADINPUT, "has %d outputs; %s makes 1 to %d", n->n_out, info->name,
					   info->max_out);
			goto out_free_uns;
		}
		for (int j = 0; j < info->min_in; j++)
			if (n->in[j] < 0) {
				st = ft_node_error(g, n, FT_EBADINPUT, "required input %d is missing", j);
				goto out_free_uns;
			}
		if (np->n_attribute) {
			n->attrs = FT_ARENA_NEW(g->arena, ft_attr, np->n_attribute);
			for (size_t j = 0; j < np->n_attribute; j++) {
				st = import_attr(g, n, np->attribute[j], &n->attrs[n->n_attrs], dir);
				if (st)
					goto out_free_uns;
				n->n_attrs++;
			}
		}
		st = info->import(g, n);
		if (st)
			goto out_free_uns;
	}
	if (n_unsupported) {
		st = ft_error(FT_EUNSUPPORTED, "%s: %d node%s use%s ops ftrun does not support (opset %d):\n%s", g->path,
			      n_unsupported, n_unsupported > 1 ? "s" : "", n_unsupported > 1 ? "" : "s", g->opset,
			      unsupported);
		goto out_free_uns;
	}

	if (gp->n_output == 0) {
		st = ft_error(FT_EBADINPUT, "%s: the graph has no outputs", g->path);
		goto out_free_uns;
	}
	g->outputs = FT_ARENA_NEW(g->arena, int, gp->n_output);
	for (size_t i = 0; i < gp->n_output; i++) {
		const char *name = gp->output[i]->name;
		int id = name ? ft_graph_find(g, name) : -1;
		if (id < 0) {
			st = ft_error(FT_EBADINPUT, "%s: graph output \"%s\" is not produced by any node", g->path,
				      name ? name : "");
			goto out_free_uns;
		}
		g->outputs[g->n_outputs++] = id;
	}
	classify_initializers(g, init_ids, (int)gp->n_initializer);
out_free_uns:
	free(unsupported);
out_free_init:
	free(init_ids);
	return st;
}

ft_status ft_import_buffer(const void *buf, size_t len, const char *name, const char *dir, ft_graph **out)
{
	*out = NULL;
	if (len == 0)
		return ft_error(FT_EBADINPUT, "%s: the file is empty", name);
	FT_TRY(ft_wire_check(&onnx__model_proto__descriptor, buf, len, name));
	Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
	if (!m)
		return ft_error(FT_EBADINPUT, "%s: not an ONNX model (the protobuf does not parse; truncated or not a "
				"ModelProto)", name);
	ft_graph *g = ft_graph_new(name);
	g->model = m;
	g->model_free = model_free;
	if (!m->graph || m->ir_version <= 0) {
		/* the message first: freeing the graph frees m */
		ft_status st = ft_error(FT_EBADINPUT, "%s: not an ONNX model (%s)", name,
					!m->graph ? "no graph" : "no ir_version");
		ft_graph_free(g);
		return st;
	}
	ft_status st = import_graph(g, m, dir);
	if (st) {
		ft_graph_free(g);
		return st;
	}
	*out = g;
	return FT_OK;
}

ft_status ft_import_file(const char *path, ft_graph **out)
{
	void *buf;
	size_t len;
	*out = NULL;
	FT_TRY(ft_read_file(path, &buf, &len));
	char *copy = ft_xmalloc(strlen(path) + 1);
	strcpy(copy, path);
	ft_status st = ft_import_buffer(buf, len, path, dirname(copy), out);
	free(copy);
	free(buf);
	return st;
}
