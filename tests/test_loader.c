/*
 * test_loader.c - the input pipeline (runtime/loader.h, runtime/pack.h) and
 * the reader's uint8 path and crops (runtime/data.h).
 *
 *   test_loader PYTHON TESTS_DIR WORK_DIR
 *       uint8 batches through the graph's ImageNormalize against the float
 *       path; the loader's slots against direct batches for several worker
 *       counts, ring depths, accumulation, strides and both staging kinds;
 *       its counters and allocator; errors in position order; the crops;
 *       packs written, read back and refused when damaged. The ImageFolder
 *       parts need PYTHON with PIL (tests/make_imagefolder.py); "" skips them.
 *   test_loader --bench DATA [BATCH [SIZE [EPOCHS [WORD...]]]]
 *       loader images/s with 1 and 2 workers over EPOCHS epochs (default 1) after
 *       a warm-up batch (uint8 at SIZE x SIZE, default 32, 3 channels, the
 *       training split). WORDs: pageable (staging), none, flip or rrc (the
 *       recipe; default: as `ftrun train` picks it).
 */
#include "loader.h"
#include "pack.h"
#include "exec.h"
#include "data_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *work;

/* the defaults, seed 7, flips in training, ImageNet's mean and std */
static ft_data_config loader_config(const char *path, bool train, int c, int h, int w)
{
	ft_data_config cfg = config(path, train, c, h, w);
	cfg.seed = 7;
	cfg.hflip = train;
	cfg.mean[0] = 0.485f, cfg.mean[1] = 0.456f, cfg.mean[2] = 0.406f;
	cfg.std[0] = 0.229f, cfg.std[1] = 0.224f, cfg.std[2] = 0.225f;
	return cfg;
}

/* ---- ImageNormalize: uint8 through the graph against the float path ------- */

/* (N,C,H,W) float input -> Identity -> output, then the input made uint8 */
static ft_graph *normalize_graph(int64_t n, int c, int h, int w, const float *mean, const float *std)
{
	ft_graph *g = ft_graph_new("normalize_test");
	int64_t dims[4] = { n, c, h, w };
	int x = ft_graph_new_tensor(g, "x");
	ft_tensor_set_shape(&g->tensors[x], FT_F32, 4, dims);
	g->tensors[x].kind = FT_TK_INPUT;
	int y = ft_graph_new_tensor(g, "y");
	ft_node *nd = ft_graph_add_node(g, FT_OP_IDENTITY, "id", 1, 1);
	nd->in[0] = x;
	nd->out[0] = y;
	CHECK(ft_infer_unary(g, nd) == FT_OK, "identity: %s", ft_last_error());
	g->inputs = FT_ARENA_NEW(g->arena, int, 1);
	g->inputs[0] = x;
	g->n_inputs = 1;
	g->outputs = FT_ARENA_NEW(g->arena, int, 1);
	g->outputs[0] = y;
	g->n_outputs = 1;
	ft_status st = ft_graph_input_u8(g, 0, mean, std);
	CHECK(st == FT_OK, "input_u8: %s", ft_last_error());
	CHECK(g->nodes[0].op == FT_OP_IMAGE_NORMALIZE && g->tensors[g->inputs[0]].dtype == FT_U8,
	      "ImageNormalize is not at the head, or the input is not uint8");
	return g;
}

/*
 * The same batch through both paths: the float reader against the uint8
 * reader + ImageNormalize. exact: no resize happens, so the bits agree;
 * otherwise they differ by the uint8 rounding, at most half a level / std.
 */
