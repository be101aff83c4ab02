/* tensor_proto.h - decoding ONNX TensorProto messages (importer-private). */
#ifndef FT_TENSOR_PROTO_H
#define FT_TENSOR_PROTO_H

#include "import.h"
#include "onnx.pb-c.h"

typedef struct ft_decoded_tensor {
	ft_dtype dtype;
	int rank;
	int64_t dims[FT_MAX_RANK];
	int64_t numel;
	void *data;  /* 16-byte aligned */
	bool owned;  /* data was allocated (free it); else it points into the message */
} ft_decoded_tensor;

/* what names the tensor in messages ("model.onnx: initializer \"w\"") */
ft_status ft_tensor_proto_decode(const Onnx__TensorProto *tp, const char *dir, const char *what,
				 ft_decoded_tensor *out);
ft_status ft_write_file_atomic(const char *path, const void *data, size_t len);

#endif
