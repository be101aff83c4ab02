/*
 * pack.c - writing `ftrun pack` files (pack.h). The reader is a source of the
 * dataset reader (runtime/data.c, open_pack).
 *
 * Each split is opened with the dataset reader at the stored size with the
 * FT_CROP_CENTER geometry and no flip, and its samples are decoded on the
 * reader's worker threads a chunk at a time, in dataset order, into the file.
 */
#include "pack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h" /* ft_crc32c */
#include "data.h"

static void put32(uint8_t *p, uint32_t v)
{
	for (int k = 0; k < 4; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int k = 0; k < 8; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void ft_pack_header_encode(const ft_pack_header *h, uint8_t out[FT_PACK_HEADER_BYTES])
{
	memset(out, 0, FT_PACK_HEADER_BYTES);
	memcpy(out, h->magic, 8);
	const uint32_t v32[] = { h->version, h->header_bytes, h->channels, h->height, h->width,
				 h->classes, h->source, h->meta_crc };
	for (size_t k = 0; k < FT_ARRAY_LEN(v32); k++)
		put32(out + 8 + 4 * k, v32[k]);
	put64(out + 40, h->count[0]);
	put64(out + 48, h->count[1]);
	put64(out + 56, h->names_bytes);
}

void ft_pack_header_decode(const uint8_t in[FT_PACK_HEADER_BYTES], ft_pack_header *h)
{
	memcpy(h->magic, in, 8);
	uint32_t *v32[] = { &h->version, &h->header_bytes, &h->channels, &h->height, &h->width,
			    &h->classes, &h->source, &h->meta_crc };
	for (size_t k = 0; k < FT_ARRAY_LEN(v32); k++)
		*v32[k] = get32(in + 8 + 4 * k);
	h->count[0] = get64(in + 40);
	h->count[1] = get64(in + 48);
	h->names_bytes = get64(in + 56);
}

uint32_t ft_pack_meta_crc(const ft_pack_header *h, const uint8_t *meta, size_t meta_len)
{
	ft_pack_header z = *h;
	uint8_t hb[FT_PACK_HEADER_BYTES];
	z.meta_crc = 0;
	ft_pack_header_encode(&z, hb);
	return ft_crc32c(ft_crc32c(0, hb, sizeof(hb)), meta, meta_len);
}

void ft_pack_layout(const ft_pack_header *h, uint64_t *labels_off, uint64_t *records_off, uint64_t *total)
{
	uint64_t nrec = h->count[0] + h->count[1];
	*labels_off = FT_PACK_HEADER_BYTES + h->names_bytes;
	uint64_t end = *labels_off + 4 * nrec;
	*records_off = (end + FT_PACK_ALIGN - 1) / FT_PACK_ALIGN * FT_PACK_ALIGN;
	*total = *records_off + nrec * h->channels * h->height * h->width;
}

/* (C, H, W) to (H, W, C) */
static void interleave(uint8_t *dst, const uint8_t *src, int C, size_t hw)
{
	for (size_t p = 0; p < hw; p++)
		for (int c = 0; c < C; c++)
			dst[p * (size_t)C + (size_t)c] = src[(size_t)c * hw + p];
}

static ft_status write_all(FILE *f, const char *path, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, f) != n)
		return ft_error(FT_ERUNTIME, "%s: write failed (%s)", path, strerror(errno));
	return FT_OK;
}

/* ---- the file ------------------------------------------------------------- */

typedef struct pack_split {
	ft_dataset *ds;         /* NULL: the source has no such split */
	int64_t n;
	uint32_t *labels;
} pack_split;

static ft_status open_split(const char *src, const ft_pack_options *opt, bool train, int C, int S, int workers,
			    pack_split *sp)
{
	ft_data_config cfg;
	ft_data_config_defaults(&cfg);
	cfg.path = src;
	cfg.train = train;
	cfg.channels = C;
	cfg.height = cfg.width = S;
	cfg.workers = workers;
	cfg.crop = FT_CROP_CENTER;
	cfg.skip_bad = opt->skip_bad;
	FT_TRY(ft_dataset_open(&cfg, &sp->ds));
	sp->n = ft_dataset_size(sp->ds);
	return FT_OK;
}