static void both_paths(const ft_data_config *cfg, int64_t epoch, int64_t index, int64_t b, bool exact)
{
	ft_dataset *ds = open_ok(cfg);
	if (!ds)
		return;
	int C = cfg->channels, H = cfg->height, W = cfg->width;
	size_t numel = (size_t)b * (size_t)C * (size_t)H * (size_t)W;
	float *f = malloc(sizeof(float) * numel), *y = malloc(sizeof(float) * numel);
	uint8_t *u = malloc(numel);
	int64_t l1[64], l2[64];
	CHECK(ft_dataset_batch(ds, epoch, index, b, f, l1) == FT_OK, "%s", ft_last_error());
	CHECK(ft_dataset_batch_u8(ds, epoch, index, b, u, l2) == FT_OK, "%s", ft_last_error());
	CHECK(!memcmp(l1, l2, sizeof(int64_t) * (size_t)b), "%s: labels differ between the paths", cfg->path);
	ft_graph *g = normalize_graph(b, C, H, W, cfg->mean, cfg->std);
	ft_exec *x = NULL;
	ft_status st = ft_exec_new(g, ft_backend_cpu_new(1), &x);
	CHECK(st == FT_OK, "exec: %s", ft_last_error());
	if (st == FT_OK && ft_exec_set_input(x, 0, u, numel) == FT_OK && ft_exec_run(x) == FT_OK &&
	    ft_exec_get_output(x, 0, y, sizeof(float) * numel) == FT_OK) {
		double maxerr = 0, tol = 0;
		for (int c = 0; c < C; c++)
			tol = fmax(tol, 0.5 / 255 / (cfg->std[c] ? cfg->std[c] : 1) * 1.0001);
		for (size_t i = 0; i < numel; i++)
			maxerr = fmax(maxerr, fabs((double)y[i] - f[i]));
		if (exact)
			CHECK(!memcmp(y, f, sizeof(float) * numel), "%s: uint8 + ImageNormalize differs from the float "
			      "path (max %g) where no resize happens", cfg->path, maxerr);
		else
			CHECK(maxerr <= tol && maxerr > 0, "%s: uint8 + ImageNormalize against the float path: max %g, "
			      "half a level is %g", cfg->path, maxerr, tol);
		printf("  both paths %-40s %dx%dx%d  max |u8 - float| %g%s\n", cfg->path, C, H, W, maxerr,
		       exact ? " (must be 0)" : "");
	}
	ft_exec_free(x);
	ft_graph_free(g);
	free(f);
	free(y);
	free(u);
	ft_dataset_free(ds);
}

static void test_normalize(void)
{
	/* synthetic: made at the model's size, no resize */
	ft_data_config cfg = loader_config("synthetic", true, 3, 12, 10);
	cfg.synthetic_size = 40;
	both_paths(&cfg, 1, 2, 8, true);
	cfg.channels = 1;
	cfg.std[0] = 0; /* 0 means 1 on both paths */
	both_paths(&cfg, 0, 0, 8, true);
	/* Fashion-MNIST: as it is (exact) and resized to 32 x 32 (rounded), 1 -> 3 channels */
	const char *fm = "/usr/share/datasets/fashion-mnist";
	if (access(fm, F_OK) == 0) {
		cfg = loader_config(fm, true, 1, 28, 28);
		both_paths(&cfg, 0, 5, 16, true);
		cfg = loader_config(fm, true, 3, 32, 32);
		both_paths(&cfg, 2, 1, 16, false);
	} else {
		printf("SKIP Fashion-MNIST paths: %s not installed (Debian dataset-fashion-mnist)\n", fm);
	}

	/* the rewrite refuses what is not a float image batch */
	ft_graph *g = ft_graph_new("refuse");
	int64_t dims[2] = { 2, 3 };
	int xi = ft_graph_new_tensor(g, "x");
	ft_tensor_set_shape(&g->tensors[xi], FT_F32, 2, dims);
	g->tensors[xi].kind = FT_TK_INPUT;
	g->inputs = FT_ARENA_NEW(g->arena, int, 1);
	g->inputs[0] = xi;
	g->n_inputs = 1;
	float m[3] = { 0 }, s[3] = { 1, 1, 1 };
	ft_clear_error();
	CHECK(ft_graph_input_u8(g, 0, m, s) == FT_EUNSUPPORTED && strstr(ft_last_error(), "\"x\""),
	      "a rank-2 input accepted: %s", ft_last_error());
	ft_graph_free(g);
}

/* ---- the loader against direct batches ------------------------------------ */

typedef struct count_alloc {
	int allocs, frees;
} count_alloc;

static void *counted_alloc(void *ctx, size_t bytes)
{
	((count_alloc *)ctx)->allocs++;
	return ft_aligned_alloc(bytes);
}

static void counted_free(void *ctx, void *p)
{
	((count_alloc *)ctx)->frees++;
	free(p);
}

/* position p of a run that starts at (e0, i0) advancing by step batches of the pe an epoch has */
static void position(int64_t p, int64_t e0, int64_t i0, int64_t step, int64_t pe, int64_t *e, int64_t *i)
{
	*e = e0;
	*i = i0;
	for (int64_t q = 0; q < p; q++) {
		*i += step;
		if (*i + step > pe) {
			(*e)++;
			*i = 0;
		}
	}
}

