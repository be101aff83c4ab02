/*
 * test_data.c - the dataset reader (runtime/data.h).
 *
 *   test_data PYTHON TESTS_DIR WORK_DIR
 *       IDX folders the test writes (plain and gzipped, and broken ones), the
 *       real Fashion-MNIST when installed, the resize against PyTorch
 *       (tests/data_resize_ref.py), determinism of batches, the synthetic set,
 *       and ImageFolder trees made by tests/make_imagefolder.py (JPEG, PNG and
 *       the broken cases). PYTHON may be "" to skip what needs it.
 *   test_data --bench FOLDER [BATCH]
 *       images/s decoded with 1 and 2 workers at the images' own size and at 224.
 */
#include "data_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char *work;

static char *path_of(const char *fmt, const char *a)
{
	static char buf[8][1024];
	static int slot;
	char *p = buf[slot++ % 8];
	snprintf(p, 1024, "%s/", work);
	snprintf(p + strlen(p), 1024 - strlen(p), fmt, a);
	return p;
}

/* Opening must fail with FT_EBADINPUT and a message holding both strings. */
static void open_fails(const ft_data_config *cfg, const char *s1, const char *s2)
{
	ft_dataset *ds = NULL;
	ft_clear_error();
	ft_status st = ft_dataset_open(cfg, &ds);
	const char *msg = ft_last_error();
	CHECK(st == FT_EBADINPUT && !ds, "open %s should fail, got %d", cfg->path, st);
	CHECK(strstr(msg, s1) && (!s2 || strstr(msg, s2)), "open %s: message \"%s\" should name \"%s\"%s%s",
	      cfg->path, msg, s1, s2 ? " and " : "", s2 ? s2 : "");
	ft_dataset_free(ds);
}

static void batch_fails(ft_dataset *ds, int64_t index, int64_t batch, const char *s1, const char *s2)
{
	size_t numel = 3 * 64 * 64;
	float *img = malloc(sizeof(float) * numel * (size_t)batch);
	int64_t *lab = malloc(sizeof(int64_t) * (size_t)batch);
	ft_clear_error();
	ft_status st = ft_dataset_batch(ds, 0, index, batch, img, lab);
	const char *msg = ft_last_error();
	CHECK(st == FT_EBADINPUT, "batch %lld should fail", (long long)index);
	CHECK(strstr(msg, s1) && (!s2 || strstr(msg, s2)), "batch: message \"%s\" should name \"%s\"%s%s",
	      msg, s1, s2 ? " and " : "", s2 ? s2 : "");
	free(img);
	free(lab);
}

/* ---- IDX ------------------------------------------------------------------ */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void write_bytes(const char *path, bool gz, const uint8_t *data, size_t len)
{
	if (gz) {
		gzFile f = gzopen(path, "wb");
		if (!f || gzwrite(f, data, (unsigned)len) != (int)len || gzclose(f) != Z_OK)
			fprintf(stderr, "cannot write %s\n", path), exit(1);
		return;
	}
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		fprintf(stderr, "cannot write %s\n", path), exit(1);
}

