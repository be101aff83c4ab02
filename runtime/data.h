/*
 * data.h - the dataset reader that feeds training and evaluation.
 *
 * One dataset is one split of one source, seen as N labelled images adapted
 * to the model's input (C, H, W). Three sources (DESIGN.md, `--data`):
 *
 *   IDX folder    the MNIST layout: train-images-idx3-ubyte, train-labels-idx1-ubyte
 *                 and t10k-* for the held-out split, each gzipped (.gz) or not
 *                 (also the "train-images.idx3-ubyte" spelling). Read whole at
 *                 open and kept as uint8. classes = max label + 1 (at least 2).
 *   ImageFolder   PATH/train/<class>/<file>.{jpg,jpeg,png} and PATH/val/<class>/...
 *                 (extensions in any case; hidden files, other extensions and
 *                 subfolders of a class folder ignored: torchvision would walk
 *                 those). Classes are the sorted folder names of train/ (at least
 *                 2), as torchvision's ImageFolder has it; val/ is labelled with
 *                 the same list, so a val/ class that train/ lacks is an error (one
 *                 train/ has and val/ lacks is fine). Files are sorted by name
 *                 (byte order) within a class. Grey, RGB, palette and 16-bit PNGs
 *                 and grey, YCbCr and (Adobe) CMYK JPEGs read; alpha is dropped,
 *                 as PIL's convert('RGB') does. Only the file list
 *                 is read at open; images are decoded at batch time (TurboJPEG,
 *                 libpng, told apart by content, not extension) on `workers`
 *                 threads.
 *   pack file     a file made by `ftrun pack` (pack.h): both splits as decoded
 *                 uint8 records, memory-mapped; a damaged or truncated pack is
 *                 refused at open.
 *   "synthetic"   synthetic_size images generated from (seed, split, index):
 *                 each is half a fixed random template of its class and half
 *                 noise, so a network can learn it and the loss falls.
 *
 * Adapting an image to the model's input, in this order (a PyTorch recipe that
 * does the same steps gets the same floats to rounding):
 *   1. to float, channels: 1 -> 3 replicates, 3 -> 1 is the ITU-R 601
 *      luminance 0.299 R + 0.587 G + 0.114 B (not rounded);
 *   2. geometry (cfg.crop), each resize bilinear as torch.nn.functional.
 *      interpolate(mode='bilinear', align_corners=False, antialias=False)
 *      (half-pixel centres; no antialiasing when shrinking), to the bit of
 *      PyTorch 1.13's NCHW CPU kernel (its 1-channel, channels-last kernel
 *      rounds differently in the last bit), skipped when the size matches:
 *        FT_CROP_NONE    resize the whole image to (H, W);
 *        FT_CROP_RRC     training: torchvision's RandomResizedCrop defaults
 *                        (area scale (0.08, 1), aspect ratio (3/4, 4/3), 10
 *                        tries, then the central crop fallback), the box
 *                        resized to (H, W); held-out: torchvision's
 *                        Resize(256) + CenterCrop(224) ratio, i.e. the shorter
 *                        side resized to int(max(H, W) * 256 / 224) (the longer
 *                        one in proportion, truncated) and the center (H, W) cut;
 *        FT_CROP_CENTER  shorter side resized to max(H, W), center cut (what
 *                        `ftrun pack` stores);
 *   3. x / 255, then (x - mean[c]) / std[c] (the float path), or rounded to
 *      the nearest uint8 (the uint8 path, which the graph's ImageNormalize
 *      node then scales and normalises with the same float expression: where
 *      no resize happens the two paths give the same bits, otherwise they
 *      differ by the rounding to uint8, at most half a level);
 *   4. training only, with hflip: mirrored left-right with probability 1/2.
 *
 * Determinism: a batch is a pure function of (seed, epoch, index, batch):
 * the order of a training epoch is a permutation drawn from (seed, epoch)
 * (identity for the held-out split), and the random choices of the sample at
 * dataset index i in epoch e (flip, crop box) are drawn from (seed, e, i). The worker count
 * changes nothing. So resuming at a batch gives the data an uninterrupted run
 * would have seen.
 *
 * Bad input is an FT_EBADINPUT (ft_error) naming the file or folder: at open
 * for a missing folder, an empty class folder, no images at all, a val/ class
 * missing from train/, broken IDX files; at batch time for an image that does
 * not decode (not an image, truncated JPEG or PNG). With skip_bad such an
 * image is instead reported once on stderr and replaced, in every epoch, by
 * the next readable sample in dataset order (wrapping), so the data stay a
 * pure function of (seed, epoch, index).
 */
#ifndef FT_DATA_H
#define FT_DATA_H

#include "base.h"

typedef enum ft_data_crop {
	FT_CROP_NONE,           /* resize the whole image (both splits) */
	FT_CROP_RRC,            /* training: random-resized-crop; held-out: resize + center crop */
	FT_CROP_CENTER,         /* shorter side to the target, center crop (both splits) */
	FT_CROP_AUTO,           /* RRC for ImageFolder trees and packs made from one, NONE otherwise */
} ft_data_crop;