/* every slot of a loader run equals ft_dataset_batch_u8 of its position */
static void loader_matches(ft_dataset *ds, const ft_loader_config *lc, int64_t slots, const char *what)
{
	ft_loader *ld = NULL;
	CHECK(ft_loader_new(ds, lc, &ld) == FT_OK, "%s: %s", what, ft_last_error());
	if (!ld)
		return;
	size_t bytes = ft_loader_slot_bytes(ld), one = bytes / (size_t)(lc->batch * lc->micro);
	uint8_t *want = malloc(bytes);
	int64_t *wl = malloc(sizeof(int64_t) * (size_t)(lc->batch * lc->micro));
	int bad = 0;
	for (int64_t p = 0; p < slots; p++) {
		ft_loader_slot sl;
		if (ft_loader_next(ld, &sl) != FT_OK) {
			CHECK(0, "%s: slot %lld: %s", what, (long long)p, ft_last_error());
			break;
		}
		int64_t e, i;
		position(p, lc->epoch, lc->index, lc->micro * lc->stride, lc->per_epoch, &e, &i);
		bad += sl.epoch != e || sl.index != i;
		for (int m = 0; m < lc->micro; m++) {
			int64_t b = i + m * lc->stride + lc->offset;
			ft_dataset_batch_u8(ds, e, b, lc->batch, want + (size_t)m * (size_t)lc->batch * one,
					    wl + m * lc->batch);
		}
		bad += memcmp(want, sl.images, bytes) != 0;
		bad += memcmp(wl, sl.labels, sizeof(int64_t) * (size_t)(lc->batch * lc->micro)) != 0;
		ft_loader_release(ld, &sl);
	}
	CHECK(bad == 0, "%s: %d slots differ from the direct batches", what, bad);
	ft_loader_stats s = ft_loader_get_stats(ld);
	int64_t per = (int64_t)bytes + (int64_t)sizeof(int64_t) * lc->batch * lc->micro;
	CHECK(s.slots == slots && s.images == slots * lc->batch * lc->micro && s.bytes_staged == slots * per &&
	      s.wait_s >= 0, "%s: stats %lld slots, %lld images, %lld bytes, %g s waiting", what, (long long)s.slots,
	      (long long)s.images, (long long)s.bytes_staged, s.wait_s);
	ft_loader_free(ld);
	free(want);
	free(wl);
}

static void test_loader(void)
{
	ft_data_config cfg = loader_config("synthetic", true, 3, 8, 6);
	cfg.synthetic_size = 100;
	ft_dataset *ds = open_ok(&cfg);
	if (!ds)
		return;
	/* 100 images, batch 8: 12 batches an epoch; runs cross two epoch ends */
	static const struct { int workers, depth, micro; int64_t stride, offset, epoch, index; bool pageable; } cases[] = {
		{ 1, 1, 1, 1, 0, 0, 0, false }, { 2, 3, 1, 1, 0, 0, 0, false }, { 3, 4, 2, 1, 0, 1, 4, false },
		{ 2, 2, 3, 1, 0, 2, 9, true },  { 2, 3, 1, 2, 1, 0, 0, false }, { 1, 2, 2, 3, 2, 1, 6, true },
		{ 3, 3, 2, 2, 0, 0, 3, false }, /* a start that is no multiple of the step (another world size) */
	};
	for (size_t k = 0; k < FT_ARRAY_LEN(cases); k++) {
		ft_loader_config lc;
		ft_loader_config_defaults(&lc);
		lc.batch = 8;
		lc.workers = cases[k].workers;
		lc.depth = cases[k].depth;
		lc.micro = cases[k].micro;
		lc.stride = cases[k].stride;
		lc.offset = cases[k].offset;
		lc.per_epoch = 12;
		lc.epoch = cases[k].epoch;
		lc.index = cases[k].index;
		lc.staging = cases[k].pageable ? FT_STAGING_PAGEABLE : FT_STAGING_PINNED;
		char what[128];
		snprintf(what, sizeof(what), "loader case %zu (-j %d, depth %d, K %d, stride %lld, %s)", k, lc.workers,
			 lc.depth, lc.micro, (long long)lc.stride, cases[k].pageable ? "pageable" : "pinned");
		loader_matches(ds, &lc, 2 * lc.per_epoch / (lc.micro * lc.stride) + 3, what);
	}

	/* the ring is allocated once, through the allocator, and freed at the end */
	count_alloc ca = { 0 };
	ft_staging_allocator al = { counted_alloc, counted_free, &ca };
	ft_loader_config lc;
	ft_loader_config_defaults(&lc);
	lc.batch = 8;
	lc.per_epoch = 12;
	lc.depth = 2;
	lc.workers = 2;
	lc.allocator = &al;
	ft_loader *ld = NULL;
	CHECK(ft_loader_new(ds, &lc, &ld) == FT_OK, "%s", ft_last_error());
	int after_new = ca.allocs;
	for (int p = 0; ld && p < 30; p++) {
		ft_loader_slot sl;
		CHECK(ft_loader_next(ld, &sl) == FT_OK, "%s", ft_last_error());
		ft_loader_release(ld, &sl);
	}
	CHECK(after_new == 4 && ca.allocs == 4, "allocator: %d allocations at start, %d after 30 slots (want 4, 4)",
	      after_new, ca.allocs);
	ft_loader_free(ld);
	CHECK(ca.frees == 4, "allocator: %d frees (want 4)", ca.frees);

	/* limit: the slots after the last are an error, not a hang */
	lc.allocator = NULL;
	lc.limit = 2;
	CHECK(ft_loader_new(ds, &lc, &ld) == FT_OK, "%s", ft_last_error());
	for (int p = 0; ld && p < 3; p++) {
		ft_loader_slot sl;
		ft_status st = ft_loader_next(ld, &sl);
		CHECK((st == FT_OK) == (p < 2), "limit 2: slot %d gave %d", p, st);
		if (st == FT_OK)
			ft_loader_release(ld, &sl);
	}
	ft_loader_free(ld);
	/* a configuration the dataset cannot serve */
	lc.limit = 0;
	lc.per_epoch = 14; /* 13 is fine: the last is partial, which evaluation wants */
	ld = NULL;
	CHECK(ft_loader_new(ds, &lc, &ld) == FT_EBADINPUT && !ld, "14 batches of 8 from 100 images accepted");
	ft_dataset_free(ds);
}

