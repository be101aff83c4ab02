/*
 * import.h - ONNX ModelProto -> ftrun IR.
 *
 * The importer reads the file whole, parses it with the protobuf-c bindings
 * generated from the system's onnx.proto, and builds an ft_graph:
 *   - initializers become tensors with data (raw_data, typed fields, or external
 *     files confined to the model's folder); float initializers that feed
 *     trainable inputs are parameters, BatchNorm running statistics are state,
 *     the rest are constants;
 *   - graph inputs that are not initializers become FT_TK_INPUT tensors with
 *     their declared dtype and (possibly symbolic) shape;
 *   - each node is translated by its op's import function (ops.h).
 * Every problem is reported as FT_EBADINPUT/FT_EUNSUPPORTED with the file, the
 * node and what is wrong; unsupported ops are all listed at once.
 */
#ifndef FT_IMPORT_H
#define FT_IMPORT_H

#include "ir.h"

ft_status ft_import_file(const char *path, ft_graph **out);
/* name is used in messages; dir is where external data may live (NULL: none allowed). */
ft_status ft_import_buffer(const void *buf, size_t len, const char *name, const char *dir, ft_graph **out);

/*
 * Decodes a serialized TensorProto file (the test_data_set layout) into a
 * malloc'd buffer: *data must be freed by the caller.
 */
ft_status ft_read_tensor_file(const char *path, char *name, size_t name_len, ft_dtype *dtype, int *rank,
			      int64_t *dims, void **data);
/* Writes data as a serialized TensorProto named name (atomically: temp + rename). */
ft_status ft_write_tensor_file(const char *path, const char *name, ft_dtype dtype, int rank, const int64_t *dims,
			       const void *data);

/* reads a whole file into malloc'd memory */
ft_status ft_read_file(const char *path, void **data, size_t *len);

#endif
