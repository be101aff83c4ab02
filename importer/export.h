/* export.h - writing ONNX files (see onnx_export.c). */
#ifndef FT_EXPORT_H
#define FT_EXPORT_H

#include "ir.h"

/* A model with no nodes whose graph initializers are the given tensors
 * (data[i] holds tensors[i]'s bytes on the host). */
ft_status ft_write_tensors_onnx(const char *path, const char *graph_name, int n, const char *const *names,
				const ft_tensor *const *tensors, void *const *data);

/*
 * Writes the imported model g->model with every parameter and state
 * initializer replaced by value(ctx, tensor id) (host bytes, NULL to keep the
 * original). Nodes and attributes are written as imported: BatchNorm stays in
 * inference mode and uses the learned running statistics.
 */
ft_status ft_export_model(const ft_graph *g, const char *path, const void *(*value)(void *ctx, int id), void *ctx);

#endif