/* ---- the random-resized-crop box ------------------------------------------ */

/*
 * torchvision's RandomResizedCrop.get_params: inside the image, area 8-100%
 * and aspect ratio 3/4-4/3 of the drawn box up to the rounding of its sides
 * to whole pixels, the whole range drawn; the central crop when no try fits.
 */
static void test_rrc_box(void)
{
	int h0 = 90, w0 = 100, outside = 0, off_range = 0, box[4]; /* ratio 10/9: the whole image is a candidate */
	double lo = 1, hi = 0;
	for (int64_t i = 0; i < 4000; i++) {
		ft_data_rrc_box(3, i % 7, i, h0, w0, box);
		int x = box[0], y = box[1], w = box[2], h = box[3];
		outside += x < 0 || y < 0 || w < 1 || h < 1 || x + w > w0 || y + h > h0;
		double frac = (double)w * h / (h0 * w0);
		lo = fmin(lo, frac);
		hi = fmax(hi, frac);
		/* sides rounded to whole pixels: up to half a pixel each way */
		off_range += (w + 0.5) * (h + 0.5) < 0.08 * h0 * w0 || (w - 0.5) / (h + 0.5) > 4.0 / 3 ||
			     (w + 0.5) / (h - 0.5) < 3.0 / 4;
	}
	CHECK(outside == 0 && off_range == 0, "rrc boxes: %d outside the image, %d off the area/ratio range",
	      outside, off_range);
	CHECK(lo < 0.1 && hi > 0.9, "rrc boxes: area fractions %.3f..%.3f, want about 0.08..1", lo, hi);
	/* a 1 x 100 strip: no try fits; the central crop of ratio 4/3 rounds to 1 x 1 at x = 49 */
	ft_data_rrc_box(3, 0, 0, 1, 100, box);
	CHECK(box[0] == 49 && box[1] == 0 && box[2] == 1 && box[3] == 1, "1 x 100 fallback box %d %d %d %d",
	      box[0], box[1], box[2], box[3]);
	ft_data_rrc_box(3, 0, 0, 100, 2, box); /* 100 x 2: width 2, height round(2 / (3/4)) = 3 */
	CHECK(box[0] == 0 && box[1] == 48 && box[2] == 2 && box[3] == 3, "100 x 2 fallback box %d %d %d %d",
	      box[0], box[1], box[2], box[3]);
}

/* ---- ImageFolder: errors, skip_bad, crops ---------------------------------- */

/* the first n slots of a loader over cfg into img (n * slot bytes) and lab; the first error's status */
/*
 * n slots of batch through a loader of `workers` into img/lab; with ahead, as the GPU
 * training loop takes them (ft_loader_ahead: the next slot fetched before a step).
 * *at: the position whose slot failed (n when none).
 */