/* An IDX pair prefix-{images,labels}: n images of h x w, magic and counts overridable to break it. */
static void write_idx(const char *dir, const char *prefix, bool gz, int n, int h, int w,
		      const uint8_t *pix, const uint8_t *labels, uint32_t img_magic, int label_count,
		      size_t img_bytes_cut)
{
	char path[1024];
	mkdir(dir, 0755);
	size_t len = 16 + (size_t)n * h * w;
	uint8_t *buf = malloc(len);
	put_be32(buf, img_magic);
	put_be32(buf + 4, (uint32_t)n);
	put_be32(buf + 8, (uint32_t)h);
	put_be32(buf + 12, (uint32_t)w);
	memcpy(buf + 16, pix, len - 16);
	snprintf(path, sizeof(path), "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
	write_bytes(path, gz, buf, len - img_bytes_cut);
	free(buf);
	len = 8 + (size_t)label_count;
	buf = malloc(len);
	put_be32(buf, 0x801);
	put_be32(buf + 4, (uint32_t)label_count);
	memcpy(buf + 8, labels, (size_t)label_count);
	snprintf(path, sizeof(path), "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
	write_bytes(path, gz, buf, len);
	free(buf);
}

#define NI 5
#define IH 4
#define IW 3

static uint8_t small_pix(int i, int y, int x)
{
	return (uint8_t)(i * 50 + y * 7 + x * 3 + 1);
}

static void make_small_idx(const char *dir, bool gz)
{
	uint8_t pix[NI * IH * IW], labels[NI] = { 0, 1, 2, 1, 0 };
	for (int i = 0; i < NI; i++)
		for (int y = 0; y < IH; y++)
			for (int x = 0; x < IW; x++)
				pix[(i * IH + y) * IW + x] = small_pix(i, y, x);
	write_idx(dir, "train", gz, NI, IH, IW, pix, labels, 0x803, NI, 0);
	write_idx(dir, "t10k", gz, NI, IH, IW, pix, labels, 0x803, NI, 0);
}

/* Which small image (x) is, or -1; *flipped says whether it is mirrored. */
static int which_small(const float *x, bool *flipped)
{
	for (int i = 0; i < NI; i++)
		for (int f = 0; f < 2; f++) {
			bool same = true;
			for (int y = 0; y < IH && same; y++)
				for (int c = 0; c < IW && same; c++)
					same = x[y * IW + c] == small_pix(i, y, f ? IW - 1 - c : c) / 255.0f;
			if (same) {
				*flipped = f;
				return i;
			}
		}
	return -1;
}

static void test_idx_small(bool gz)
{
	const char *dir = path_of("%s", gz ? "idx_gz" : "idx_plain");
	make_small_idx(dir, gz);
	static const int64_t want_labels[NI] = { 0, 1, 2, 1, 0 };
	float img[NI * IH * IW], img2[NI * IH * IW];
	int64_t lab[NI], lab2[NI];

	/* held-out: identity order, exact pixels */
	ft_data_config cfg = config(dir, false, 1, IH, IW);
	ft_dataset *ds = open_ok(&cfg);
	if (!ds)
		return;
	CHECK(ft_dataset_size(ds) == NI && ft_dataset_classes(ds) == 3, "%s: size %lld classes %d", dir,
	      (long long)ft_dataset_size(ds), ft_dataset_classes(ds));
	CHECK(ft_dataset_batch(ds, 0, 0, NI, img, lab) == FT_OK, "%s", ft_last_error());
	for (int i = 0; i < NI; i++) {
		bool fl;
		CHECK(lab[i] == want_labels[i], "label %d: %lld", i, (long long)lab[i]);
		CHECK(which_small(img + i * IH * IW, &fl) == i && !fl, "%s held-out image %d", dir, i);
	}
	/* the partial last batch: label -1 and zeros past the end; beyond it an error */
	CHECK(ft_dataset_batches(ds, 2) == 2, "batches");
	CHECK(ft_dataset_batch(ds, 0, 2, 2, img, lab) == FT_OK, "%s", ft_last_error());
	CHECK(lab[0] == 0 && lab[1] == -1 && img[IH * IW] == 0 && img[2 * IH * IW - 1] == 0, "partial batch");
	CHECK(ft_dataset_batch(ds, 0, 3, 2, img, lab) == FT_EBADINPUT, "batch past the end");
	ft_dataset_free(ds);

	/* training: a permutation per epoch, flips drawn per (epoch, sample), pure function of (epoch, index) */
	cfg.train = true;
	cfg.hflip = true;
	cfg.seed = 7;
	ds = open_ok(&cfg);
	if (!ds)
		return;
	int order0[NI], flips = 0, differs = 0;
	for (int e = 0; e < 12; e++) {
		CHECK(ft_dataset_batch(ds, e, 0, NI, img, lab) == FT_OK, "%s", ft_last_error());
		int seen[NI] = { 0 };
		for (int k = 0; k < NI; k++) {
			bool fl;
			int i = which_small(img + k * IH * IW, &fl);
			CHECK(i >= 0 && lab[k] == want_labels[i], "epoch %d position %d: not a sample (%d)", e, k, i);
			if (i < 0)
				continue;
			seen[i]++;
			flips += fl;
			if (e == 0)
				order0[k] = i;
			else
				differs += order0[k] != i;
		}
		for (int i = 0; i < NI; i++)
			CHECK(seen[i] == 1, "epoch %d: sample %d seen %d times", e, i, seen[i]);
	}
	CHECK(differs > 0, "every epoch has the order of epoch 0");
	CHECK(flips > 0 && flips < 12 * NI, "flips %d of %d", flips, 12 * NI);
	/* batch 1 of size 2 is positions 2 and 3 of the epoch's order, whenever it is asked for */
	CHECK(ft_dataset_batch(ds, 3, 0, NI, img, lab) == FT_OK, "%s", ft_last_error());
	CHECK(ft_dataset_batch(ds, 5, 0, 1, img2, lab2) == FT_OK, "%s", ft_last_error()); /* another epoch between */
	CHECK(ft_dataset_batch(ds, 3, 1, 2, img2, lab2) == FT_OK, "%s", ft_last_error());
	CHECK(!memcmp(img2, img + 2 * IH * IW, sizeof(float) * 2 * IH * IW) && lab2[0] == lab[2] && lab2[1] == lab[3],
	      "batch 1 of epoch 3 differs from positions 2, 3 of the whole epoch");
	ft_dataset_free(ds);
}

static void test_idx_bad(void)
{
	uint8_t pix[NI * IH * IW] = { 0 }, labels[NI] = { 0, 1, 2, 1, 0 }, zeros[NI] = { 0 };
	const char *d;
	ft_data_config cfg;

	d = path_of("%s", "idx_magic");
	write_idx(d, "train", false, NI, IH, IW, pix, labels, 0x804, NI, 0);
	cfg = config(d, true, 1, IH, IW);
	open_fails(&cfg, "train-images-idx3-ubyte", "magic");

	d = path_of("%s", "idx_trunc");
	write_idx(d, "train", false, NI, IH, IW, pix, labels, 0x803, NI, 5);
	cfg = config(d, true, 1, IH, IW);
	open_fails(&cfg, "train-images-idx3-ubyte", "truncated");

	d = path_of("%s", "idx_count");
	write_idx(d, "train", true, NI, IH, IW, pix, labels, 0x803, NI - 1, 0);
	cfg = config(d, true, 1, IH, IW);
	open_fails(&cfg, "train-labels-idx1-ubyte.gz", "4 labels for the 5 images");

	d = path_of("%s", "idx_onelabel");
	write_idx(d, "train", false, NI, IH, IW, pix, zeros, 0x803, NI, 0);
	cfg = config(d, true, 1, IH, IW);
	open_fails(&cfg, "train-labels-idx1-ubyte", "at least 2 classes");

	/* a gzip stream cut in half */
	d = path_of("%s", "idx_gztrunc");
	write_idx(d, "train", true, NI, IH, IW, pix, labels, 0x803, NI, 0);
	char p[1100];
	snprintf(p, sizeof(p), "%s/train-images-idx3-ubyte.gz", d);
	struct stat st;
	stat(p, &st);
	CHECK(truncate(p, st.st_size / 2) == 0, "truncate");
	cfg = config(d, true, 1, IH, IW);
	open_fails(&cfg, "train-images-idx3-ubyte.gz", "gzip");

	/* the held-out split missing */
	cfg = config(path_of("%s", "idx_magic"), false, 1, IH, IW);
	open_fails(&cfg, "t10k-images-idx3-ubyte", NULL);
}

static void test_fashion_mnist(void)
{
	const char *dir = "/usr/share/datasets/fashion-mnist";
	struct stat st;
	if (stat(dir, &st) != 0) {
		printf("SKIP Fashion-MNIST: %s not installed (Debian dataset-fashion-mnist)\n", dir);
		return;
	}
	ft_data_config cfg = config(dir, false, 1, 28, 28);
	ft_dataset *ds = open_ok(&cfg);
	if (!ds)
		return;
	/* first labels of t10k, as gzip.open(...).read()[8:18] gives them */
	static const int64_t first[10] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 };
	float *img = malloc(sizeof(float) * 1000 * 28 * 28);
	int64_t lab[1000];
	CHECK(ft_dataset_size(ds) == 10000 && ft_dataset_classes(ds) == 10, "t10k: %lld images, %d classes",
	      (long long)ft_dataset_size(ds), ft_dataset_classes(ds));
	CHECK(ft_dataset_batch(ds, 0, 0, 10, img, lab) == FT_OK, "%s", ft_last_error());
	for (int i = 0; i < 10; i++)
		CHECK(lab[i] == first[i], "t10k label %d: %lld, want %lld", i, (long long)lab[i], (long long)first[i]);
	ft_dataset_free(ds);

	/* training split: 60000 images, 6000 per class over one epoch */
	cfg.train = true;
	ds = open_ok(&cfg);
	if (!ds) {
		free(img);
		return;
	}
	CHECK(ft_dataset_size(ds) == 60000 && ft_dataset_classes(ds) == 10 && ft_dataset_batches(ds, 1000) == 60,
	      "train: %lld images, %d classes", (long long)ft_dataset_size(ds), ft_dataset_classes(ds));
	int64_t count[10] = { 0 };
	double sum = 0;
	for (int64_t b = 0; b < ft_dataset_batches(ds, 1000); b++) {
		if (ft_dataset_batch(ds, 0, b, 1000, img, lab) != FT_OK) {
			CHECK(0, "%s", ft_last_error());
			break;
		}
		for (int i = 0; i < 1000; i++) {
			if (lab[i] >= 0 && lab[i] < 10)
				count[lab[i]]++;
		}
		for (int i = 0; i < 1000 * 28 * 28; i++)
			sum += img[i];
	}
	for (int k = 0; k < 10; k++)
		CHECK(count[k] == 6000, "train class %d: %lld images", k, (long long)count[k]);
	/* the mean pixel of Fashion-MNIST's training set is 0.2860 */
	double mean = sum / (60000.0 * 28 * 28);
	CHECK(fabs(mean - 0.2860) < 1e-3, "train mean pixel %.5f, want 0.2860", mean);
	ft_dataset_free(ds);
	free(img);
}

/* ---- resize and the pipeline against PyTorch --------------------------- */

static float ref_src(int i)
{
	return (float)((37 * i + 11) % 256);
}

static void test_against_torch(const char *python, const char *tests_dir)
{
	if (!python[0]) {
		printf("SKIP resize against PyTorch: no python3\n");
		return;
	}
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "'%s' '%s/data_resize_ref.py'", python, tests_dir);
	FILE *f = popen(cmd, "r");
	CHECK(f != NULL, "cannot run %s", cmd);
	if (!f)
		return;
	char line[512];
	int cases = 0;
	while (fgets(line, sizeof(line), f)) {
		int ih, iw, oh, ow, c = 1;
		float m[3] = { 0 }, s[3] = { 1, 1, 1 };
		bool pipeline;
		if (sscanf(line, "resize %d %d %d %d", &ih, &iw, &oh, &ow) == 4)
			pipeline = false;
		else if (sscanf(line, "pipeline %d %d %d %d %d %f %f %f %f %f %f", &ih, &iw, &c, &oh, &ow,
				&m[0], &m[1], &m[2], &s[0], &s[1], &s[2]) == 11)
			pipeline = true;
		else {
			CHECK(0, "unexpected line from %s: %s", cmd, line);
			break;
		}
		size_t n = (size_t)c * oh * ow;
		float *want = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
		for (size_t i = 0; i < n; i++)
			if (!fgets(line, sizeof(line), f) || sscanf(line, "%f", &want[i]) != 1)
				CHECK(0, "short output from %s", cmd);
		float tol;
		if (!pipeline) {
			float *src = malloc(sizeof(float) * (size_t)ih * iw);
			for (int i = 0; i < ih * iw; i++)
				src[i] = ref_src(i);
			ft_data_resize_bilinear(got, oh, ow, src, ih, iw);
			free(src);
			tol = 1e-5f; /* values up to 255: under one float ulp above 128, so exact but for a rare double rounding */
		} else {
			/* through an IDX file: image 0 is the formula, image 1 makes a second class */
			uint8_t *pix = calloc(2 * (size_t)ih * iw, 1), labels[2] = { 0, 1 };
			for (int i = 0; i < ih * iw; i++)
				pix[i] = (uint8_t)ref_src(i);
			char name[64];
			snprintf(name, sizeof(name), "pipe_%d_%d_%d", ih, iw, c);
			const char *dir = path_of("%s", name);
			write_idx(dir, "t10k", false, 2, ih, iw, pix, labels, 0x803, 2, 0);
			free(pix);
			ft_data_config cfg = config(dir, false, c, oh, ow);
			memcpy(cfg.mean, m, sizeof(m));
			memcpy(cfg.std, s, sizeof(s));
			ft_dataset *ds = open_ok(&cfg);
			int64_t lab;
			if (ds)
				CHECK(ft_dataset_batch(ds, 0, 0, 1, got, &lab) == FT_OK, "%s", ft_last_error());
			else
				memset(got, 0, sizeof(float) * n);
			ft_dataset_free(ds);
			tol = 1e-6f; /* PyTorch's 1-channel kernel rounds differently in the last bit */
		}
		float maxerr = 0;
		for (size_t i = 0; i < n; i++) {
			float e = fabsf(got[i] - want[i]);
			maxerr = e > maxerr || e != e ? e : maxerr;
		}
		CHECK(maxerr <= tol, "%s %dx%d -> %dx%dx%d: max error %g against PyTorch (tolerance %g)",
		      pipeline ? "pipeline" : "resize", ih, iw, c, oh, ow, maxerr, tol);
		printf("  %-8s %3dx%-3d -> %dx%3dx%-3d max |ftrun - torch| %.3g\n", pipeline ? "pipeline" : "resize",
		       ih, iw, c, oh, ow, maxerr);
		free(want);
		free(got);
		cases++;
	}
	int rc = pclose(f);
	CHECK(rc == 0 && cases >= 10, "%s: exit %d after %d cases", cmd, rc, cases);
}