/* decodes split sp into f, a chunk at a time in dataset order, and its labels into sp->labels */
static ft_status write_split(FILE *f, const char *tmp, pack_split *sp, int C, int S, bool quiet, const char *what)
{
	enum { CHUNK = 512 };
	size_t hw = (size_t)S * (size_t)S, rec = hw * (size_t)C;
	uint8_t *planar = ft_xmalloc(rec * CHUNK), *hwc = ft_xmalloc(rec * CHUNK);
	int64_t index[CHUNK], labels[CHUNK];
	sp->labels = ft_xmalloc(sizeof(uint32_t) * ((size_t)sp->n + 1));
	ft_status st = FT_OK;
	for (int64_t first = 0; first < sp->n && st == FT_OK; first += CHUNK) {
		int64_t count = sp->n - first < CHUNK ? sp->n - first : CHUNK;
		for (int64_t k = 0; k < count; k++)
			index[k] = first + k;
		st = ft_dataset_samples_u8(sp->ds, 0, index, count, planar, labels);
		if (st != FT_OK)
			break;
		for (int64_t k = 0; k < count; k++) {
			interleave(hwc + (size_t)k * rec, planar + (size_t)k * rec, C, hw);
			sp->labels[first + k] = (uint32_t)labels[k];
		}
		st = write_all(f, tmp, hwc, rec * (size_t)count);
		if (!quiet)
			fprintf(stderr, "\rpacking %s: %lld/%lld", what, (long long)(first + count), (long long)sp->n);
	}
	if (!quiet && sp->n)
		fputc('\n', stderr);
	free(hwc);
	free(planar);
	return st;
}