static ft_status run_loader_at(const ft_data_config *cfg, int workers, int64_t batch, int64_t n, bool ahead,
			       uint8_t *img, int64_t *lab, char *err, size_t err_len, int64_t *at)
{
	ft_dataset *ds = open_ok(cfg);
	*at = n;
	if (!ds)
		return FT_ERUNTIME;
	ft_loader_config lc;
	ft_loader_config_defaults(&lc);
	lc.batch = batch;
	lc.workers = workers;
	lc.per_epoch = ft_dataset_size(ds) / batch;
	ft_loader *ld = NULL;
	ft_status st = ft_loader_new(ds, &lc, &ld);
	ft_loader_ahead la;
	if (st == FT_OK)
		ft_loader_ahead_init(&la, ld, ahead);
	size_t bytes = (size_t)batch * (size_t)cfg->channels * (size_t)cfg->height * (size_t)cfg->width;
	for (int64_t p = 0; st == FT_OK && p < n; p++) {
		const void *next;
		st = ft_loader_ahead_next(&la, p + 1 < n, &next);
		if (st == FT_OK) {
			memcpy(img + (size_t)p * bytes, la.cur.images, bytes);
			memcpy(lab + p * batch, la.cur.labels, sizeof(int64_t) * (size_t)batch);
		} else {
			*at = p;
		}
		ft_loader_ahead_done(&la);
	}
	if (st != FT_OK)
		snprintf(err, err_len, "%s", ft_last_error());
	if (ld)
		ft_loader_ahead_end(&la);
	ft_loader_free(ld);
	ft_dataset_free(ds);
	return st;
}

static ft_status run_loader(const ft_data_config *cfg, int workers, int64_t batch, int64_t n, uint8_t *img,
			    int64_t *lab, char *err, size_t err_len)
{
	int64_t at;
	return run_loader_at(cfg, workers, batch, n, false, img, lab, err, err_len, &at);
}

static int pixel(int k, int j, int y, int x, int c)
{
	return 20 + 40 * k + j + 2 * y + 2 * x + 15 * c;
}