/* ---- synthetic and determinism ------------------------------------------ */

static void test_synthetic(void)
{
	enum { B = 32, C = 3, H = 16, W = 16, K = 4 };
	size_t numel = C * H * W;
	float *a = malloc(sizeof(float) * B * numel), *b = malloc(sizeof(float) * B * numel);
	int64_t la[B], lb[B];
	ft_data_config cfg = config("synthetic", true, C, H, W);
	cfg.synthetic_size = 256;
	cfg.synthetic_classes = K;
	cfg.seed = 3;
	cfg.hflip = true;
	cfg.workers = 1;
	ft_dataset *d1 = open_ok(&cfg);
	cfg.workers = 2;
	ft_dataset *d2 = open_ok(&cfg);
	if (!d1 || !d2)
		goto out;
	CHECK(ft_dataset_size(d1) == 256 && ft_dataset_classes(d1) == K && ft_dataset_batches(d1, B) == 8, "synthetic size");
	/* same (seed, epoch, index) twice, and with another worker count: the same bytes */
	CHECK(ft_dataset_batch(d1, 2, 5, B, a, la) == FT_OK, "%s", ft_last_error());
	CHECK(ft_dataset_batch(d2, 1, 5, B, b, lb) == FT_OK, "%s", ft_last_error());
	CHECK(ft_dataset_batch(d2, 2, 5, B, b, lb) == FT_OK, "%s", ft_last_error());
	CHECK(!memcmp(a, b, sizeof(float) * B * numel) && !memcmp(la, lb, sizeof(la)), "batch (2, 5) differs");
	/* another epoch: another order */
	CHECK(ft_dataset_batch(d2, 3, 5, B, b, lb) == FT_OK, "%s", ft_last_error());
	CHECK(memcmp(la, lb, sizeof(la)) != 0, "epochs 2 and 3 have the same labels at batch 5");
	/* another seed: other data */
	cfg.seed = 4;
	ft_dataset *d3 = open_ok(&cfg);
	if (d3) {
		CHECK(ft_dataset_batch(d3, 2, 5, B, b, lb) == FT_OK, "%s", ft_last_error());
		CHECK(memcmp(a, b, sizeof(float) * B * numel) != 0, "seeds 3 and 4 give the same batch");
		ft_dataset_free(d3);
	}

	/* learnable: class means of the training split classify the held-out split
	   (without flips, which a network learns and a nearest mean cannot) */
	cfg.seed = 3;
	cfg.hflip = false;
	ft_dataset *tr = open_ok(&cfg);
	cfg.train = false;
	ft_dataset *ev = open_ok(&cfg);
	if (tr && ev) {
		double *mean = calloc(K * numel, sizeof(double));
		int cnt[K] = { 0 }, right = 0, total = 0;
		for (int64_t i = 0; i < ft_dataset_batches(tr, B); i++) {
			CHECK(ft_dataset_batch(tr, 0, i, B, a, la) == FT_OK, "%s", ft_last_error());
			for (int k = 0; k < B; k++) {
				CHECK(la[k] >= 0 && la[k] < K, "label %lld", (long long)la[k]);
				cnt[la[k]]++;
				for (size_t p = 0; p < numel; p++)
					mean[la[k] * numel + p] += a[k * numel + p];
			}
		}
		for (int y = 0; y < K; y++)
			for (size_t p = 0; p < numel; p++)
				mean[y * numel + p] /= cnt[y] ? cnt[y] : 1;
		for (int64_t i = 0; i < ft_dataset_batches(ev, B); i++) {
			CHECK(ft_dataset_batch(ev, 0, i, B, a, la) == FT_OK, "%s", ft_last_error());
			for (int k = 0; k < B; k++) {
				int best = -1;
				double bd = INFINITY;
				for (int y = 0; y < K; y++) {
					double d = 0;
					for (size_t p = 0; p < numel; p++)
						d += (a[k * numel + p] - mean[y * numel + p]) * (a[k * numel + p] - mean[y * numel + p]);
					if (d < bd)
						bd = d, best = y;
				}
				right += best == la[k];
				total++;
			}
		}
		CHECK(right > 0.9 * total, "synthetic: nearest class mean gets %d of %d", right, total);
		free(mean);
	}
	ft_dataset_free(tr);
	ft_dataset_free(ev);
	cfg.synthetic_classes = 1;
	open_fails(&cfg, "synthetic", "at least 2");
out:
	ft_dataset_free(d1);
	ft_dataset_free(d2);
	free(a);
	free(b);
}

