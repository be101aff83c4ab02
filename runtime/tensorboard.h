/*
 * tensorboard.h - training metrics as TensorBoard event files (`ftrun train --tensorboard DIR`).
 *
 * A writer owns one file, DIR/events.out.tfevents.<unix secs>.<hostname>.<pid>.ftrun
 * (TensorBoard reads every file in DIR whose name contains "tfevents"). The file is a
 * sequence of records, each (little-endian)
 *   u64 length, u32 masked_crc32c(length bytes), payload[length], u32 masked_crc32c(payload)
 * with masked_crc(c) = ((c >> 15) | (c << 17)) + 0xa282ead8, and every payload a serialized
 * Event of schemas/tb_event.proto (wire-compatible with TensorFlow's event.proto). The
 * first record is Event{file_version: "brain.Event:2"}; each scalar is one Event holding
 * a Summary with one Value{tag, simple_value}.
 *
 * A resumed run opens a new file in the same DIR; TensorBoard merges the files of a run.
 * Records go through a stdio buffer: ft_tb_flush puts them in the file and reports a
 * failed write. A writer is used by one thread at a time.
 */
#ifndef FT_TENSORBOARD_H
#define FT_TENSORBOARD_H

#include "base.h"

typedef struct ft_tb_writer ft_tb_writer;

/* Creates DIR if it is missing (not its parents), then the event file in it (never an
 * existing one), and writes the file_version record. On failure *out is NULL. */
ft_status ft_tb_open(const char *dir, ft_tb_writer **out);
/* Appends one scalar: tag (e.g. "train/loss"), the step on TensorBoard's x axis,
 * wall_time in seconds since the epoch (ft_tb_now()). */
ft_status ft_tb_scalar(ft_tb_writer *w, const char *tag, int64_t step, double wall_time, float value);
ft_status ft_tb_flush(ft_tb_writer *w);
/* Flushes and closes; NULL is allowed. Call ft_tb_flush first to learn of a failed write. */
void ft_tb_close(ft_tb_writer *w);

/* The file's path (for messages). */
const char *ft_tb_path(const ft_tb_writer *w);
/* Seconds since the epoch (CLOCK_REALTIME), the clock TensorBoard's wall_time uses. */
double ft_tb_now(void);

#endif