static void test_folder(const char *python, const char *tests_dir)
{
	if (!python[0]) {
		printf("SKIP ImageFolder loader tests: no python3 to make the trees\n");
		return;
	}
	char cmd[2048], tree[1100], path[1200], err[2048];
	snprintf(tree, sizeof(tree), "%s/tree", work);
	snprintf(cmd, sizeof(cmd), "'%s' '%s/make_imagefolder.py' tree '%s'", python, tests_dir, tree);
	if (system(cmd) != 0) {
		CHECK(0, "%s failed (needs python3-pil)", cmd);
		return;
	}
	enum { N = 64 * 3 * 24 * 24 };
	uint8_t *a = malloc(N), *b = malloc(N);
	int64_t la[64], lb[64];

	/* an unreadable image is the error of its slot, the same with 1 and 3 workers */
	snprintf(path, sizeof(path), "%s/bad_files", tree);
	ft_data_config cfg = loader_config(path, true, 3, 8, 8);
	for (int w = 1; w <= 3; w += 2) {
		ft_status st = run_loader(&cfg, w, 1, 5, a, la, err, sizeof(err));
		CHECK(st == FT_EBADINPUT && strstr(err, "train/a_cat/002.jpg") && strstr(err, "truncated JPEG"),
		      "-j %d: bad_files: %d \"%s\"", w, st, err);
	}
	/*
	 * one step ahead (the GPU loop): the bad slot is fetched a step early, its error kept and
	 * reported when its step comes; the slots before it arrive, with the same bytes
	 */
	{
		int64_t at_plain, at_ahead;
		char err2[2048];
		ft_status s1 = run_loader_at(&cfg, 2, 1, 5, false, a, la, err, sizeof(err), &at_plain);
		ft_status s2 = run_loader_at(&cfg, 2, 1, 5, true, b, lb, err2, sizeof(err2), &at_ahead);
		CHECK(s1 == FT_EBADINPUT && s2 == FT_EBADINPUT && at_plain == at_ahead && at_plain > 0 &&
		      !strcmp(err, err2) && !memcmp(a, b, (size_t)at_plain * 3 * 64),
		      "ahead: the bad slot's error at %lld (plain %lld), \"%s\" against \"%s\"", (long long)at_ahead,
		      (long long)at_plain, err2, err);
	}
	/* with skip_bad: a warning, the next readable image, and the same bytes for any worker count */
	cfg.skip_bad = true;
	ft_status s1 = run_loader(&cfg, 1, 1, 5, a, la, err, sizeof(err));
	ft_status s2 = run_loader(&cfg, 3, 1, 5, b, lb, err, sizeof(err));
	CHECK(s1 == FT_OK && s2 == FT_OK && !memcmp(a, b, 5 * 3 * 64) && !memcmp(la, lb, sizeof(int64_t) * 5),
	      "skip_bad: -j 1 and -j 3 differ (%d %d)", s1, s2);

	/* RRC: deterministic for a seed whatever the workers; other epochs, other crops */
	snprintf(path, sizeof(path), "%s/good", tree);
	cfg = loader_config(path, true, 3, 24, 24);
	cfg.crop = FT_CROP_RRC;
	s1 = run_loader(&cfg, 1, 6, 3, a, la, err, sizeof(err));
	s2 = run_loader(&cfg, 2, 6, 3, b, lb, err, sizeof(err));
	CHECK(s1 == FT_OK && s2 == FT_OK && !memcmp(a, b, 18 * 3 * 576) && !memcmp(la, lb, sizeof(int64_t) * 18),
	      "rrc: -j 1 and -j 2 differ");
	ft_dataset *ds = open_ok(&cfg);
	cfg.crop = FT_CROP_NONE;
	ft_dataset *plain = open_ok(&cfg);
	if (ds && plain) {
		CHECK(ft_dataset_crop(ds) == FT_CROP_RRC, "crop is %d", ft_dataset_crop(ds));
		ft_dataset_batch_u8(ds, 0, 0, 18, a, la);
		ft_dataset_batch_u8(ds, 1, 0, 18, b, lb);
		int same_epochs = 0, same_plain = 0;
		uint8_t *p = malloc(18 * 3 * 576);
		int64_t lp[18];
		ft_dataset_batch_u8(plain, 1, 0, 18, p, lp);
		/* epoch 1 of both: the same order, other pixels */
		for (int i = 0; i < 18; i++)
			same_plain += !memcmp(b + i * 1728, p + i * 1728, 1728);
		int64_t pos0[18], pos1[18];
		ft_dataset_order(ds, 0, 0, 18, pos0);
		ft_dataset_order(ds, 1, 0, 18, pos1);
		for (int i = 0; i < 18; i++)
			for (int j = 0; j < 18; j++)
				if (pos0[i] == pos1[j])
					same_epochs += !memcmp(a + i * 1728, b + j * 1728, 1728);
		CHECK(same_plain < 3, "rrc: %d of 18 crops equal the plain resize", same_plain);
		CHECK(same_epochs < 3, "rrc: %d of 18 images cropped alike in epochs 0 and 1", same_epochs);
		free(p);
	}
	ft_dataset_free(ds);
	ft_dataset_free(plain);

	/*
	 * held-out with RRC: the shorter side to int(24 * 256 / 224) = 27, the center
	 * 24 x 24 (torchvision's Resize + CenterCrop); val images are 16 x 20 PNGs
	 * (exact pixels), so the expectation is the resize of the known pixels.
	 */
	cfg = loader_config(path, false, 3, 24, 24);
	cfg.crop = FT_CROP_RRC;
	ds = open_ok(&cfg);
	if (ds) {
		ft_dataset_batch_u8(ds, 0, 0, 2, a, la);
		/* 16 x 20 -> 27 x 33 (int(27 * 20 / 16)); the crop at (round(1.5), round(4.5)) = (2, 4) */
		int rh = 27, rw = 33, oy = 2, ox = 4;
		float *src = malloc(sizeof(float) * 16 * 20), *r = malloc(sizeof(float) * (size_t)rh * (size_t)rw);
		int maxd = 0;
		for (int c = 0; c < 3; c++) {
			for (int y = 0; y < 16; y++)
				for (int x = 0; x < 20; x++)
					src[y * 20 + x] = (float)pixel(0, 1, y, x, c); /* val/a_cat/001.png, RGB */
			ft_data_resize_bilinear(r, rh, rw, src, 16, 20);
			for (int y = 0; y < 24; y++)
				for (int x = 0; x < 24; x++) {
					int want = (int)lrintf(r[(y + oy) * rw + x + ox]);
					int d = abs(want - a[1728 + (c * 24 + y) * 24 + x]);
					maxd = d > maxd ? d : maxd;
				}
		}
		CHECK(maxd == 0, "eval center crop: max difference %d levels from resize-then-cut", maxd);
		free(src);
		free(r);
		ft_dataset_free(ds);
	}
	free(a);
	free(b);
}

/* ---- packs --------------------------------------------------------------- */

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		fprintf(stderr, "cannot write %s\n", path), exit(1);
}

static void *read_all(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	void *p = malloc(*n + 1);
	if (fread(p, 1, *n, f) != *n)
		*n = 0;
	fclose(f);
	return p;
}

static void pack_refused(const char *path, const char *s1)
{
	ft_data_config cfg = loader_config(path, true, 3, 16, 16);
	ft_dataset *ds = NULL;
	ft_clear_error();
	ft_status st = ft_dataset_open(&cfg, &ds);
	CHECK(st == FT_EBADINPUT && !ds && strstr(ft_last_error(), path) && strstr(ft_last_error(), s1),
	      "damaged pack %s: %d \"%s\" (want \"%s\")", path, st, ft_last_error(), s1);
	ft_dataset_free(ds);
}

