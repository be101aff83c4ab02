/* checkpoint.c - see checkpoint.h for the format. */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"
#include "tensor_proto.h"

static const char magic[8] = "FTCKPT01", end_magic[8] = "FTCKEND1";

uint32_t ft_crc32c(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	if (!ready) { /* Castagnoli polynomial, reflected */
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0x82f63b78u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	const uint8_t *p = data;
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

typedef struct buf {
	uint8_t *p;
	size_t len, cap;
} buf;

static void put(buf *b, const void *v, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = ft_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_i64(buf *b, int64_t v) { put(b, &v, 8); }

static bool saved_kind(const ft_tensor *t)
{
	return (t->kind == FT_TK_PARAM || t->kind == FT_TK_STATE || t->kind == FT_TK_BUFFER) && t->data && t->shaped;
}

/*
 * Buffers whose value comes from the run's configuration, not its history: the
 * gradient accumulation buffers (rewritten by every step's first micro-batch)
 * and the dLoss seed 1/K. A checkpoint may lack them or hold them for another
 * accumulation; loading skips them, so a run resumes with another
 * --grad-accum-steps (and so at another world size with the same global batch).
 */
static bool from_config(const char *name, size_t len)
{
	static const char accum[] = "/grad_accum", dloss[] = "ft/dloss";
	size_t na = sizeof(accum) - 1;
	return (len >= na && memcmp(name + len - na, accum, na) == 0) ||
	       (len == sizeof(dloss) - 1 && memcmp(name, dloss, len) == 0);
}

#define META_FIELDS(X) X(step) X(epoch) X(batch) X(seed) X(micro_batch) X(grad_accum)

ft_status ft_checkpoint_save(const ft_graph *g, const ft_ckpt_meta *meta, const char *path)
{
	buf b = { 0 };
	put(&b, magic, 8);
	put_u32(&b, 6);
#define PUT_META(f)                          \
	put_u32(&b, (uint32_t)strlen(#f));   \
	put(&b, #f, strlen(#f));             \
	put_i64(&b, meta->f);
	META_FIELDS(PUT_META)
#undef PUT_META
	uint32_t n = 0;
	for (int i = 0; i < g->n_tensors; i++)
		n += saved_kind(&g->tensors[i]);
	put_u32(&b, n);
	for (int i = 0; i < g->n_tensors; i++) {
		const ft_tensor *t = &g->tensors[i];
		if (!saved_kind(t))
			continue;
		put_u32(&b, (uint32_t)strlen(t->name));
		put(&b, t->name, strlen(t->name));
		put_u32(&b, (uint32_t)ft_dtype_to_onnx(t->dtype));
		put_u32(&b, (uint32_t)t->rank);
		for (int d = 0; d < t->rank; d++)
			put_i64(&b, t->dims[d]);
		uint64_t bytes = ft_tensor_bytes(t);
		put(&b, &bytes, 8);
		put(&b, t->data, bytes);
	}
	put_u32(&b, ft_crc32c(0, b.p, b.len));
	put(&b, end_magic, 8);
	ft_status st = ft_write_file_atomic(path, b.p, b.len);
	free(b.p);
	if (st == FT_OK) { /* make the rename itself durable */
		char *copy = strdup(path);
		int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
		free(copy);
	}
	return st;
}

typedef struct reader {
	const uint8_t *p, *end;
	bool bad;
} reader;

static const void *take(reader *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	const void *v = r->p;
	r->p += n;
	return v;
}

static uint32_t get_u32(reader *r)
{
	const void *v = take(r, 4);
	uint32_t x = 0;
	if (v)
		memcpy(&x, v, 4);
	return x;
}

static int64_t get_i64(reader *r)
{
	const void *v = take(r, 8);
	int64_t x = 0;
	if (v)
		memcpy(&x, v, 8);
	return x;
}

ft_status ft_checkpoint_load(ft_graph *g, ft_ckpt_meta *meta, const char *path)
{
	void *data;
	size_t len;
	FT_TRY(ft_read_file(path, &data, &len));
	ft_status st = FT_OK;
	const uint8_t *p = data;
	if (len < 8 + 4 + 8 || memcmp(p, magic, 8) != 0) {
		st = ft_error(FT_EBADINPUT, "%s: not an ftrun checkpoint (bad header)", path);
		goto out_free;
	}
	if (memcmp(p + len - 8, end_magic, 8) != 0) {
		st = ft_error(FT_EBADINPUT, "%s: checkpoint is truncated (no end marker); it was not loaded", path);
		goto out_free;
	}
	uint32_t want;
	memcpy(&want, p + len - 12, 4);
	if (ft_crc32c(0, p, len - 12) != want) {
		st = ft_error(FT_EBADINPUT, "%s: checkpoint is corrupt (checksum mismatch); it was not loaded", path);
		goto out_free;
	}
	/* two passes: validate every entry, then copy, so a bad file changes nothing */
	for (int pass = 0; pass < 2; pass++) {
		reader r = { p + 8, p + len - 12, false };
		ft_ckpt_meta m = { 0 };
		uint32_t n_meta = get_u32(&r);
		for (uint32_t i = 0; i < n_meta && !r.bad; i++) {
			uint32_t kl = get_u32(&r);
			const char *k = take(&r, kl);
			int64_t v = get_i64(&r);
			if (!k)
				break;
#define GET_META(f)                                          \
	if (kl == strlen(#f) && memcmp(k, #f, kl) == 0)      \
		m.f = v;
			META_FIELDS(GET_META)
#undef GET_META
		}
		uint32_t n = get_u32(&r);
		int found = 0;
		for (uint32_t i = 0; i < n && !r.bad; i++) {
			uint32_t nl = get_u32(&r);
			const char *name = take(&r, nl);
			uint32_t dt = get_u32(&r), rank = get_u32(&r);
			if (r.bad || rank > FT_MAX_RANK) {
				r.bad = true;
				break;
			}
			int64_t dims[FT_MAX_RANK];
			for (uint32_t d = 0; d < rank; d++)
				dims[d] = get_i64(&r);
			uint64_t bytes = (uint64_t)get_i64(&r);
			const void *v = take(&r, bytes);
			if (r.bad)
				break;
			char key[1024];
			snprintf(key, sizeof(key), "%.*s", (int)(nl < 1000 ? nl : 1000), name);
			if (from_config(name, nl))
				continue;
			int id = ft_graph_find(g, key);
			ft_tensor *t = id >= 0 ? &g->tensors[id] : NULL;
			if (!t || !saved_kind(t)) {
				st = ft_error(FT_EBADINPUT, "%s: checkpoint tensor \"%s\" is not in this model's training graph "
					      "(a checkpoint of another model or configuration, or another --freeze?)", path, key);
				goto out_free;
			}
			bool same = ft_dtype_from_onnx((int)dt) == t->dtype && (int)rank == t->rank &&
				    bytes == ft_tensor_bytes(t);
			for (uint32_t d = 0; same && d < rank; d++)
				same = dims[d] == t->dims[d];
			if (!same) {
				st = ft_error(FT_EBADINPUT, "%s: checkpoint tensor \"%s\" has another type or shape than the "
					      "model's", path, key);
				goto out_free;
			}
			if (pass == 1)
				memcpy(t->data, v, bytes);
			found++;
		}
		if (r.bad) {
			st = ft_error(FT_EBADINPUT, "%s: checkpoint is malformed; it was not loaded", path);
			goto out_free;
		}
		int expected = 0;
		for (int i = 0; i < g->n_tensors; i++) {
			const ft_tensor *t = &g->tensors[i];
			expected += saved_kind(t) && !from_config(t->name, strlen(t->name));
		}
		if (found != expected) {
			st = ft_error(FT_EBADINPUT, "%s: checkpoint has %d of the %d tensors this training run needs "
				      "(another optimizer, accumulation or --freeze setting?)", path, found, expected);
			goto out_free;
		}
		if (pass == 1)
			*meta = m;
	}
out_free:
	free(data);
	return st;
}
