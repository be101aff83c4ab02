/*
 * data.c - the dataset reader (data.h): IDX folders, ImageFolder trees and the
 * synthetic set, adapted to the model's input and batched deterministically.
 *
 * A sample goes through two steps on a worker thread:
 *   load     its pixels as uint8 (h0, w0, c0) interleaved, c0 1 or 3: a view
 *            into the IDX images, a decoded JPEG/PNG, or generated;
 *   adapt    channels, resize, normalise, flip into its (C, H, W) slot.
 * Workers take samples of a batch from a shared counter; nothing they write
 * depends on which worker took what, so the worker count changes no byte.
 */
#include "data.h"

#include "pack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <zlib.h>

/* Limits on untrusted sizes: an image larger than this is refused, not allocated. */
#define FT_DATA_MAX_PIXELS (1ll << 27)      /* 134M pixels, e.g. 11585 x 11585 */
#define FT_DATA_MAX_FILE (1ll << 30)        /* one image file */
#define FT_DATA_MAX_IDX (1ll << 34)         /* one decompressed IDX file */
#define FT_DATA_MAX_SIDE 16384              /* the model's input H and W */

enum ft_data_source { FT_SRC_SYNTHETIC, FT_SRC_IDX, FT_SRC_FOLDER, FT_SRC_PACK };

struct ft_dataset {
	ft_data_config cfg;     /* cfg.path points at path below */
	char *path;
	enum ft_data_source src;
	int64_t n;
	int classes;
	char **class_names;     /* classes */
	int workers;

	/* IDX: images (n, h, w) and labels (n), uint8 */
	uint8_t *idx_images, *idx_labels;
	int idx_h, idx_w;

	/* ImageFolder: file i is split_dir/class_names[file_class[i]]/names + name_off[i] */
	char *split_dir;
	char *names;
	int64_t *name_off;
	int32_t *file_class;
	_Atomic uint8_t *bad;   /* 1: known unreadable (skip_bad), warned once */

	/* pack: the mapped file; records (n, pack_h, pack_w, pack_c) and labels of this split */
	uint8_t *pack_map;
	size_t pack_len;
	const uint8_t *pack_records, *pack_labels;
	int pack_c, pack_h, pack_w, pack_source;

	ft_data_crop crop;      /* cfg.crop with FT_CROP_AUTO resolved */

	/* the permutations of the last two epochs asked for (training split), by epoch parity:
	   a prefetching loader works across an epoch's end */
	pthread_mutex_t perm_lock;
	int64_t perm_epoch[2];  /* -1: none yet */
	int64_t *perm[2];
};

void ft_data_config_defaults(ft_data_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->path = "synthetic";
	cfg->train = true;
	cfg->channels = 3;
	cfg->height = 224;
	cfg->width = 224;
	cfg->synthetic_size = 1024;
	cfg->synthetic_classes = 10;
	for (int c = 0; c < 3; c++)
		cfg->std[c] = 1.0f;
}

/* ---- deterministic randomness ---------------------------------------- */

/* Streams of randomness are told apart by a tag mixed into the hash. */
enum { FT_TAG_PERM = 0x5045524d, FT_TAG_FLIP = 0x464c4950, FT_TAG_SYN = 0x53594e00,
       FT_TAG_TEMPLATE = 0x54504c00, FT_TAG_CROP = 0x43524f50 };

static uint64_t mix64(uint64_t x)
{
	/* splitmix64's finaliser */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t hash4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	return mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}

static uint64_t rng_next(uint64_t *s)
{
	*s += 0x9e3779b97f4a7c15ull;
	return mix64(*s);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n) without bias (Lemire's multiply-and-reject). */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(s) * n;
	if ((uint64_t)m < n) {
		uint64_t t = -n % n;
		while ((uint64_t)m < t)
			m = (unsigned __int128)rng_next(s) * n;
	}
	return (uint64_t)(m >> 64);
}