static void test_pack(const char *python)
{
	if (!python[0]) {
		printf("SKIP packs: no python3 to make the ImageFolder tree\n");
		return;
	}
	char tree[1100], pack[1100], bad[1100];
	snprintf(tree, sizeof(tree), "%s/tree/good", work);
	snprintf(pack, sizeof(pack), "%s/good.ftpk", work);
	ft_pack_options opt = { .size = 16, .workers = 2, .quiet = true };
	ft_status st = ft_pack_write(tree, pack, &opt);
	CHECK(st == FT_OK, "pack %s: %s", tree, ft_last_error());
	if (st)
		return;
	/* both splits read back as the ImageFolder at 16 x 16 with the center crop: the same bytes */
	for (int split = 0; split < 2; split++) {
		ft_data_config pc = loader_config(pack, split == 0, 3, 16, 16), fc = loader_config(tree, split == 0, 3, 16, 16);
		pc.hflip = fc.hflip = false;
		fc.crop = FT_CROP_CENTER;
		pc.crop = FT_CROP_AUTO; /* a pack of an ImageFolder: RRC in training */
		ft_dataset *dp = open_ok(&pc), *df = open_ok(&fc);
		if (!dp || !df) {
			ft_dataset_free(dp);
			ft_dataset_free(df);
			continue;
		}
		CHECK(ft_dataset_crop(dp) == FT_CROP_RRC, "pack of an ImageFolder: crop %d", ft_dataset_crop(dp));
		ft_dataset_free(dp);
		pc.crop = FT_CROP_NONE;
		dp = open_ok(&pc);
		int64_t n = ft_dataset_size(df);
		CHECK(ft_dataset_size(dp) == n && ft_dataset_classes(dp) == 3 &&
		      !strcmp(ft_dataset_class_name(dp, 2), "c_eel"), "pack: %lld images, %d classes",
		      (long long)ft_dataset_size(dp), ft_dataset_classes(dp));
		uint8_t *a = malloc((size_t)n * 768), *b = malloc((size_t)n * 768);
		int64_t la[32], lb[32];
		CHECK(ft_dataset_batch_u8(dp, 0, 0, n, a, la) == FT_OK && ft_dataset_batch_u8(df, 0, 0, n, b, lb) == FT_OK,
		      "%s", ft_last_error());
		CHECK(!memcmp(a, b, (size_t)n * 768) && !memcmp(la, lb, sizeof(int64_t) * (size_t)n),
		      "pack split %d differs from the ImageFolder it was made from", split);
		free(a);
		free(b);
		ft_dataset_free(dp);
		ft_dataset_free(df);
	}
	/* damaged packs are refused at open, naming the file and what is wrong */
	size_t n;
	uint8_t *p = read_all(pack, &n);
	if (!p || n < 4096 + 64)
		return;
	snprintf(bad, sizeof(bad), "%s/bad_magic.ftpk", work);
	p[0] ^= 1;
	write_file(bad, p, n);
	pack_refused(bad, "not an ftrun pack");
	p[0] ^= 1;
	snprintf(bad, sizeof(bad), "%s/truncated.ftpk", work);
	write_file(bad, p, n - 1);
	pack_refused(bad, "truncated pack");
	write_file(bad, p, 40);
	pack_refused(bad, "shorter than its header");
	snprintf(bad, sizeof(bad), "%s/version.ftpk", work);
	p[8] = 9;
	write_file(bad, p, n);
	pack_refused(bad, "pack version 9");
	p[8] = FT_PACK_VERSION;
	snprintf(bad, sizeof(bad), "%s/label.ftpk", work);
	ft_pack_header h;
	ft_pack_header_decode(p, &h);
	uint64_t lo, ro, total;
	ft_pack_layout(&h, &lo, &ro, &total);
	CHECK(total == n, "pack: %zu bytes, layout says %llu", n, (unsigned long long)total);
	p[lo] ^= 0x40; /* the first label */
	write_file(bad, p, n);
	pack_refused(bad, "corrupt pack");
	p[lo] ^= 0x40;
	snprintf(bad, sizeof(bad), "%s/count.ftpk", work);
	p[40] += 1; /* one more training record than the file holds */
	write_file(bad, p, n);
	pack_refused(bad, "truncated pack");
	p[40] -= 1;
	/* every bit of the header, names and labels matters: one flipped anywhere there is refused */
	snprintf(bad, sizeof(bad), "%s/flip.ftpk", work);
	int accepted = 0, crashed_not = 0;
	for (uint64_t off = 0; off < lo + 4 * (h.count[0] + h.count[1]); off++) {
		uint8_t bit = (uint8_t)(1u << (off % 8));
		p[off] ^= bit;
		write_file(bad, p, n);
		p[off] ^= bit;
		ft_data_config fc = loader_config(bad, off % 2 == 0, 3, 16, 16);
		ft_dataset *ds = NULL;
		ft_status fst = ft_dataset_open(&fc, &ds);
		accepted += fst == FT_OK;
		crashed_not += fst == FT_OK || fst == FT_EBADINPUT;
		ft_dataset_free(ds);
	}
	write_file(bad, p, n); /* the control: the same file unflipped opens */
	ft_data_config fc = loader_config(bad, true, 3, 16, 16);
	ft_dataset *ctl = open_ok(&fc);
	ft_dataset_free(ctl);
	CHECK(accepted == 0 && crashed_not == (int)(lo + 4 * (h.count[0] + h.count[1])),
	      "flipped bits: %d damaged packs accepted, %d refused with another status", accepted,
	      (int)(lo + 4 * (h.count[0] + h.count[1])) - crashed_not);
	free(p);
	/* a source that cannot be packed */
	snprintf(bad, sizeof(bad), "%s/tree/bad_empty", work);
	st = ft_pack_write(bad, pack, &opt);
	CHECK(st == FT_EBADINPUT && strstr(ft_last_error(), "empty class folder"), "pack of bad_empty: %d %s", st,
	      ft_last_error());
}