/* ---- ImageFolder ---------------------------------------------------------- */

static int pixel(int k, int j, int y, int x, int c)
{
	return 20 + 40 * k + j + 2 * y + 2 * x + 15 * c;
}

static void test_folder(const char *python, const char *tests_dir)
{
	if (!python[0]) {
		printf("SKIP ImageFolder: no python3 to make the trees\n");
		return;
	}
	char cmd[2048];
	const char *tree = path_of("%s", "tree");
	snprintf(cmd, sizeof(cmd), "'%s' '%s/make_imagefolder.py' tree '%s'", python, tests_dir, tree);
	if (system(cmd) != 0) {
		CHECK(0, "%s failed (needs python3-pil)", cmd);
		return;
	}
	char good[1100], p[1100];
	snprintf(good, sizeof(good), "%s/good", tree);
	enum { H = 16, W = 20, NV = 10 };
	float *img = malloc(sizeof(float) * 18 * 3 * 224 * 224), *img2 = malloc(sizeof(float) * 18 * 3 * 224 * 224);
	int64_t lab[18], lab2[18];

	/* held-out: classes from train/ (b_dog absent from val/ is fine), identity order */
	ft_data_config cfg = config(good, false, 3, H, W);
	ft_dataset *ds = open_ok(&cfg);
	if (ds) {
		CHECK(ft_dataset_size(ds) == NV && ft_dataset_classes(ds) == 3, "val: %lld images, %d classes",
		      (long long)ft_dataset_size(ds), ft_dataset_classes(ds));
		CHECK(!strcmp(ft_dataset_class_name(ds, 1), "b_dog"), "class 1 is %s", ft_dataset_class_name(ds, 1));
		CHECK(ft_dataset_batch(ds, 0, 0, NV, img, lab) == FT_OK, "%s", ft_last_error());
		for (int i = 0; i < NV; i++) {
			int k = i < 5 ? 0 : 2, j = i % 5;
			bool gray = j == 0 || j == 4, jpeg = j >= 3;
			double err = 0, maxerr = 0;
			for (int c = 0; c < 3; c++)
				for (int y = 0; y < H; y++)
					for (int x = 0; x < W; x++) {
						float want = pixel(k, j, y, x, gray ? 0 : c) / 255.0f;
						float e = fabsf(img[((i * 3 + c) * H + y) * W + x] - want);
						err += e;
						maxerr = e > maxerr ? e : maxerr;
					}
			err /= 3 * H * W;
			CHECK(lab[i] == k, "val %d: label %lld", i, (long long)lab[i]);
			/* PNG is exact; JPEG at quality 95 within a couple of levels on average */
			if (jpeg)
				CHECK(err < 2.0 / 255 && maxerr < 12.0 / 255, "val %d (JPEG): mean error %.2f, max %.2f levels",
				      i, err * 255, maxerr * 255);
			else
				CHECK(maxerr == 0, "val %d (PNG%s): max error %g", i, j == 2 ? ", RGBA" : "", maxerr);
		}
		ft_dataset_free(ds);
	}
	/* one channel: ITU-R 601 luminance of the RGB PNG, exactly */
	cfg = config(good, false, 1, H, W);
	ds = open_ok(&cfg);
	if (ds) {
		CHECK(ft_dataset_batch(ds, 0, 0, 2, img, lab) == FT_OK, "%s", ft_last_error());
		float maxerr = 0;
		for (int y = 0; y < H; y++)
			for (int x = 0; x < W; x++) {
				float want = (0.299f * pixel(0, 1, y, x, 0) + 0.587f * pixel(0, 1, y, x, 1) +
					      0.114f * pixel(0, 1, y, x, 2)) / 255.0f;
				float e = fabsf(img[(1 * H + y) * W + x] - want);
				maxerr = e > maxerr ? e : maxerr;
			}
		CHECK(maxerr == 0, "luminance: max error %g", maxerr);
		ft_dataset_free(ds);
	}

	/* training split at 224 (images of several sizes): every class 6 times an epoch,
	   and the same bytes with 1 and 2 workers */
	cfg = config(good, true, 3, 224, 224);
	cfg.hflip = true;
	cfg.mean[0] = 0.485f, cfg.mean[1] = 0.456f, cfg.mean[2] = 0.406f;
	cfg.std[0] = 0.229f, cfg.std[1] = 0.224f, cfg.std[2] = 0.225f;
	cfg.workers = 1;
	ds = open_ok(&cfg);
	cfg.workers = 2;
	ft_dataset *ds2 = open_ok(&cfg);
	if (ds && ds2) {
		CHECK(ft_dataset_size(ds) == 18 && ft_dataset_classes(ds) == 3, "train: %lld images",
		      (long long)ft_dataset_size(ds));
		CHECK(ft_dataset_batch(ds, 1, 0, 18, img, lab) == FT_OK, "%s", ft_last_error());
		CHECK(ft_dataset_batch(ds2, 1, 0, 18, img2, lab2) == FT_OK, "%s", ft_last_error());
		CHECK(!memcmp(img, img2, sizeof(float) * 18 * 3 * 224 * 224) && !memcmp(lab, lab2, sizeof(lab)),
		      "1 and 2 workers differ");
		int count[3] = { 0 };
		for (int i = 0; i < 18; i++)
			if (lab[i] >= 0 && lab[i] < 3)
				count[lab[i]]++;
		CHECK(count[0] == 6 && count[1] == 6 && count[2] == 6, "train labels %d %d %d", count[0], count[1], count[2]);
	}
	ft_dataset_free(ds);
	ft_dataset_free(ds2);

	/* broken trees */
	cfg = config(path_of("%s", "tree/bad_empty"), true, 3, 8, 8);
	open_fails(&cfg, "bad_empty/train/b_dog", "empty class folder");
	cfg = config(path_of("%s", "tree/bad_valclass"), false, 3, 8, 8);
	open_fails(&cfg, "bad_valclass/val/zz_yak", "not a folder of");
	cfg.train = true;
	ds = open_ok(&cfg); /* its train/ is fine */
	ft_dataset_free(ds);
	cfg = config(path_of("%s", "tree/bad_noclass"), true, 3, 8, 8);
	open_fails(&cfg, "bad_noclass/train", "no class folders");
	cfg = config(path_of("%s", "tree/not_data"), true, 3, 8, 8);
	open_fails(&cfg, "not_data", "neither an IDX folder");
	cfg = config(path_of("%s", "tree/no_such_folder"), true, 3, 8, 8);
	open_fails(&cfg, "no_such_folder", "no such folder");
	cfg = config(good, false, 3, H, W);
	cfg.channels = 2;
	ds = NULL;
	CHECK(ft_dataset_open(&cfg, &ds) == FT_EUNSUPPORTED && !ds, "2 channels accepted");

	/* unreadable images: an error naming the first bad file of the batch ... */
	snprintf(p, sizeof(p), "%s/bad_files", tree);
	cfg = config(p, false, 3, H, W);
	ds = open_ok(&cfg);
	if (ds) {
		batch_fails(ds, 0, 6, "val/a_cat/001.jpg", "truncated JPEG");
		batch_fails(ds, 3, 1, "val/b_dog/000.png", "not an image");
		batch_fails(ds, 5, 1, "val/b_dog/002.png", "PNG");
		ft_dataset_free(ds);
	}
	cfg.train = true;
	ds = open_ok(&cfg);
	if (ds) {
		batch_fails(ds, 0, 5, "train/a_cat/002.jpg", "truncated JPEG (Premature end");
		ft_dataset_free(ds);
	}
	cfg.train = false;
	/* ... or, with skip_bad, the next readable sample in its place */
	cfg.skip_bad = true;
	ds = open_ok(&cfg);
	if (ds) {
		size_t n = 3 * H * W;
		for (int rep = 0; rep < 2; rep++) {
			CHECK(ft_dataset_batch(ds, 0, 0, 6, img, lab) == FT_OK, "skip_bad: %s", ft_last_error());
			static const int64_t want[6] = { 0, 0, 0, 1, 1, 0 };
			CHECK(!memcmp(lab, want, sizeof(want)), "skip_bad labels %lld %lld %lld %lld %lld %lld",
			      (long long)lab[0], (long long)lab[1], (long long)lab[2], (long long)lab[3],
			      (long long)lab[4], (long long)lab[5]);
			CHECK(!memcmp(img + 1 * n, img + 2 * n, sizeof(float) * n), "a_cat/001.jpg is not a_cat/002.png");
			CHECK(!memcmp(img + 3 * n, img + 4 * n, sizeof(float) * n), "b_dog/000.png is not b_dog/001.png");
			CHECK(!memcmp(img + 5 * n, img + 0 * n, sizeof(float) * n), "b_dog/002.png is not a_cat/000.png");
		}
		ft_dataset_free(ds);
	}
	free(img);
	free(img2);
}

