/*
 * tensor_proto.c - TensorProto <-> bytes: the initializer decoder shared by the
 * importer and the TensorProto file reader/writer (`ftrun run`).
 */
#include "tensor_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ft_status ft_read_file(const char *path, void **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ft_error(FT_EBADINPUT, "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ft_error(FT_EBADINPUT, "%s: not a regular file", path);
	}
	size_t n = (size_t)st.st_size;
	char *buf = ft_xmalloc(n + 1);
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			close(fd);
			return ft_error(FT_ERUNTIME, "%s: read failed: %s", path, r ? strerror(errno) : "short read");
		}
		got += (size_t)r;
	}
	close(fd);
	*data = buf;
	*len = n;
	return FT_OK;
}

/* Reads external data (location/offset/length) from a file inside dir. */
static ft_status read_external(const Onnx__TensorProto *tp, const char *dir, const char *what, size_t bytes,
			       void **out)
{
	const char *location = NULL;
	int64_t offset = 0, length = -1;
	for (size_t i = 0; i < tp->n_external_data; i++) {
		const Onnx__StringStringEntryProto *e = tp->external_data[i];
		if (!e->key || !e->value)
			continue;
		if (strcmp(e->key, "location") == 0) {
			location = e->value;
		} else if (strcmp(e->key, "offset") == 0 || strcmp(e->key, "length") == 0) {
			char *end;
			errno = 0;
			long long v = strtoll(e->value, &end, 10);
			if (errno || *end || v < 0)
				return ft_error(FT_EBADINPUT, "%s: external data %s \"%s\" is not a non-negative integer",
						what, e->key, e->value);
			*(e->key[0] == 'o' ? &offset : &length) = v;
		}
	}
	if (!location || !location[0])
		return ft_error(FT_EBADINPUT, "%s: external data without a location", what);
	if (!dir)
		return ft_error(FT_EBADINPUT, "%s: external data \"%s\" but the model was not read from a file", what,
				location);
	if (location[0] == '/')
		return ft_error(FT_EBADINPUT,
				"%s: external data location \"%s\" is an absolute path; it must be inside the model's folder",
				what, location);
	char dir_real[PATH_MAX], file_real[PATH_MAX], joined[PATH_MAX * 2];
	if (!realpath(dir, dir_real))
		return ft_error(FT_EBADINPUT, "%s: model folder \"%s\": %s", what, dir, strerror(errno));
	snprintf(joined, sizeof(joined), "%s/%s", dir_real, location);
	if (!realpath(joined, file_real))
		return ft_error(FT_EBADINPUT, "%s: external data file \"%s\": %s", what, location, strerror(errno));
	size_t dl = strlen(dir_real);
	if (strncmp(file_real, dir_real, dl) != 0 || file_real[dl] != '/')
		return ft_error(FT_EBADINPUT, "%s: external data location \"%s\" resolves outside the model's folder",
				what, location);
	if (length >= 0 && (uint64_t)length != bytes)
		return ft_error(FT_EBADINPUT, "%s: external data length %lld does not match the %zu bytes its dims need",
				what, (long long)length, bytes);
	int fd = open(file_real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ft_error(FT_EBADINPUT, "%s: external data file \"%s\": %s", what, location, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)offset > (uint64_t)st.st_size ||
	    (uint64_t)st.st_size - (uint64_t)offset < bytes) {
		close(fd);
		return ft_error(FT_EBADINPUT, "%s: external data file \"%s\" is too short for offset %lld + %zu bytes",
				what, location, (long long)offset, bytes);
	}
	char *buf = ft_aligned_alloc(bytes);
	size_t got = 0;
	while (got < bytes) {
		ssize_t r = pread(fd, buf + got, bytes - got, (off_t)(offset + (int64_t)got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(buf);
			close(fd);
			return ft_error(FT_ERUNTIME, "%s: reading external data \"%s\" failed", what, location);
		}
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	return FT_OK;
}

ft_status ft_tensor_proto_decode(const Onnx__TensorProto *tp, const char *dir, const char *what,
				 ft_decoded_tensor *d)
{
	memset(d, 0, sizeof(*d));
	if (tp->segment)
		return ft_error(FT_EUNSUPPORTED, "%s: segmented tensors are not supported", what);
	d->dtype = ft_dtype_from_onnx(tp->data_type);
	if (d->dtype == FT_UNDEF)
		return ft_error(tp->data_type == 8 ? FT_EUNSUPPORTED : FT_EBADINPUT,
				"%s: element type %d (%s) is not supported", what, (int)tp->data_type,
				tp->data_type == 8 ? "string" : tp->data_type == 0 ? "undefined" : "unknown");
	if (tp->n_dims > FT_MAX_RANK)
		return ft_error(FT_EUNSUPPORTED, "%s: rank %zu is above the supported %d", what, tp->n_dims,
				FT_MAX_RANK);
	d->rank = (int)tp->n_dims;
	int64_t numel = 1;
	for (int i = 0; i < d->rank; i++) {
		d->dims[i] = tp->dims[i];
		if (d->dims[i] < 0)
			return ft_error(FT_EBADINPUT, "%s: negative dim %lld", what, (long long)d->dims[i]);
		if (!ft_mul_ok(numel, d->dims[i], &numel) || numel > ((int64_t)1 << 40))
			return ft_error(FT_EBADINPUT, "%s: dims overflow", what);
	}
	size_t esz = ft_dtype_size(d->dtype);
	size_t bytes = (size_t)numel * esz;
	d->numel = numel;

	if (bytes == 0) { /* empty tensors still get a pointer: "has data" means constant */
		d->data = ft_aligned_alloc(16);
		d->owned = true;
		return FT_OK;
	}
	if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
		FT_TRY(read_external(tp, dir, what, bytes, &d->data));
		d->owned = true;
		return FT_OK;
	}
	if (tp->has_raw_data) {
		if (tp->raw_data.len != bytes)
			return ft_error(FT_EBADINPUT, "%s: raw_data has %zu bytes, its dims and type need %zu", what,
					tp->raw_data.len, bytes);
		if (((uintptr_t)tp->raw_data.data & 15) == 0 || bytes == 0) {
			d->data = tp->raw_data.data; /* borrowed from the parsed message */
		} else {
			d->data = ft_aligned_alloc(bytes);
			memcpy(d->data, tp->raw_data.data, bytes);
			d->owned = true;
		}
		return FT_OK;
	}
	/* typed fields: which one holds the values depends on the element type */
	size_t have;
	switch (d->dtype) {
	case FT_F32: have = tp->n_float_data; break;
	case FT_F64: have = tp->n_double_data; break;
	case FT_I64: have = tp->n_int64_data; break;
	case FT_U32:
	case FT_U64: have = tp->n_uint64_data; break;
	default: have = tp->n_int32_data; break;
	}
	if (have != (size_t)numel)
		return ft_error(FT_EBADINPUT, "%s: has %zu values, its dims [%d-D] need %lld", what, have, d->rank,
				(long long)numel);
	d->data = ft_aligned_alloc(bytes);
	d->owned = true;
	for (int64_t i = 0; i < numel; i++) {
		switch (d->dtype) {
		case FT_F32: ((float *)d->data)[i] = tp->float_data[i]; break;
		case FT_F64: ((double *)d->data)[i] = tp->double_data[i]; break;
		case FT_I64: ((int64_t *)d->data)[i] = tp->int64_data[i]; break;
		case FT_U64: ((uint64_t *)d->data)[i] = tp->uint64_data[i]; break;
		case FT_U32: ((uint32_t *)d->data)[i] = (uint32_t)tp->uint64_data[i]; break;
		case FT_I32: ((int32_t *)d->data)[i] = tp->int32_data[i]; break;
		case FT_I16: ((int16_t *)d->data)[i] = (int16_t)tp->int32_data[i]; break;
		case FT_U16:
		case FT_F16:
		case FT_BF16: ((uint16_t *)d->data)[i] = (uint16_t)tp->int32_data[i]; break;
		case FT_I8: ((int8_t *)d->data)[i] = (int8_t)tp->int32_data[i]; break;
		case FT_U8: ((uint8_t *)d->data)[i] = (uint8_t)tp->int32_data[i]; break;
		case FT_BOOL: ((uint8_t *)d->data)[i] = tp->int32_data[i] != 0; break;
		default: FT_ASSERT(!"unreachable dtype");
		}
	}
	return FT_OK;
}

ft_status ft_read_tensor_file(const char *path, char *name, size_t name_len, ft_dtype *dtype, int *rank,
			      int64_t *dims, void **data)
{
	void *buf;
	size_t len;
	FT_TRY(ft_read_file(path, &buf, &len));
	Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
	free(buf);
	if (!tp)
		return ft_error(FT_EBADINPUT, "%s: not a serialized ONNX TensorProto", path);
	ft_decoded_tensor d;
	ft_status st = ft_tensor_proto_decode(tp, NULL, path, &d);
	if (st == FT_OK) {
		size_t bytes = (size_t)d.numel * ft_dtype_size(d.dtype);
		*data = ft_aligned_alloc(bytes);
		if (bytes)
			memcpy(*data, d.data, bytes);
		if (d.owned)
			free(d.data);
		*dtype = d.dtype;
		*rank = d.rank;
		memcpy(dims, d.dims, sizeof(int64_t) * (size_t)d.rank);
		if (name && name_len)
			snprintf(name, name_len, "%s", tp->name ? tp->name : "");
	}
	onnx__tensor_proto__free_unpacked(tp, NULL);
	return st;
}

ft_status ft_write_file_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return ft_error(FT_EBADINPUT, "%s: path too long", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return ft_error(FT_ERUNTIME, "%s: cannot create: %s", tmp, strerror(errno));
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return ft_error(FT_ERUNTIME, "%s: write failed: %s", tmp, strerror(e));
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		int e = errno;
		unlink(tmp);
		return ft_error(FT_ERUNTIME, "%s: fsync/close failed: %s", tmp, strerror(e));
	}
	if (rename(tmp, path) != 0) {
		int e = errno;
		unlink(tmp);
		return ft_error(FT_ERUNTIME, "%s: rename failed: %s", path, strerror(e));
	}
	return FT_OK;
}

ft_status ft_write_tensor_file(const char *path, const char *name, ft_dtype dtype, int rank, const int64_t *dims,
			       const void *data)
{
	Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
	int64_t numel = 1;
	for (int i = 0; i < rank; i++)
		numel *= dims[i];
	tp.n_dims = (size_t)rank;
	tp.dims = (int64_t *)dims;
	tp.has_data_type = 1;
	tp.data_type = ft_dtype_to_onnx(dtype);
	tp.name = (char *)name;
	tp.has_raw_data = 1;
	tp.raw_data.len = (size_t)numel * ft_dtype_size(dtype);
	tp.raw_data.data = (uint8_t *)data;
	size_t len = onnx__tensor_proto__get_packed_size(&tp);
	uint8_t *buf = ft_xmalloc(len);
	onnx__tensor_proto__pack(&tp, buf);
	ft_status st = ft_write_file_atomic(path, buf, len);
	free(buf);
	return st;
}