/* ---- small helpers ----------------------------------------------------- */

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(ft_xmalloc(n), s, n);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		ft_fatal(__FILE__, __LINE__, "out of memory (formatting a path)");
	return s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strs(char **v, int64_t n)
{
	if (!v)
		return;
	for (int64_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- the resize (data.h) ------------------------------------------------ */

/*
 * Source coordinate and weights of output index d along a side, as PyTorch's
 * compute_source_index_and_lambda (align_corners=False): half-pixel centres,
 * clamped at 0; the scale is float, the coordinate double (PyTorch 1.13's CPU
 * accumulate type), the weights float with l0 = 1 - l1.
 */
static void linear_coeffs(int out, int in, int *i0, int *i1, float *l0, float *l1)
{
	float scale = (float)in / (float)out;
	for (int d = 0; d < out; d++) {
		double src = (double)scale * (d + 0.5) - 0.5;
		if (src < 0)
			src = 0;
		int a = (int)src;
		if (a > in - 1)
			a = in - 1;
		double l = src - a;
		l1[d] = (float)(l < 0 ? 0 : l > 1 ? 1 : l);
		l0[d] = 1.0f - l1[d];
		i0[d] = a;
		i1[d] = a < in - 1 ? a + 1 : a;
	}
}

/*
 * p * w + q * v as PyTorch's kernel computes it when built with FMA: the
 * second product rounded to float, the first fused into the sum. The fused
 * multiply-add is done in double (the product of two floats is exact there),
 * which equals fmaf() except for an extremely rare double rounding, and
 * costs no libm call.
 */
static inline float lerp2(float p, float w, float q, float v)
{
	float qv = q * v;
	return (float)((double)p * w + qv);
}

void ft_data_resize_bilinear(float *dst, int oh, int ow, const float *src, int ih, int iw)
{
	FT_ASSERT(oh > 0 && ow > 0 && ih > 0 && iw > 0);
	if (oh == ih && ow == iw) {
		memcpy(dst, src, sizeof(float) * (size_t)oh * (size_t)ow);
		return;
	}
	int *y0 = ft_xmalloc(sizeof(int) * 2 * ((size_t)oh + (size_t)ow));
	int *y1 = y0 + oh, *x0 = y1 + oh, *x1 = x0 + ow;
	float *wy0 = ft_xmalloc(sizeof(float) * 2 * ((size_t)oh + (size_t)ow));
	float *wy1 = wy0 + oh, *wx0 = wy1 + oh, *wx1 = wx0 + ow;
	linear_coeffs(oh, ih, y0, y1, wy0, wy1);
	linear_coeffs(ow, iw, x0, x1, wx0, wx1);
	for (int y = 0; y < oh; y++) {
		const float *r0 = src + (size_t)y0[y] * (size_t)iw;
		const float *r1 = src + (size_t)y1[y] * (size_t)iw;
		float *d = dst + (size_t)y * (size_t)ow;
		for (int x = 0; x < ow; x++) {
			/* PyTorch's NCHW kernel: along each row, then between the rows */
			float t0 = lerp2(r0[x0[x]], wx0[x], r0[x1[x]], wx1[x]);
			float t1 = lerp2(r1[x0[x]], wx0[x], r1[x1[x]], wx1[x]);
			d[x] = lerp2(t0, wy0[y], t1, wy1[y]);
		}
	}
	free(y0);
	free(wy0);
}

/* ---- per-worker scratch ------------------------------------------------ */

typedef struct ft_data_scratch {
	tjhandle tj;
	uint8_t *file;          /* the encoded file */
	size_t file_cap;
	uint8_t *pix;           /* decoded or generated pixels, (h0, w0, c0) */
	size_t pix_cap;
	float *planes;          /* channel-adapted float planes of the crop box, before the resize */
	size_t planes_cap;
	float *resized;         /* the planes after the resize, before the center cut */
	size_t resized_cap;
} ft_data_scratch;

ft_data_scratch *ft_data_scratch_new(void)
{
	return ft_xcalloc(1, sizeof(ft_data_scratch));
}

static void *grow(void *p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return p;
	free(p);
	*cap = need;
	return ft_xmalloc(need);
}

static void scratch_free(ft_data_scratch *sc)
{
	if (sc->tj)
		tjDestroy(sc->tj);
	free(sc->file);
	free(sc->pix);
	free(sc->planes);
	free(sc->resized);
}

void ft_data_scratch_free(ft_data_scratch *sc)
{
	if (!sc)
		return;
	scratch_free(sc);
	free(sc);
}

/* ---- decoding ----------------------------------------------------------- */

static ft_status read_file(const char *path, ft_data_scratch *sc, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ft_error(FT_EBADINPUT, "%s: cannot open (%s)", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ft_error(FT_EBADINPUT, "%s: not a regular file", path);
	}
	if (st.st_size > FT_DATA_MAX_FILE) {
		close(fd);
		return ft_error(FT_EBADINPUT, "%s: %lld bytes, larger than an image may be (%lld)",
				path, (long long)st.st_size, FT_DATA_MAX_FILE);
	}
	size_t want = (size_t)st.st_size, got = 0;
	sc->file = grow(sc->file, &sc->file_cap, want + 1);
	while (got < want) {
		ssize_t r = read(fd, sc->file + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : 0;
			close(fd);
			return ft_error(FT_EBADINPUT, "%s: read failed (%s)", path,
					e ? strerror(e) : "file shrank while reading");
		}
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return FT_OK;
}

static ft_status check_dims(const char *path, const char *what, int64_t w, int64_t h)
{
	if (w <= 0 || h <= 0 || w * h > FT_DATA_MAX_PIXELS)
		return ft_error(FT_EBADINPUT, "%s: %s of %lld x %lld pixels (at most %lld pixels)",
				path, what, (long long)w, (long long)h, FT_DATA_MAX_PIXELS);
	return FT_OK;
}

/*
 * A TurboJPEG handle that failed on one file can fail the next good one
 * (seen with libjpeg-turbo 2.1: "Bogus Huffman table definition"), so it is
 * dropped and a fresh one made for the next image.
 */
static ft_status jpeg_fail(ft_data_scratch *sc, const char *path, const char *what, const char *msg)
{
	ft_status st = ft_error(FT_EBADINPUT, "%s: %s JPEG (%s)", path, what, msg);
	tjDestroy(sc->tj);
	sc->tj = NULL;
	return st;
}

/*
 * JPEG through TurboJPEG, with its default (accurate) DCT and fancy upsampling,
 * the settings PIL uses. A warning is accepted (as PIL does: extraneous bytes
 * and the like) except a premature end of file, which is a truncated image.
 */
static ft_status decode_jpeg(const char *path, ft_data_scratch *sc, size_t len,
			     int *c0, int *h0, int *w0)
{
	if (!sc->tj && !(sc->tj = tjInitDecompress()))
		return ft_error(FT_ERUNTIME, "%s: cannot start TurboJPEG: %s", path, tjGetErrorStr2(NULL));
	int w = 0, h = 0, subsamp = -1, cs = -1;
	/* a complete JPEG ends with the EOI marker; one without it that fails was cut short */
	const char *what = len >= 2 && sc->file[len - 2] == 0xff && sc->file[len - 1] == 0xd9 ?
			   "broken" : "truncated";
	if (tjDecompressHeader3(sc->tj, sc->file, (unsigned long)len, &w, &h, &subsamp, &cs) != 0)
		return jpeg_fail(sc, path, what, tjGetErrorStr2(sc->tj));
	/* TurboJPEG 2.1 reports a stream of tables only (no frame) as success, sizes untouched */
	if (w <= 0 || h <= 0 || cs < 0)
		return jpeg_fail(sc, path, what, "no image frame in the file");
	FT_TRY(check_dims(path, "JPEG", w, h));
	bool cmyk = cs == TJCS_CMYK || cs == TJCS_YCCK;
	int pf = cs == TJCS_GRAY ? TJPF_GRAY : cmyk ? TJPF_CMYK : TJPF_RGB;
	int ps = tjPixelSize[pf];
	sc->pix = grow(sc->pix, &sc->pix_cap, (size_t)w * (size_t)h * (size_t)ps);
	if (tjDecompress2(sc->tj, sc->file, (unsigned long)len, sc->pix, w, 0, h, pf, 0) != 0) {
		const char *msg = tjGetErrorStr2(sc->tj);
		if (tjGetErrorCode(sc->tj) != TJERR_WARNING || strstr(msg, "Premature end"))
			return jpeg_fail(sc, path, strstr(msg, "Premature end") ? "truncated" : what, msg);
	}
	if (cmyk) {
		/* Adobe's inverted CMYK, the usual kind: R = C * K / 255 on the stored values */
		size_t np = (size_t)w * (size_t)h;
		for (size_t p = 0; p < np; p++) {
			const uint8_t *s = sc->pix + 4 * p;
			uint8_t *d = sc->pix + 3 * p;
			int k = s[3];
			uint8_t r = (uint8_t)((s[0] * k + 127) / 255), g = (uint8_t)((s[1] * k + 127) / 255),
				b = (uint8_t)((s[2] * k + 127) / 255);
			d[0] = r, d[1] = g, d[2] = b;
		}
	}
	*c0 = cs == TJCS_GRAY ? 1 : 3;
	*h0 = h;
	*w0 = w;
	return FT_OK;
}

/* PNG through libpng's simplified API; alpha is dropped, as PIL's convert('RGB') does. */
static ft_status decode_png(const char *path, ft_data_scratch *sc, size_t len,
			    int *c0, int *h0, int *w0)
{
	png_image im;
	memset(&im, 0, sizeof(im));
	im.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&im, sc->file, len)) {
		ft_status st = ft_error(FT_EBADINPUT, "%s: not a readable PNG (%s)", path, im.message);
		png_image_free(&im);
		return st;
	}
	ft_status st = check_dims(path, "PNG", im.width, im.height);
	if (st != FT_OK) {
		png_image_free(&im);
		return st;
	}
	int color = (im.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
	int alpha = (im.format & PNG_FORMAT_FLAG_ALPHA) ? 1 : 0;
	im.format = (color == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY) | (alpha ? PNG_FORMAT_FLAG_ALPHA : 0);
	int ps = color + alpha;
	size_t np = (size_t)im.width * (size_t)im.height;
	sc->pix = grow(sc->pix, &sc->pix_cap, np * (size_t)ps);
	if (!png_image_finish_read(&im, NULL, sc->pix, 0, NULL)) {
		st = ft_error(FT_EBADINPUT, "%s: broken or truncated PNG (%s)", path, im.message);
		png_image_free(&im);
		return st;
	}
	if (alpha)
		for (size_t p = 0; p < np; p++)
			memmove(sc->pix + p * (size_t)color, sc->pix + p * (size_t)ps, (size_t)color);
	*c0 = color;
	*h0 = (int)im.height;
	*w0 = (int)im.width;
	png_image_free(&im);
	return FT_OK;
}

static ft_status decode_image(const char *path, ft_data_scratch *sc, int *c0, int *h0, int *w0)
{
	static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	size_t len = 0;
	FT_TRY(read_file(path, sc, &len));
	if (len >= 3 && sc->file[0] == 0xff && sc->file[1] == 0xd8 && sc->file[2] == 0xff)
		return decode_jpeg(path, sc, len, c0, h0, w0);
	if (len >= 8 && memcmp(sc->file, png_magic, 8) == 0)
		return decode_png(path, sc, len, c0, h0, w0);
	return ft_error(FT_EBADINPUT, "%s: not an image (neither JPEG nor PNG)", path);
}

/* ---- loading one sample ------------------------------------------------ */

static void synthetic_pixels(const ft_dataset *ds, int64_t i, uint8_t *pix, int64_t *label)
{
	const ft_data_config *c = &ds->cfg;
	uint64_t h = hash4(c->seed, FT_TAG_SYN, c->train ? 0 : 1, (uint64_t)i);
	int y = (int)(h % (uint64_t)ds->classes);
	uint64_t t = hash4(c->seed, FT_TAG_TEMPLATE, (uint64_t)y, 0);
	size_t np = (size_t)c->channels * (size_t)c->height * (size_t)c->width;
	/* half the class's template, half noise of this sample */
	for (size_t p = 0; p < np; p++)
		pix[p] = (uint8_t)(((mix64(t + p) & 255) + (mix64(h ^ (p * 0x9e3779b97f4a7c15ull)) & 255)) / 2);
	*label = y;
}

/* Pixels and label of dataset sample i; *pix points into ds or into sc->pix. */
static ft_status load_sample(const ft_dataset *ds, int64_t i, ft_data_scratch *sc,
			     const uint8_t **pix, int *c0, int *h0, int *w0, int64_t *label)
{
	switch (ds->src) {
	case FT_SRC_SYNTHETIC:
		*c0 = ds->cfg.channels, *h0 = ds->cfg.height, *w0 = ds->cfg.width;
		sc->pix = grow(sc->pix, &sc->pix_cap, (size_t)*c0 * (size_t)*h0 * (size_t)*w0);
		synthetic_pixels(ds, i, sc->pix, label);
		*pix = sc->pix;
		return FT_OK;
	case FT_SRC_IDX:
		*c0 = 1, *h0 = ds->idx_h, *w0 = ds->idx_w;
		*pix = ds->idx_images + (size_t)i * (size_t)ds->idx_h * (size_t)ds->idx_w;
		*label = ds->idx_labels[i];
		return FT_OK;
	case FT_SRC_PACK: {
		size_t rec = (size_t)ds->pack_c * (size_t)ds->pack_h * (size_t)ds->pack_w;
		*c0 = ds->pack_c, *h0 = ds->pack_h, *w0 = ds->pack_w;
		*pix = ds->pack_records + (size_t)i * rec;
		const uint8_t *l = ds->pack_labels + 4 * (size_t)i;
		*label = (int64_t)((uint32_t)l[0] | (uint32_t)l[1] << 8 | (uint32_t)l[2] << 16 | (uint32_t)l[3] << 24);
		return FT_OK;
	}
	case FT_SRC_FOLDER: {
		int k = ds->file_class[i];
		char *path = xasprintf("%s/%s/%s", ds->split_dir, ds->class_names[k], ds->names + ds->name_off[i]);
		ft_status st = decode_image(path, sc, c0, h0, w0);
		free(path);
		*pix = sc->pix;
		*label = k;
		return st;
	}
	}
	FT_ASSERT(!"unknown data source");
	return FT_ERUNTIME;
}

/* ---- adapting one sample (data.h, steps 1-4) -------------------------- */

/*
 * Where a sample's pixels go: the box (sx, sy, sw, sh) of the source is
 * resized to (rh, rw), and the (H, W) window at (oy, ox) of that is the output.
 */
typedef struct ft_geom {
	int sx, sy, sw, sh;
	int rh, rw;
	int oy, ox;
	bool flip;
} ft_geom;

/* torchvision's RandomResizedCrop.get_params with its defaults, drawn from s */
static void rrc_box(uint64_t s, int h0, int w0, ft_geom *g)
{
	double area = (double)h0 * (double)w0, lr0 = log(3.0 / 4.0), lr1 = log(4.0 / 3.0);
	for (int tries = 0; tries < 10; tries++) {
		double target = area * (0.08 + (1.0 - 0.08) * rng_unit(&s));
		double ratio = exp(lr0 + (lr1 - lr0) * rng_unit(&s));
		int w = (int)nearbyint(sqrt(target * ratio)), h = (int)nearbyint(sqrt(target / ratio));
		if (w > 0 && w <= w0 && h > 0 && h <= h0) {
			g->sy = (int)rng_below(&s, (uint64_t)(h0 - h) + 1);
			g->sx = (int)rng_below(&s, (uint64_t)(w0 - w) + 1);
			g->sh = h;
			g->sw = w;
			return;
		}
	}
	/* the central crop, the aspect ratio clamped to the range */
	double in_ratio = (double)w0 / (double)h0;
	int w = w0, h = h0;
	if (in_ratio < 3.0 / 4.0)
		h = (int)nearbyint(w / (3.0 / 4.0));
	else if (in_ratio > 4.0 / 3.0)
		w = (int)nearbyint(h * (4.0 / 3.0));
	h = h < 1 ? 1 : h > h0 ? h0 : h;
	w = w < 1 ? 1 : w > w0 ? w0 : w;
	g->sy = (h0 - h) / 2;
	g->sx = (w0 - w) / 2;
	g->sh = h;
	g->sw = w;
}

void ft_data_rrc_box(uint64_t seed, int64_t epoch, int64_t i, int h0, int w0, int box[4])
{
	FT_ASSERT(h0 > 0 && w0 > 0);
	ft_geom g = { 0 };
	rrc_box(hash4(seed, FT_TAG_CROP, (uint64_t)epoch, (uint64_t)i), h0, w0, &g);
	box[0] = g.sx, box[1] = g.sy, box[2] = g.sw, box[3] = g.sh;
}

/* the shorter side resized to side (the longer in proportion, truncated), then the center (H, W) */
static void resize_center(int side, int h0, int w0, int H, int W, ft_geom *g)
{
	if (h0 <= w0) {
		g->rh = side;
		g->rw = (int)((int64_t)side * w0 / h0);
	} else {
		g->rw = side;
		g->rh = (int)((int64_t)side * h0 / w0);
	}
	g->rh = g->rh < H ? H : g->rh;
	g->rw = g->rw < W ? W : g->rw;
	/* torchvision's CenterCrop: int(round((size - crop) / 2)), ties to even */
	g->oy = (int)nearbyint((g->rh - H) / 2.0);
	g->ox = (int)nearbyint((g->rw - W) / 2.0);
}

/* the geometry of dataset index i in epoch, drawn from (seed, epoch, i) */
static void sample_geom(const ft_dataset *ds, int64_t epoch, int64_t i, int h0, int w0, ft_geom *g)
{
	const ft_data_config *c = &ds->cfg;
	int H = c->height, W = c->width, side = H > W ? H : W;
	*g = (ft_geom){ .sw = w0, .sh = h0, .rh = H, .rw = W };
	int box[4];
	if (ds->crop == FT_CROP_RRC && c->train) {
		ft_data_rrc_box(c->seed, epoch, i, h0, w0, box);
		g->sx = box[0], g->sy = box[1], g->sw = box[2], g->sh = box[3];
	}
	else if (ds->crop == FT_CROP_RRC)
		resize_center((int)(side * 256.0 / 224.0), h0, w0, H, W, g);
	else if (ds->crop == FT_CROP_CENTER)
		resize_center(side, h0, w0, H, W, g);
	g->flip = c->train && c->hflip && (hash4(c->seed, FT_TAG_FLIP, (uint64_t)epoch, (uint64_t)i) & 1);
}

static inline uint8_t to_u8(float v)
{
	/* bilinear weights sum to 1 up to rounding: clamp, then round to nearest */
	return (uint8_t)lrintf(v < 0 ? 0 : v > 255 ? 255 : v);
}

/*
 * pix is (h0, w0, c0) uint8 with c0 1 or 3; the output (C, H, W) goes to outf
 * as normalised float or to outb as uint8 (exactly one of them is non-NULL).
 */
static void adapt(const ft_dataset *ds, const ft_geom *g, const uint8_t *pix, int c0, int h0, int w0,
		  float *outf, uint8_t *outb, ft_data_scratch *sc)
{
	const ft_data_config *c = &ds->cfg;
	int C = c->channels, H = c->height, W = c->width;
	size_t onp = (size_t)H * (size_t)W;
	int cin = C == 3 && c0 == 3 ? 3 : 1; /* planes to resize; 1 -> 3 is replicated after */
	bool whole = g->sx == 0 && g->sy == 0 && g->sw == w0 && g->sh == h0;
	bool same = whole && g->rh == H && g->rw == W && h0 == H && w0 == W;

	if (outb && same && !(c0 == 3 && C == 1)) {
		/* nothing to compute: the pixels as they are (a pack or IDX at the model's size) */
		for (int ch = 0; ch < C; ch++) {
			uint8_t *o = outb + (size_t)ch * onp;
			const uint8_t *s = pix + (ch < c0 ? ch : 0);
			for (int y = 0; y < H; y++)
				for (int x = 0; x < W; x++)
					o[(size_t)y * (size_t)W + (size_t)(g->flip ? W - 1 - x : x)] =
						s[((size_t)y * (size_t)W + (size_t)x) * (size_t)c0];
		}
		return;
	}

	/* 1. channels of the box, to float */
	size_t bnp = (size_t)g->sh * (size_t)g->sw;
	sc->planes = grow(sc->planes, &sc->planes_cap, sizeof(float) * (size_t)cin * bnp);
	float *f = sc->planes;
	for (int y = 0; y < g->sh; y++) {
		const uint8_t *row = pix + ((size_t)(g->sy + y) * (size_t)w0 + (size_t)g->sx) * (size_t)c0;
		size_t o = (size_t)y * (size_t)g->sw;
		if (c0 == 3 && C == 1) {
			for (int x = 0; x < g->sw; x++) {
				const uint8_t *s = row + 3 * (size_t)x;
				f[o + (size_t)x] = 0.299f * s[0] + 0.587f * s[1] + 0.114f * s[2];
			}
		} else {
			for (int ch = 0; ch < cin; ch++)
				for (int x = 0; x < g->sw; x++)
					f[(size_t)ch * bnp + o + (size_t)x] = row[(size_t)x * (size_t)c0 + (size_t)ch];
		}
	}
	/* 2. resize the box to (rh, rw) */
	size_t rnp = (size_t)g->rh * (size_t)g->rw;
	float *r = f;
	if (g->rh != g->sh || g->rw != g->sw) {
		sc->resized = grow(sc->resized, &sc->resized_cap, sizeof(float) * (size_t)cin * rnp);
		r = sc->resized;
		for (int ch = 0; ch < cin; ch++)
			ft_data_resize_bilinear(r + (size_t)ch * rnp, g->rh, g->rw, f + (size_t)ch * bnp, g->sh, g->sw);
	}
	/* the (H, W) window, 3. scale and normalise or round, 4. flip */
	for (int ch = 0; ch < C; ch++) {
		const float *src = r + (size_t)(ch < cin ? ch : 0) * rnp + (size_t)g->oy * (size_t)g->rw + (size_t)g->ox;
		float m = c->mean[ch], s = c->std[ch] != 0 ? c->std[ch] : 1.0f;
		for (int y = 0; y < H; y++) {
			const float *row = src + (size_t)y * (size_t)g->rw;
			size_t o = (size_t)ch * onp + (size_t)y * (size_t)W;
			for (int x = 0; x < W; x++) {
				size_t d = o + (size_t)(g->flip ? W - 1 - x : x);
				if (outf)
					outf[d] = (row[x] / 255.0f - m) / s;
				else
					outb[d] = to_u8(row[x]);
			}
		}
	}
}

/* ---- batches ------------------------------------------------------------ */

typedef struct ft_batch_job {
	ft_dataset *ds;
	int64_t epoch, count;
	const int64_t *sample;  /* per position of the batch: dataset index, -1 past the end */
	float *images;          /* normalised float output, or */
	uint8_t *images_u8;     /* uint8 output */
	int64_t *labels;
	size_t img_numel;
	atomic_llong next;
	atomic_bool failed;
	pthread_mutex_t lock;
	int64_t err_k;          /* the first failed position, so the error does not depend on timing */
	ft_status err_st;
	char err_msg[2048];
} ft_batch_job;

/*
 * Dataset index i of epoch into outf or outb. An unreadable sample under
 * skip_bad is replaced by the next readable one in dataset order; which one
 * that is depends only on the files, so the replacement is the same in every
 * run and epoch.
 */
static ft_status fill_one(ft_dataset *ds, int64_t epoch, int64_t i, ft_data_scratch *sc, float *outf,
			  uint8_t *outb, int64_t *label_out)
{
	size_t numel = (size_t)ds->cfg.channels * (size_t)ds->cfg.height * (size_t)ds->cfg.width;
	if (i < 0) {
		if (outf)
			memset(outf, 0, sizeof(float) * numel);
		else
			memset(outb, 0, numel);
		*label_out = -1;
		return FT_OK;
	}
	for (int64_t tries = 0; tries < ds->n; tries++) {
		int64_t s = (i + tries) % ds->n;
		if (ds->bad && atomic_load(&ds->bad[s]))
			continue;
		const uint8_t *pix = NULL;
		int c0 = 0, h0 = 0, w0 = 0;
		int64_t label = 0;
		ft_status st = load_sample(ds, s, sc, &pix, &c0, &h0, &w0, &label);
		if (st == FT_OK) {
			ft_geom g;
			sample_geom(ds, epoch, i, h0, w0, &g);
			adapt(ds, &g, pix, c0, h0, w0, outf, outb, sc);
			*label_out = label;
			return FT_OK;
		}
		if (!ds->cfg.skip_bad || !ds->bad || st != FT_EBADINPUT)
			return st;
		if (atomic_exchange(&ds->bad[s], 1) == 0)
			fprintf(stderr, "ftrun: warning: skipping %s\n", ft_last_error());
	}
	return ft_error(FT_EBADINPUT, "%s: no readable image at all", ds->path);
}

ft_status ft_dataset_sample_u8(ft_dataset *ds, int64_t epoch, int64_t i, ft_data_scratch *sc, uint8_t *out,
			       int64_t *label)
{
	FT_ASSERT(i >= -1 && i < ds->n);
	return fill_one(ds, epoch, i, sc, NULL, out, label);
}

static void *batch_worker(void *arg)
{
	ft_batch_job *job = arg;
	ft_data_scratch sc = { 0 };
	for (;;) {
		if (atomic_load(&job->failed))
			break;
		int64_t k = atomic_fetch_add(&job->next, 1);
		if (k >= job->count)
			break;
		ft_status st = fill_one(job->ds, job->epoch, job->sample[k], &sc,
					job->images ? job->images + (size_t)k * job->img_numel : NULL,
					job->images_u8 ? job->images_u8 + (size_t)k * job->img_numel : NULL,
					&job->labels[k]);
		if (st != FT_OK) {
			pthread_mutex_lock(&job->lock);
			if (k < job->err_k) {
				job->err_k = k;
				job->err_st = st;
				snprintf(job->err_msg, sizeof(job->err_msg), "%s", ft_last_error());
			}
			pthread_mutex_unlock(&job->lock);
			atomic_store(&job->failed, true);
		}
	}
	scratch_free(&sc);
	return NULL;
}

/* Fisher-Yates from (seed, epoch) into perm */
static void make_perm(const ft_dataset *ds, int64_t epoch, int64_t *perm)
{
	uint64_t s = hash4(ds->cfg.seed, FT_TAG_PERM, (uint64_t)epoch, 0);
	for (int64_t i = 0; i < ds->n; i++)
		perm[i] = i;
	for (int64_t i = ds->n - 1; i > 0; i--) {
		int64_t j = (int64_t)rng_below(&s, (uint64_t)i + 1);
		int64_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

void ft_dataset_order(ft_dataset *ds, int64_t epoch, int64_t start, int64_t count, int64_t *sample)
{
	FT_ASSERT(epoch >= 0 && start >= 0);
	if (!ds->cfg.train) {
		for (int64_t k = 0; k < count; k++)
			sample[k] = start + k < ds->n ? start + k : -1;
		return;
	}
	int slot = (int)(epoch & 1);
	pthread_mutex_lock(&ds->perm_lock);
	if (ds->perm_epoch[slot] != epoch) {
		make_perm(ds, epoch, ds->perm[slot]);
		ds->perm_epoch[slot] = epoch;
	}
	for (int64_t k = 0; k < count; k++)
		sample[k] = start + k < ds->n ? ds->perm[slot][start + k] : -1;
	pthread_mutex_unlock(&ds->perm_lock);
}

/* dataset indices sample[0, count) of epoch into images or images_u8, on the dataset's workers */
static ft_status run_samples(ft_dataset *ds, int64_t epoch, const int64_t *sample, int64_t count, float *images,
			     uint8_t *images_u8, int64_t *labels)
{
	size_t img_numel = (size_t)ds->cfg.channels * (size_t)ds->cfg.height * (size_t)ds->cfg.width;
	ft_batch_job job = { .ds = ds, .epoch = epoch, .count = count, .sample = sample, .images = images,
			     .images_u8 = images_u8, .labels = labels, .img_numel = img_numel, .err_k = INT64_MAX };
	atomic_init(&job.next, 0);
	atomic_init(&job.failed, false);
	pthread_mutex_init(&job.lock, NULL);

	/* the calling thread is worker 0; the others start per batch (cheap next to decoding) */
	int nthreads = ds->workers < count ? ds->workers : (int)count;
	pthread_t *tid = ft_xmalloc(sizeof(pthread_t) * (size_t)(nthreads > 1 ? nthreads - 1 : 1));
	int started = 0;
	for (int t = 1; t < nthreads; t++, started++)
		if (pthread_create(&tid[started], NULL, batch_worker, &job) != 0)
			break;
	batch_worker(&job);
	for (int t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	free(tid);
	pthread_mutex_destroy(&job.lock);
	if (job.err_k != INT64_MAX)
		return ft_error(job.err_st, "%s", job.err_msg);
	return FT_OK;
}

static ft_status run_batch(ft_dataset *ds, int64_t epoch, int64_t index, int64_t batch, float *images,
			   uint8_t *images_u8, int64_t *labels)
{
	int64_t start, bytes;
	size_t img_numel = (size_t)ds->cfg.channels * (size_t)ds->cfg.height * (size_t)ds->cfg.width;
	if (batch <= 0 || index < 0 || epoch < 0)
		return ft_error(FT_EBADINPUT, "%s: batch %lld of epoch %lld with batch size %lld", ds->path,
				(long long)index, (long long)epoch, (long long)batch);
	if (!ft_mul_ok(index, batch, &start) || start >= ds->n ||
	    !ft_mul_ok(batch, (int64_t)img_numel * (int64_t)sizeof(float), &bytes))
		return ft_error(FT_EBADINPUT, "%s: batch %lld of size %lld is past the end of the %lld images",
				ds->path, (long long)index, (long long)batch, (long long)ds->n);
	int64_t *sample = ft_xmalloc(sizeof(int64_t) * (size_t)batch);
	ft_dataset_order(ds, epoch, start, batch, sample);
	ft_status st = run_samples(ds, epoch, sample, batch, images, images_u8, labels);
	free(sample);
	return st;
}

ft_status ft_dataset_samples_u8(ft_dataset *ds, int64_t epoch, const int64_t *index, int64_t count, uint8_t *out,
				int64_t *labels)
{
	for (int64_t k = 0; k < count; k++)
		FT_ASSERT(index[k] >= -1 && index[k] < ds->n);
	return run_samples(ds, epoch, index, count, NULL, out, labels);
}

ft_status ft_dataset_batch(ft_dataset *ds, int64_t epoch, int64_t index, int64_t batch,
			   float *images, int64_t *labels)
{
	return run_batch(ds, epoch, index, batch, images, NULL, labels);
}

ft_status ft_dataset_batch_u8(ft_dataset *ds, int64_t epoch, int64_t index, int64_t batch,
			      uint8_t *images, int64_t *labels)
{
	return run_batch(ds, epoch, index, batch, NULL, images, labels);
}

void ft_dataset_input_shape(const ft_dataset *ds, int *channels, int *height, int *width)
{
	*channels = ds->cfg.channels;
	*height = ds->cfg.height;
	*width = ds->cfg.width;
}

ft_data_crop ft_dataset_crop(const ft_dataset *ds)
{
	return ds->crop;
}

void ft_dataset_source_shape(const ft_dataset *ds, int *channels, int *height, int *width)
{
	*channels = ds->src == FT_SRC_IDX ? 1 : ds->src == FT_SRC_PACK ? ds->pack_c : 0;
	*height = ds->src == FT_SRC_IDX ? ds->idx_h : ds->src == FT_SRC_PACK ? ds->pack_h : 0;
	*width = ds->src == FT_SRC_IDX ? ds->idx_w : ds->src == FT_SRC_PACK ? ds->pack_w : 0;
}

int ft_dataset_source_kind(const ft_dataset *ds)
{
	switch (ds->src) {
	case FT_SRC_IDX: return FT_PACK_SRC_IDX;
	case FT_SRC_FOLDER: return FT_PACK_SRC_FOLDER;
	case FT_SRC_SYNTHETIC: return FT_PACK_SRC_SYNTHETIC;
	case FT_SRC_PACK: return ds->pack_source;
	}
	return FT_PACK_SRC_SYNTHETIC;
}

int64_t ft_dataset_batches(const ft_dataset *ds, int64_t batch)
{
	return batch > 0 ? ds->n / batch : 0;
}

int64_t ft_dataset_size(const ft_dataset *ds)
{
	return ds->n;
}

int ft_dataset_classes(const ft_dataset *ds)
{
	return ds->classes;
}

const char *ft_dataset_class_name(const ft_dataset *ds, int k)
{
	FT_ASSERT(k >= 0 && k < ds->classes);
	return ds->class_names[k];
}

/* ---- IDX ---------------------------------------------------------------- */

/* The whole of a file, gunzipped when it is gzip (zlib reads plain files as they are). */
static ft_status read_gz(const char *path, uint8_t **out, int64_t *len)
{
	gzFile f = gzopen(path, "rb");
	if (!f)
		return ft_error(FT_EBADINPUT, "%s: cannot open (%s)", path, strerror(errno));
	size_t cap = 1 << 20, n = 0;
	uint8_t *buf = ft_xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if ((int64_t)cap >= FT_DATA_MAX_IDX) {
				gzclose(f);
				free(buf);
				return ft_error(FT_EBADINPUT, "%s: larger than %lld bytes decompressed",
						path, FT_DATA_MAX_IDX);
			}
			cap *= 2;
			buf = ft_xrealloc(buf, cap);
		}
		size_t want = cap - n < (1u << 30) ? cap - n : (1u << 30);
		int r = gzread(f, buf + n, (unsigned)want);
		if (r < 0) {
			int errnum;
			const char *msg = gzerror(f, &errnum);
			ft_status st = ft_error(FT_EBADINPUT, "%s: broken gzip data (%s)", path,
						errnum == Z_ERRNO ? strerror(errno) : msg);
			gzclose(f);
			free(buf);
			return st;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	/* a gzip stream cut short reads as a short file with Z_BUF_ERROR */
	int errnum;
	const char *msg = gzerror(f, &errnum);
	if (errnum != Z_OK) {
		ft_status st = ft_error(FT_EBADINPUT, "%s: truncated or broken gzip data (%s)", path, msg);
		gzclose(f);
		free(buf);
		return st;
	}
	gzclose(f);
	*out = buf;
	*len = (int64_t)n;
	return FT_OK;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* folder/prefix-kind-idxN-ubyte[.gz] (or the .idxN-ubyte spelling); NULL if none exists */
static char *find_idx(const char *folder, const char *prefix, const char *kind, int rank)
{
	static const char *const forms[] = { "%s/%s-%s-idx%d-ubyte", "%s/%s-%s-idx%d-ubyte.gz",
					     "%s/%s-%s.idx%d-ubyte", "%s/%s-%s.idx%d-ubyte.gz" };
	for (size_t f = 0; f < FT_ARRAY_LEN(forms); f++) {
		char *p = xasprintf(forms[f], folder, prefix, kind, rank);
		if (is_file(p))
			return p;
		free(p);
	}
	return NULL;
}

static ft_status open_idx(ft_dataset *ds)
{
	const char *prefix = ds->cfg.train ? "train" : "t10k";
	char *ipath = find_idx(ds->path, prefix, "images", 3);
	char *lpath = find_idx(ds->path, prefix, "labels", 1);
	uint8_t *ibuf = NULL, *lbuf = NULL;
	int64_t ilen = 0, llen = 0;
	ft_status st;
	if (!ipath || !lpath) {
		st = ft_error(FT_EBADINPUT, "%s: IDX folder without %s-%s-idx%d-ubyte[.gz] (the %s split)",
			      ds->path, prefix, ipath ? "labels" : "images", ipath ? 1 : 3,
			      ds->cfg.train ? "training" : "held-out");
		goto out_free_paths;
	}
	st = read_gz(ipath, &ibuf, &ilen);
	if (st != FT_OK)
		goto out_free_paths;
	st = read_gz(lpath, &lbuf, &llen);
	if (st != FT_OK)
		goto out_free_bufs;

	if (ilen < 16 || be32(ibuf) != 0x803) {
		st = ft_error(FT_EBADINPUT, "%s: not an IDX file of uint8 images (magic %#010x, expected 0x00000803)",
			      ipath, ilen >= 4 ? be32(ibuf) : 0);
		goto out_free_bufs;
	}
	if (llen < 8 || be32(lbuf) != 0x801) {
		st = ft_error(FT_EBADINPUT, "%s: not an IDX file of uint8 labels (magic %#010x, expected 0x00000801)",
			      lpath, llen >= 4 ? be32(lbuf) : 0);
		goto out_free_bufs;
	}
	uint32_t n = be32(ibuf + 4), h = be32(ibuf + 8), w = be32(ibuf + 12), nl = be32(lbuf + 4);
	if (n == 0 || h == 0 || w == 0 || n > INT32_MAX || h > 65535 || w > 65535) {
		st = ft_error(FT_EBADINPUT, "%s: header says %u images of %u x %u", ipath, n, h, w);
		goto out_free_bufs;
	}
	int64_t need = 16 + (int64_t)n * h * w;
	if (ilen < need) {
		st = ft_error(FT_EBADINPUT, "%s: truncated: %lld bytes, the header's %u images of %u x %u need %lld",
			      ipath, (long long)ilen, n, h, w, (long long)need);
		goto out_free_bufs;
	}
	if (nl != n) {
		st = ft_error(FT_EBADINPUT, "%s: %u labels for the %u images of %s", lpath, nl, n, ipath);
		goto out_free_bufs;
	}
	if (llen < 8 + (int64_t)n) {
		st = ft_error(FT_EBADINPUT, "%s: truncated: %lld bytes, %u labels need %lld",
			      lpath, (long long)llen, n, 8 + (long long)n);
		goto out_free_bufs;
	}
	int maxl = 0;
	for (uint32_t i = 0; i < n; i++)
		maxl = lbuf[8 + i] > maxl ? lbuf[8 + i] : maxl;
	if (maxl < 1) {
		st = ft_error(FT_EBADINPUT, "%s: all labels are 0 (a classifier needs at least 2 classes)", lpath);
		goto out_free_bufs;
	}
	/* keep just the payloads */
	ds->n = n;
	ds->idx_h = (int)h;
	ds->idx_w = (int)w;
	ds->classes = maxl + 1;
	ds->idx_images = ft_xmalloc((size_t)n * h * w);
	memcpy(ds->idx_images, ibuf + 16, (size_t)n * h * w);
	ds->idx_labels = ft_xmalloc(n);
	memcpy(ds->idx_labels, lbuf + 8, n);
	ds->class_names = ft_xcalloc((size_t)ds->classes, sizeof(char *));
	for (int k = 0; k < ds->classes; k++)
		ds->class_names[k] = xasprintf("%d", k);
	st = FT_OK;
out_free_bufs:
	free(ibuf);
	free(lbuf);
out_free_paths:
	free(ipath);
	free(lpath);
	return st;
}

/* ---- ImageFolder -------------------------------------------------------- */

static bool has_image_ext(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

/*
 * Sorted names in dir: subfolders (want_dirs) or image files. Hidden entries
 * are skipped; links are followed.
 */
static ft_status list_dir(const char *dir, bool want_dirs, char ***out, int64_t *count)
{
	DIR *d = opendir(dir);
	if (!d)
		return ft_error(FT_EBADINPUT, "%s: cannot open folder (%s)", dir, strerror(errno));
	char **v = NULL;
	int64_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (!want_dirs && !has_image_ext(e->d_name))
			continue;
		bool dir_ent = e->d_type == DT_DIR, reg = e->d_type == DT_REG;
		if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
			char *p = xasprintf("%s/%s", dir, e->d_name);
			dir_ent = is_dir(p);
			reg = is_file(p);
			free(p);
		}
		if (want_dirs ? !dir_ent : !reg)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			v = ft_xrealloc(v, sizeof(char *) * (size_t)cap);
		}
		v[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(char *), cmp_str);
	*out = v;
	*count = n;
	return FT_OK;
}

static ft_status open_folder(ft_dataset *ds)
{
	char *train_dir = xasprintf("%s/train", ds->path);
	char **train_classes = NULL, **split_classes = NULL;
	int64_t n_train = 0, n_split = 0;
	ft_status st;

	if (!is_dir(train_dir)) {
		st = ft_error(FT_EBADINPUT, "%s: no such folder (an ImageFolder's classes are the folders of train/)",
			      train_dir);
		goto out_free;
	}
	st = list_dir(train_dir, true, &train_classes, &n_train);
	if (st != FT_OK)
		goto out_free;
	if (n_train < 2) {
		st = ft_error(FT_EBADINPUT, "%s: %s (a classifier needs at least 2 classes)", train_dir,
			      n_train ? "only one class folder" : "no class folders");
		goto out_free;
	}
	if (n_train > INT32_MAX) {
		st = ft_error(FT_EBADINPUT, "%s: too many classes", train_dir);
		goto out_free;
	}
	ds->classes = (int)n_train;
	ds->class_names = train_classes;
	train_classes = NULL;
	n_train = 0;

	ds->split_dir = ds->cfg.train ? xstrdup(train_dir) : xasprintf("%s/val", ds->path);
	if (!ds->cfg.train) {
		if (!is_dir(ds->split_dir)) {
			st = ft_error(FT_EBADINPUT, "%s: no such folder (the held-out split)", ds->split_dir);
			goto out_free;
		}
		st = list_dir(ds->split_dir, true, &split_classes, &n_split);
		if (st != FT_OK)
			goto out_free;
		if (n_split == 0) {
			st = ft_error(FT_EBADINPUT, "%s: no class folders", ds->split_dir);
			goto out_free;
		}
	}

	size_t names_len = 0, names_cap = 0;
	int64_t files_cap = 0;
	int nk = ds->cfg.train ? ds->classes : (int)n_split;
	for (int kk = 0; kk < nk; kk++) {
		int k = kk;
		if (!ds->cfg.train) {
			char **hit = bsearch(&split_classes[kk], ds->class_names, (size_t)ds->classes,
					     sizeof(char *), cmp_str);
			if (!hit) {
				st = ft_error(FT_EBADINPUT, "%s/%s: class \"%s\" is not a folder of %s (classes come from train/)",
					      ds->split_dir, split_classes[kk], split_classes[kk], train_dir);
				goto out_free;
			}
			k = (int)(hit - ds->class_names);
		}
		char *cdir = xasprintf("%s/%s", ds->split_dir, ds->class_names[k]);
		char **files;
		int64_t nf;
		st = list_dir(cdir, false, &files, &nf);
		if (st == FT_OK && nf == 0)
			st = ft_error(FT_EBADINPUT, "%s: empty class folder (no .jpg, .jpeg or .png files)", cdir);
		free(cdir);
		if (st != FT_OK)
			goto out_free;
		for (int64_t f = 0; f < nf; f++) {
			size_t l = strlen(files[f]) + 1;
			if (names_len + l > names_cap) {
				names_cap = 2 * (names_len + l) + 4096;
				ds->names = ft_xrealloc(ds->names, names_cap);
			}
			if (ds->n == files_cap) {
				files_cap = files_cap ? 2 * files_cap : 1024;
				ds->name_off = ft_xrealloc(ds->name_off, sizeof(int64_t) * (size_t)files_cap);
				ds->file_class = ft_xrealloc(ds->file_class, sizeof(int32_t) * (size_t)files_cap);
			}
			memcpy(ds->names + names_len, files[f], l);
			ds->name_off[ds->n] = (int64_t)names_len;
			ds->file_class[ds->n] = k;
			ds->n++;
			names_len += l;
		}
		free_strs(files, nf);
	}
	/* bad[] is atomic bytes, zero = not known bad */
	ds->bad = ft_xcalloc((size_t)ds->n, sizeof(*ds->bad));
	st = FT_OK;
out_free:
	free_strs(train_classes, n_train);
	free_strs(split_classes, n_split);
	free(train_dir);
	return st;
}

/* ---- pack files (pack.h) ------------------------------------------------- */

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static ft_status open_pack(ft_dataset *ds)
{
	const char *path = ds->path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ft_error(FT_EBADINPUT, "%s: cannot open (%s)", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size < FT_PACK_HEADER_BYTES) {
		close(fd);
		return ft_error(FT_EBADINPUT, "%s: not an ftrun pack (%lld bytes, shorter than its header)", path,
				(long long)st.st_size);
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return ft_error(FT_EBADINPUT, "%s: cannot map (%s)", path, strerror(errno));
	ds->pack_map = map;
	ds->pack_len = (size_t)st.st_size;
	const uint8_t *p = map;
	ft_pack_header h;
	ft_pack_header_decode(p, &h);
	if (memcmp(h.magic, FT_PACK_MAGIC, 8) != 0)
		return ft_error(FT_EBADINPUT, "%s: not an ftrun pack (no FTPACK magic; make one with `ftrun pack`)", path);
	if (h.version != FT_PACK_VERSION || h.header_bytes != FT_PACK_HEADER_BYTES)
		return ft_error(FT_EBADINPUT, "%s: pack version %u (header %u bytes); this ftrun reads version %d",
				path, h.version, h.header_bytes, FT_PACK_VERSION);
	if ((h.channels != 1 && h.channels != 3) || h.height < 1 || h.width < 1 || h.height > FT_DATA_MAX_SIDE ||
	    h.width > FT_DATA_MAX_SIDE || h.classes < 2 || h.classes > (1u << 24) || h.count[0] > INT32_MAX ||
	    h.count[1] > INT32_MAX || h.names_bytes > (1u << 30) || h.names_bytes % 8 != 0 ||
	    h.source > FT_PACK_SRC_SYNTHETIC)
		return ft_error(FT_EBADINPUT, "%s: broken pack header (%u x %u x %u records, %u classes, %llu + %llu "
				"records, %llu bytes of names)", path, h.height, h.width, h.channels, h.classes,
				(unsigned long long)h.count[0], (unsigned long long)h.count[1],
				(unsigned long long)h.names_bytes);
	uint64_t labels_off, records_off, total;
	ft_pack_layout(&h, &labels_off, &records_off, &total);
	if (total != (uint64_t)st.st_size)
		return ft_error(FT_EBADINPUT, "%s: %s pack: %lld bytes, its header says %llu", path,
				total > (uint64_t)st.st_size ? "truncated" : "oversized", (long long)st.st_size,
				(unsigned long long)total);
	const uint8_t *names = p + FT_PACK_HEADER_BYTES;
	uint64_t nrec = h.count[0] + h.count[1];
	if (ft_pack_meta_crc(&h, names, (size_t)(labels_off + 4 * nrec - FT_PACK_HEADER_BYTES)) != h.meta_crc)
		return ft_error(FT_EBADINPUT, "%s: corrupt pack (the checksum of its header, class names and labels "
				"does not match)", path);
	/* class names: classes NUL-ended strings, then zeros */
	ds->classes = (int)h.classes;
	ds->class_names = ft_xcalloc(h.classes, sizeof(char *));
	size_t at = 0;
	for (uint32_t k = 0; k < h.classes; k++) {
		const uint8_t *end = memchr(names + at, 0, (size_t)h.names_bytes - at);
		if (!end || end == names + at)
			return ft_error(FT_EBADINPUT, "%s: broken pack (class name %u)", path, k);
		ds->class_names[k] = xstrdup((const char *)names + at);
		at = (size_t)(end - names) + 1;
	}
	int split = ds->cfg.train ? 0 : 1;
	ds->n = (int64_t)h.count[split];
	if (ds->n == 0)
		return ft_error(FT_EBADINPUT, "%s: the pack has no %s split", path, ds->cfg.train ? "training" : "held-out");
	uint64_t first = split ? h.count[0] : 0;
	ds->pack_labels = p + labels_off + 4 * first;
	for (int64_t i = 0; i < ds->n; i++)
		if (le32(ds->pack_labels + 4 * i) >= h.classes)
			return ft_error(FT_EBADINPUT, "%s: broken pack: record %lld has label %u of %u classes", path,
					(long long)i, le32(ds->pack_labels + 4 * i), h.classes);
	ds->pack_c = (int)h.channels;
	ds->pack_h = (int)h.height;
	ds->pack_w = (int)h.width;
	ds->pack_source = (int)h.source;
	ds->pack_records = p + records_off + first * h.channels * h.height * h.width;
	return FT_OK;
}

/* ---- open / free -------------------------------------------------------- */

ft_status ft_dataset_open(const ft_data_config *cfg, ft_dataset **out)
{
	*out = NULL;
	if (!cfg->path || !cfg->path[0])
		return ft_error(FT_EBADINPUT, "no data path given (a folder or \"synthetic\")");
	if (cfg->channels != 1 && cfg->channels != 3)
		return ft_error(FT_EUNSUPPORTED, "%s: the model's input has %d channels; images adapt to 1 or 3",
				cfg->path, cfg->channels);
	if (cfg->height < 1 || cfg->width < 1 || cfg->height > FT_DATA_MAX_SIDE || cfg->width > FT_DATA_MAX_SIDE)
		return ft_error(FT_EUNSUPPORTED, "%s: the model's input is %d x %d; images adapt to 1..%d a side",
				cfg->path, cfg->height, cfg->width, FT_DATA_MAX_SIDE);
	for (int c = 0; c < cfg->channels; c++)
		if (!(cfg->std[c] >= 0) || !(cfg->mean[c] == cfg->mean[c]))
			return ft_error(FT_EBADINPUT, "%s: normalisation mean %g std %g of channel %d",
					cfg->path, cfg->mean[c], cfg->std[c], c);

	ft_dataset *ds = ft_xcalloc(1, sizeof(*ds));
	ds->cfg = *cfg;
	ds->path = xstrdup(cfg->path);
	ds->cfg.path = ds->path;
	ds->perm_epoch[0] = ds->perm_epoch[1] = -1;
	pthread_mutex_init(&ds->perm_lock, NULL);
	ds->workers = cfg->workers;
	if (ds->workers <= 0) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		ds->workers = nc > 0 ? (int)(nc < 256 ? nc : 256) : 1;
	}

	ft_status st;
	if (!strcmp(cfg->path, "synthetic")) {
		ds->src = FT_SRC_SYNTHETIC;
		ds->n = cfg->synthetic_size > 0 ? cfg->synthetic_size : 1024;
		ds->classes = cfg->synthetic_classes > 0 ? cfg->synthetic_classes : 10;
		st = FT_OK;
		if (ds->n > INT32_MAX)
			st = ft_error(FT_EBADINPUT, "synthetic: %lld images (at most %d)", (long long)ds->n, INT32_MAX);
		if (ds->classes < 2)
			st = ft_error(FT_EBADINPUT, "synthetic: %d classes (a classifier needs at least 2)", ds->classes);
		ds->class_names = ft_xcalloc((size_t)ds->classes, sizeof(char *));
		for (int k = 0; k < ds->classes; k++)
			ds->class_names[k] = xasprintf("%d", k);
	} else if (is_file(cfg->path)) {
		ds->src = FT_SRC_PACK;
		st = open_pack(ds);
	} else if (!is_dir(cfg->path)) {
		st = ft_error(FT_EBADINPUT, "%s: %s", cfg->path,
			      access(cfg->path, F_OK) == 0 ? "not a folder" : "no such folder");
	} else {
		char *t = xasprintf("%s/train", cfg->path), *v = xasprintf("%s/val", cfg->path);
		bool folder = is_dir(t) || is_dir(v);
		free(t);
		free(v);
		char *i1 = find_idx(cfg->path, "train", "images", 3), *i2 = find_idx(cfg->path, "t10k", "images", 3);
		bool idx = i1 || i2;
		free(i1);
		free(i2);
		if (folder) {
			ds->src = FT_SRC_FOLDER;
			st = open_folder(ds);
		} else if (idx) {
			ds->src = FT_SRC_IDX;
			st = open_idx(ds);
		} else {
			st = ft_error(FT_EBADINPUT, "%s: neither an IDX folder (train-images-idx3-ubyte[.gz], "
				      "t10k-images-idx3-ubyte[.gz]) nor an ImageFolder (train/<class>/, val/<class>/)",
				      cfg->path);
		}
	}
	if (st == FT_OK && ds->n < 1)
		st = ft_error(FT_EBADINPUT, "%s: no images", ds->path);
	if (st != FT_OK) {
		ft_dataset_free(ds);
		return st;
	}
	if (cfg->train)
		for (int k = 0; k < 2; k++)
			ds->perm[k] = ft_xmalloc(sizeof(int64_t) * (size_t)ds->n);
	ds->crop = cfg->crop;
	if (ds->crop == FT_CROP_AUTO)
		ds->crop = ft_dataset_source_kind(ds) == FT_PACK_SRC_FOLDER ? FT_CROP_RRC : FT_CROP_NONE;
	*out = ds;
	return FT_OK;
}

void ft_dataset_free(ft_dataset *ds)
{
	if (!ds)
		return;
	free_strs(ds->class_names, ds->classes);
	free(ds->idx_images);
	free(ds->idx_labels);
	free(ds->split_dir);
	free(ds->names);
	free(ds->name_off);
	free(ds->file_class);
	free((void *)ds->bad);
	free(ds->perm[0]);
	free(ds->perm[1]);
	if (ds->pack_map)
		munmap(ds->pack_map, ds->pack_len);
	pthread_mutex_destroy(&ds->perm_lock);
	free(ds->path);
	free(ds);
}