typedef struct ft_data_config {
	const char *path;       /* IDX folder, ImageFolder root, or "synthetic" */
	bool train;             /* train split (IDX train-*, ImageFolder train/) or held-out (t10k-*, val/) */
	int channels, height, width; /* the model's input (1 or 3 channels): images are adapted to it */
	int64_t synthetic_size; /* images in the synthetic set (<= 0: 1024) */
	int synthetic_classes;  /* classes of the synthetic set (<= 0: 10) */
	uint64_t seed;
	int workers;            /* decode threads (<= 0: one per core) */
	bool hflip;             /* random horizontal flip (training split only) */
	ft_data_crop crop;      /* geometry (overview, step 2); the defaults say FT_CROP_NONE */
	float mean[3], std[3];  /* normalisation after scaling to [0,1]; channel 0 for 1 channel; std 0 means 1 */
	bool skip_bad;          /* skip unreadable images with a warning instead of failing */
} ft_data_config;

/* Zero mean, unit std, 1024 synthetic images of 10 classes, seed 0, one worker per core. */
void ft_data_config_defaults(ft_data_config *cfg);

typedef struct ft_dataset ft_dataset;

/* Opens the split cfg->train of cfg->path. cfg->path is copied; *out is NULL on error. */
ft_status ft_dataset_open(const ft_data_config *cfg, ft_dataset **out);
void ft_dataset_free(ft_dataset *ds);

int64_t ft_dataset_size(const ft_dataset *ds);
int ft_dataset_classes(const ft_dataset *ds);
/* Name of class k (ImageFolder folder name, or its number for IDX/synthetic). */
const char *ft_dataset_class_name(const ft_dataset *ds, int k);

/*
 * Batch `index` of epoch `epoch`, positions [index*batch, (index+1)*batch) of
 * the epoch's order: images is (batch, C, H, W) float32 normalised, labels
 * (batch) int64. Positions past the end of the epoch (only in the partial
 * last batch, index == size / batch, which evaluation wants) get label -1 and
 * zero images. Any other index is an error. Safe to call from several threads
 * at once on the same dataset (a prefetching loader may keep two in flight).
 */
ft_status ft_dataset_batch(ft_dataset *ds, int64_t epoch, int64_t index, int64_t batch,
			   float *images, int64_t *labels);
/* The same batch as uint8 (batch, C, H, W) before normalisation (overview, step 3). */
ft_status ft_dataset_batch_u8(ft_dataset *ds, int64_t epoch, int64_t index, int64_t batch,
			      uint8_t *images, int64_t *labels);

/*
 * One sample at a time, for a loader with threads of its own (loader.h).
 * ft_dataset_order gives the dataset indices of positions [start, start +
 * count) of the epoch's order (-1 past the end); ft_dataset_sample_u8 adapts
 * dataset index i (-1: zeros, label -1) as it is in epoch `epoch` into out
 * (C, H, W) uint8, using scratch sc, which belongs to one thread at a time.
 * Both are safe to call from several threads at once.
 */
typedef struct ft_data_scratch ft_data_scratch;
ft_data_scratch *ft_data_scratch_new(void);
void ft_data_scratch_free(ft_data_scratch *sc);
void ft_dataset_order(ft_dataset *ds, int64_t epoch, int64_t start, int64_t count, int64_t *index);
ft_status ft_dataset_sample_u8(ft_dataset *ds, int64_t epoch, int64_t i, ft_data_scratch *sc, uint8_t *out,
			       int64_t *label);
/* Dataset indices index[0, count) of epoch into out (count, C, H, W) uint8, on the dataset's workers. */
ft_status ft_dataset_samples_u8(ft_dataset *ds, int64_t epoch, const int64_t *index, int64_t count, uint8_t *out,
				int64_t *labels);
/* the model input a sample is adapted to */
void ft_dataset_input_shape(const ft_dataset *ds, int *channels, int *height, int *width);
/* the geometry in use (FT_CROP_AUTO resolved) */
ft_data_crop ft_dataset_crop(const ft_dataset *ds);
/* IDX: the images' own size and 1 channel; pack: the stored size; 0s for the others. */
void ft_dataset_source_shape(const ft_dataset *ds, int *channels, int *height, int *width);
/* where the images come from: FT_PACK_SRC_* of pack.h (a pack reports what it was made from) */
int ft_dataset_source_kind(const ft_dataset *ds);

/* Full batches per epoch (drop_last): size / batch. */
int64_t ft_dataset_batches(const ft_dataset *ds, int64_t batch);

/*
 * The resize step on its own, for tests and for anyone who must match it:
 * dst (oh, ow) from src (ih, iw), one channel, bilinear as in the overview.
 */
void ft_data_resize_bilinear(float *dst, int oh, int ow, const float *src, int ih, int iw);

/*
 * The random-resized-crop box (overview, step 2) of dataset index i in epoch
 * for an h0 x w0 image with seed: box = { x, y, w, h } in the image.
 */
void ft_data_rrc_box(uint64_t seed, int64_t epoch, int64_t i, int h0, int w0, int box[4]);

#endif