ft_status ft_pack_write(const char *src, const char *out, const ft_pack_options *opt)
{
	pack_split sp[2] = { { 0 } };
	FILE *f = NULL;
	char *tmp = NULL;
	uint8_t *meta = NULL;
	int C = opt->channels, S = opt->size;
	int workers = opt->workers;
	if (workers <= 0) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		workers = nc > 0 ? (int)(nc < 256 ? nc : 256) : 1;
	}
	if (!strcmp(src, "synthetic"))
		return ft_error(FT_EBADINPUT, "pack: the synthetic set is made on the fly; pack an IDX folder or an "
				"ImageFolder");
	if (C != 0 && C != 1 && C != 3)
		return ft_error(FT_EBADINPUT, "pack: --channels %d (1 or 3)", C);
	/* learn the source's kind (and an IDX folder's image size) from its training split */
	FT_TRY(open_split(src, opt, true, C ? C : 3, S > 0 ? S : 1, workers, &sp[0]));
	int kind = ft_dataset_source_kind(sp[0].ds), c0, h0, w0;
	ft_dataset_source_shape(sp[0].ds, &c0, &h0, &w0);
	ft_dataset_free(sp[0].ds);
	sp[0].ds = NULL;
	ft_status st = FT_OK;
	if (kind != FT_PACK_SRC_IDX && kind != FT_PACK_SRC_FOLDER) {
		st = ft_error(FT_EBADINPUT, "%s: already a pack", src);
		goto out_free;
	}
	if (!C)
		C = kind == FT_PACK_SRC_IDX ? 1 : 3;
	if (S <= 0 && kind == FT_PACK_SRC_IDX && h0 != w0) {
		st = ft_error(FT_EBADINPUT, "%s: IDX images of %d x %d; give a square --size", src, h0, w0);
		goto out_free;
	}
	if (S <= 0)
		S = kind == FT_PACK_SRC_IDX ? h0 : 256;
	if (S > 4096) {
		st = ft_error(FT_EBADINPUT, "pack: --size %d (at most 4096)", S);
		goto out_free;
	}
	st = open_split(src, opt, true, C, S, workers, &sp[0]);
	if (st)
		goto out_free;
	/* a missing held-out split is allowed (the pack then trains but cannot evaluate) */
	if (open_split(src, opt, false, C, S, workers, &sp[1]) != FT_OK) {
		fprintf(stderr, "ftrun: pack: no held-out split: %s\n", ft_last_error());
		sp[1].ds = NULL;
		sp[1].n = 0;
	}

	ft_pack_header h = { .version = FT_PACK_VERSION, .header_bytes = FT_PACK_HEADER_BYTES,
			     .channels = (uint32_t)C, .height = (uint32_t)S, .width = (uint32_t)S,
			     .classes = (uint32_t)ft_dataset_classes(sp[0].ds), .source = (uint32_t)kind,
			     .count = { (uint64_t)sp[0].n, (uint64_t)sp[1].n } };
	memcpy(h.magic, FT_PACK_MAGIC, 8);
	size_t names = 0;
	for (uint32_t k = 0; k < h.classes; k++)
		names += strlen(ft_dataset_class_name(sp[0].ds, (int)k)) + 1;
	h.names_bytes = (names + 7) / 8 * 8;
	uint64_t labels_off, records_off, total;
	ft_pack_layout(&h, &labels_off, &records_off, &total);

	tmp = ft_xmalloc(strlen(out) + 8);
	sprintf(tmp, "%s.tmp", out);
	f = fopen(tmp, "wb");
	if (!f) {
		st = ft_error(FT_EBADINPUT, "%s: cannot create (%s)", tmp, strerror(errno));
		goto out_free;
	}
	if (fseek(f, (long)records_off, SEEK_SET) != 0) {
		st = ft_error(FT_ERUNTIME, "%s: seek failed (%s)", tmp, strerror(errno));
		goto out_free;
	}
	for (int s = 0; s < 2 && st == FT_OK; s++)
		if (sp[s].ds)
			st = write_split(f, tmp, &sp[s], C, S, opt->quiet, s ? "held-out split" : "training split");
	if (st)
		goto out_free;
	/* names and labels, their checksum in the header, and the header last */
	size_t meta_len = (size_t)(records_off - FT_PACK_HEADER_BYTES);
	meta = ft_xcalloc(meta_len, 1);
	size_t at = 0;
	for (uint32_t k = 0; k < h.classes; k++) {
		const char *name = ft_dataset_class_name(sp[0].ds, (int)k);
		memcpy(meta + at, name, strlen(name) + 1);
		at += strlen(name) + 1;
	}
	uint8_t *lab = meta + (labels_off - FT_PACK_HEADER_BYTES);
	for (int s = 0, r = 0; s < 2; s++)
		for (int64_t i = 0; i < sp[s].n; i++, r++)
			put32(lab + 4 * (size_t)r, sp[s].labels[i]);
	h.meta_crc = ft_pack_meta_crc(&h, meta, (size_t)(labels_off + 4 * (h.count[0] + h.count[1]) - FT_PACK_HEADER_BYTES));
	uint8_t hb[FT_PACK_HEADER_BYTES];
	ft_pack_header_encode(&h, hb);
	if (fseek(f, 0, SEEK_SET) != 0 || (st = write_all(f, tmp, hb, sizeof(hb))) ||
	    (st = write_all(f, tmp, meta, meta_len)))
		goto out_free;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		st = ft_error(FT_ERUNTIME, "%s: write failed (%s)", tmp, strerror(errno));
		goto out_free;
	}
	fclose(f);
	f = NULL;
	if (rename(tmp, out) != 0) {
		st = ft_error(FT_ERUNTIME, "%s: cannot rename to %s (%s)", tmp, out, strerror(errno));
		goto out_free;
	}
	if (!opt->quiet)
		fprintf(stderr, "%s: %lld training and %lld held-out images of %d x %d x %d, %d classes, %.1f MiB\n", out,
			(long long)sp[0].n, (long long)sp[1].n, S, S, C, (int)h.classes, (double)total / (1 << 20));
out_free:
	if (f) {
		fclose(f);
		unlink(tmp);
	}
	free(tmp);
	free(meta);
	for (int s = 0; s < 2; s++) {
		free(sp[s].labels);
		ft_dataset_free(sp[s].ds);
	}
	return st;
}
