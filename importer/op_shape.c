/*
 * op_shape.c - import-time checks for the shapes and data movement family.
 *
 * Only Constant needs one: it must carry exactly one value, in a form ftrun
 * has (a numeric tensor, float(s) or int(s)); the other ops of the family are
 * validated by shape inference, where their inputs' shapes are known.
 */
#include "ir.h"

#include <string.h>

ft_status ft_import_constant(ft_graph *g, ft_node *n)
{
	static const char *const unsupported[] = { "value_string", "value_strings", "sparse_value" };
	static const struct {
		const char *name;
		ft_attr_kind kind;
	} forms[] = {
		{ "value", FT_ATTR_TENSOR },       { "value_float", FT_ATTR_FLOAT }, { "value_floats", FT_ATTR_FLOATS },
		{ "value_int", FT_ATTR_INT },      { "value_ints", FT_ATTR_INTS },
	};
	int found = 0;

	for (size_t i = 0; i < FT_ARRAY_LEN(unsupported); i++)
		if (ft_attr_find(n, unsupported[i]))
			return ft_node_error(g, n, FT_EUNSUPPORTED, "attribute %s is not supported "
					     "(only numeric constants are)", unsupported[i]);
	for (size_t i = 0; i < FT_ARRAY_LEN(forms); i++) {
		const ft_attr *a = ft_attr_find(n, forms[i].name);
		if (!a)
			continue;
		if (a->kind != forms[i].kind)
			return ft_node_error(g, n, FT_EBADINPUT, "attribute %s has the wrong type", forms[i].name);
		if (a->kind == FT_ATTR_TENSOR) {
			if (a->i < 0 || a->i >= g->n_tensors)
				return ft_node_error(g, n, FT_EBADINPUT, "value refers to no tensor");
			const ft_tensor *t = &g->tensors[a->i];
			if (!t->shaped || (!t->data && t->numel > 0))
				return ft_node_error(g, n, FT_EBADINPUT, "value tensor has no data");
		}
		found++;
	}
	if (found != 1)
		return ft_node_error(g, n, FT_EBADINPUT,
				     "needs exactly one of value, value_float(s), value_int(s); it has %d", found);
	return FT_OK;
}
