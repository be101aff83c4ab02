/*
 * loader.h - the input pipeline: worker threads that decode and augment
 * batches ahead of the training step into a ring of staging buffers
 * (DESIGN.md: data loader -> pinned staging ring -> copy -> on-device
 * normalise).
 *
 * The loader walks a sequence of positions (epoch, index) of a dataset
 * (data.h) and hands out one slot per position: `micro` consecutive batches
 * of `batch` images as uint8 (micro * batch, C, H, W) and their int64 labels,
 * which is what one optimizer step takes (ft_trainer_step with a uint8 input,
 * train.h). Up to `depth` slots are filled ahead of the consumer; `workers`
 * threads take the samples of the oldest unfilled slot first, one sample at
 * a time, so the first batch arrives as soon as all workers can make it.
 *
 * Order: position p of the sequence is (epoch, index) starting at the
 * config's (epoch, index); index counts dataset batches, advances by
 * micro * stride and wraps to 0 of the next epoch when fewer than that are
 * left of `per_epoch` (the training loop's epoch end). Micro-batch m of a slot
 * reads dataset batch index + m * stride + offset of the epoch: with stride 1
 * and offset 0, batches index .. index + micro - 1; under data parallelism
 * (stride = W ranks, offset = rank r) the ranks' micro-batches are
 * interleaved positions of the global batch, dist.h's pos + m*W + r. What a
 * slot holds is a pure function of the dataset's seed and its position,
 * whatever `workers` and `depth` are (data.h's determinism).
 *
 * Staging: FT_STAGING_PINNED allocates the ring once, at ft_loader_new,
 * through the allocator (default: 64-byte aligned host memory; the CUDA
 * backend will pass cudaHostAlloc / cudaFreeHost) and reuses it for every
 * batch. FT_STAGING_PAGEABLE (`--no-pin-mem`) instead gives every batch a
 * fresh malloc'd buffer, freed when the slot is released, as an unpinned
 * PyTorch DataLoader hands out new tensors: on a GPU that is the pageable copy
 * path to compare against; on the CPU, where nothing is copied to a device,
 * it only adds a malloc/free per batch.
 *
 * Threads: ft_loader_next, ft_loader_release and ft_loader_get_stats are
 * called from one consumer thread. The workers only read the dataset (data.h
 * allows that).
 */
#ifndef FT_LOADER_H
#define FT_LOADER_H

#include "data.h"
#include "ir.h"

typedef enum ft_staging_kind {
	FT_STAGING_PINNED,      /* a ring allocated once and reused (page-locked on a GPU) */
	FT_STAGING_PAGEABLE,    /* a plain malloc per batch */
} ft_staging_kind;

/* Where pinned staging memory comes from. */
typedef struct ft_staging_allocator {
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *p);
	void *ctx;
} ft_staging_allocator;

typedef struct ft_loader_config {
	int64_t batch;          /* images per micro-batch */
	int micro;              /* micro-batches per slot (gradient accumulation K), >= 1 */
	int64_t per_epoch;      /* dataset batches an epoch has (full ones for training; at most ceil(n / batch)) */
	int64_t epoch, index;   /* the first position (index in dataset batches) */
	int64_t stride, offset; /* micro-batch m reads batch index + m * stride + offset (1, 0) */
	int64_t limit;          /* slots to make in all (<= 0: no end) */
	int workers;            /* decode threads (<= 0: one per core) */
	int depth;              /* slots in the ring (<= 0: FT_LOADER_DEFAULT_DEPTH) */
	ft_staging_kind staging;
	const ft_staging_allocator *allocator; /* pinned staging; NULL: aligned host memory */
} ft_loader_config;

enum { FT_LOADER_DEFAULT_DEPTH = 3 };

void ft_loader_config_defaults(ft_loader_config *c);

/* One staged step of data. Valid until ft_loader_release. */
typedef struct ft_loader_slot {
	uint8_t *images;        /* (micro * batch, C, H, W) */
	int64_t *labels;        /* (micro * batch); -1 past the end of a held-out split */
	int64_t epoch, index;   /* its position */
	int id;                 /* private */
} ft_loader_slot;

/* What the consumer can report (the share of a step spent waiting for data). */
typedef struct ft_loader_stats {
	double wait_s;          /* time ft_loader_next blocked */
	int64_t slots;          /* slots handed out */
	int64_t images;         /* images in them */
	int64_t bytes_staged;   /* image and label bytes written to staging */
} ft_loader_stats;

typedef struct ft_loader ft_loader;

/* Starts the workers; the dataset must outlive the loader. */
ft_status ft_loader_new(ft_dataset *ds, const ft_loader_config *cfg, ft_loader **out);
/*
 * The next slot in sequence, waiting for it if needed. An unreadable image
 * is the error of the slot that holds it (ft_error message naming the file),
 * so errors come in position order, as an unprefetched run would meet them.
 */
ft_status ft_loader_next(ft_loader *ld, ft_loader_slot *slot);
/* Gives the slot back to the ring for a later position. */
void ft_loader_release(ft_loader *ld, ft_loader_slot *slot);
ft_loader_stats ft_loader_get_stats(ft_loader *ld);
/* Stops the workers (finishing the sample each holds) and frees the ring. */
void ft_loader_free(ft_loader *ld);

/* bytes of a slot's images */
size_t ft_loader_slot_bytes(const ft_loader *ld);

/*
 * A consumer one step ahead, for a trainer that copies the next step's images
 * while a step computes (ft_trainer_step_ahead, train.h): ft_loader_ahead_next
 * hands out this step's slot in a->cur and, when on and another step follows,
 * fetches the next step's too. An error of that one is kept and reported by
 * the call that hands it out, so errors still come in position order. On
 * needs a ring of two slots or more: with one, init turns it off.
 */
typedef struct ft_loader_ahead {
	ft_loader *ld;
	bool on;
	ft_loader_slot cur, next;
	bool has_next;
	ft_status next_st;      /* the next slot's error, and its message */
	char next_msg[512];
} ft_loader_ahead;

void ft_loader_ahead_init(ft_loader_ahead *a, ft_loader *ld, bool on);
/* this step's slot into a->cur; *next_images: the next step's, fetched now (NULL: none) */
ft_status ft_loader_ahead_next(ft_loader_ahead *a, bool more, const void **next_images);
/* gives a->cur back (after its step) */
void ft_loader_ahead_done(ft_loader_ahead *a);
/* gives back what it holds (the run ends) */
void ft_loader_ahead_end(ft_loader_ahead *a);

/*
 * The device half: makes graph input `input` (float images (N,C,H,W)) a
 * uint8 input, with an ImageNormalize node at the head of the graph that
 * computes (x / 255 - mean[c]) / std[c] into the old tensor (std 0 means 1).
 * Call it on a specialised graph before autodiff; g->inputs[input] then names
 * the uint8 tensor.
 */
ft_status ft_graph_input_u8(ft_graph *g, int input, const float mean[3], const float std[3]);

/* The backend's page-locked host allocator as a staging allocator (false: it has none; the default is used). */
struct ft_backend;
bool ft_backend_staging(const struct ft_backend *be, ft_staging_allocator *out);

#endif