/* ---- the decode benchmark ------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench(const char *folder, int64_t batch)
{
	static const int sizes[][2] = { { 64, 64 }, { 224, 224 } };
	float *img = malloc(sizeof(float) * (size_t)batch * 3 * 224 * 224);
	int64_t *lab = malloc(sizeof(int64_t) * (size_t)batch);
	printf("%-8s %-7s %-8s %10s\n", "output", "workers", "images", "images/s");
	for (size_t s = 0; s < 2; s++)
		for (int w = 1; w <= 2; w++) {
			ft_data_config cfg = config(folder, true, 3, sizes[s][0], sizes[s][1]);
			cfg.workers = w;
			cfg.hflip = true;
			ft_dataset *ds = NULL;
			if (ft_dataset_open(&cfg, &ds) != FT_OK) {
				fprintf(stderr, "%s\n", ft_last_error());
				return 1;
			}
			int64_t nb = ft_dataset_batches(ds, batch);
			/* one batch to warm the page cache and the allocator, then one epoch */
			ft_dataset_batch(ds, 0, 0, batch, img, lab);
			double t0 = now();
			for (int64_t b = 0; b < nb; b++)
				if (ft_dataset_batch(ds, 1, b, batch, img, lab) != FT_OK) {
					fprintf(stderr, "%s\n", ft_last_error());
					return 1;
				}
			double dt = now() - t0;
			printf("%3dx%-4d %-7d %-8lld %10.0f\n", sizes[s][0], sizes[s][1], w, (long long)(nb * batch),
			       nb * batch / dt);
			ft_dataset_free(ds);
		}
	free(img);
	free(lab);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--bench"))
		return bench(argv[2], argc > 3 ? atoll(argv[3]) : 64);
	if (argc != 4) {
		fprintf(stderr, "usage: test_data PYTHON TESTS_DIR WORK_DIR | --bench FOLDER [BATCH]\n");
		return 2;
	}
	work = argv[3];
	mkdir(work, 0755);
	test_idx_small(false);
	test_idx_small(true);
	test_idx_bad();
	test_fashion_mnist();
	test_against_torch(argv[1], argv[2]);
	test_synthetic();
	test_folder(argv[1], argv[2]);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
