#include "wire_check.h"

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d, uint32_t num)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (d->fields[i].id == num)
			return &d->fields[i];
	return NULL;
}

static ft_status walk(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end, int depth,
		      const char *name)
{
	if (depth > FT_WIRE_MAX_DEPTH)
		return ft_error(FT_EBADINPUT, "%s: messages nested more than %d deep; refusing the file", name,
				FT_WIRE_MAX_DEPTH);
	while (p < end) {
		uint64_t key, v;
		if (!read_varint(&p, end, &key))
			goto bad;
		uint32_t num = (uint32_t)(key >> 3);
		switch (key & 7) {
		case 0:
			if (!read_varint(&p, end, &v))
				goto bad;
			break;
		case 1:
			if (end - p < 8)
				goto bad;
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				goto bad;
			p += 4;
			break;
		case 2: {
			if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
				goto bad;
			const ProtobufCFieldDescriptor *f = d ? find_field(d, num) : NULL;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE)
				FT_TRY(walk(f->descriptor, p, p + v, depth + 1, name));
			p += v;
			break;
		}
		default: /* groups (3, 4) are not used by onnx.proto */
			goto bad;
		}
	}
	return FT_OK;
bad:
	return ft_error(FT_EBADINPUT, "%s: not an ONNX model (malformed or truncated protobuf)", name);
}

ft_status ft_wire_check(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len, const char *name)
{
	return walk(desc, buf, (const uint8_t *)buf + len, 0, name);
}