/* ---- the loader benchmark ---------------------------------------------------- */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench(const char *data, int64_t batch, int size, int epochs, bool pageable, const char *augment)
{
	printf("%-8s %-7s %-8s %10s  %s %s\n", "size", "workers", "images", "images/s", pageable ? "pageable" : "pinned",
	       augment ? augment : "auto");
	for (int w = 1; w <= 2; w++) {
		ft_data_config cfg = loader_config(data, true, 3, size, size);
		cfg.crop = !augment ? FT_CROP_AUTO : !strcmp(augment, "rrc") ? FT_CROP_RRC : FT_CROP_NONE;
		cfg.hflip = !augment || strcmp(augment, "none") != 0;
		ft_dataset *ds = NULL;
		if (ft_dataset_open(&cfg, &ds) != FT_OK) {
			fprintf(stderr, "%s\n", ft_last_error());
			return 1;
		}
		ft_loader_config lc;
		ft_loader_config_defaults(&lc);
		lc.batch = batch;
		lc.workers = w;
		lc.staging = pageable ? FT_STAGING_PAGEABLE : FT_STAGING_PINNED;
		lc.per_epoch = ft_dataset_batches(ds, batch);
		lc.limit = lc.per_epoch * epochs + 1;
		ft_loader *ld;
		if (ft_loader_new(ds, &lc, &ld) != FT_OK) {
			fprintf(stderr, "%s\n", ft_last_error());
			return 1;
		}
		/* one batch to warm the page cache, then the epochs */
		ft_loader_slot sl;
		double t0 = 0;
		for (int64_t b = 0; b < lc.limit; b++) {
			if (ft_loader_next(ld, &sl) != FT_OK) {
				fprintf(stderr, "%s\n", ft_last_error());
				return 1;
			}
			ft_loader_release(ld, &sl);
			if (b == 0)
				t0 = now();
		}
		double dt = now() - t0;
		int64_t images = (lc.limit - 1) * batch;
		printf("%3dx%-4d %-7d %-8lld %10.0f\n", size, size, w, (long long)images, (double)images / dt);
		ft_loader_free(ld);
		ft_dataset_free(ds);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--bench")) {
		bool pageable = false;
		const char *augment = NULL;
		for (int i = 6; i < argc; i++) {
			if (!strcmp(argv[i], "pageable"))
				pageable = true;
			else
				augment = argv[i];
		}
		return bench(argv[2], argc > 3 ? atoll(argv[3]) : 64, argc > 4 ? atoi(argv[4]) : 32,
			     argc > 5 ? atoi(argv[5]) : 1, pageable, augment);
	}
	if (argc != 4) {
		fprintf(stderr, "usage: test_loader PYTHON TESTS_DIR WORK_DIR | --bench DATA [BATCH [SIZE]]\n");
		return 2;
	}
	work = argv[3];
	mkdir(work, 0755);
	test_normalize();
	test_loader();
	test_rrc_box();
	test_folder(argv[1], argv[2]);
	test_pack(argv[1]);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
