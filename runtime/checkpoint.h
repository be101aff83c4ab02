/*
 * checkpoint.h - training checkpoints.
 *
 * A checkpoint holds everything a run needs to continue as if it had not
 * stopped: every parameter, BatchNorm state and training buffer (optimizer
 * state, accumulated gradients, per-step scalars) by name, and the run's
 * position (step, epoch, batch within the epoch, seed). The data order is a
 * pure function of (seed, epoch, batch), so that position is the RNG state.
 *
 * File layout (little-endian):
 *   "FTCKPT01"  u32 n_meta  { u32 key_len, key, i64 value } * n_meta
 *   u32 n_tensors { u32 name_len, name, u32 dtype (ONNX), u32 rank, i64 dims[rank], u64 bytes, data } * n
 *   u32 crc32c of everything before it, "FTCKEND1"
 * Written atomically: a temp file in the same folder, fsync, rename, fsync of
 * the folder; a crash at any point leaves the previous checkpoint intact.
 * Loading checks the checksum before it changes anything. The buffers that
 * follow from the configuration (gradient accumulation buffers, the dLoss seed
 * 1/K) are skipped on load, so a run may resume with another accumulation and
 * at another world size (docs/distributed.md).
 */
#ifndef FT_CHECKPOINT_H
#define FT_CHECKPOINT_H

#include "ir.h"

typedef struct ft_ckpt_meta {
	int64_t step;        /* optimizer steps taken */
	int64_t epoch;       /* current epoch (0-based) */
	int64_t batch;       /* next batch index within the epoch (counts micro-batches) */
	int64_t seed;
	int64_t micro_batch; /* batch size and accumulation the run used */
	int64_t grad_accum;
} ft_ckpt_meta;

/* Saves every PARAM, STATE and BUFFER tensor of g (host data) with meta. */
ft_status ft_checkpoint_save(const ft_graph *g, const ft_ckpt_meta *meta, const char *path);
/* Verifies path and loads it into g's tensors of the same names, dtypes and shapes. */
ft_status ft_checkpoint_load(ft_graph *g, ft_ckpt_meta *meta, const char *path);

uint32_t ft_crc32c(uint32_t crc, const void *data, size_t len);

#endif
