/*
 * nccl_grads.h - gradients averaged over the ranks in GPU memory with NCCL (issue 7, the GPU half).
 *
 * libnccl.so.2 is opened at run time (dlopen), not linked: the toolkit's copy is 200 MB, the
 * device machines have their own (PyTorch's wheel), and a build or a single-GPU run must not
 * need it. Built with the CUDA backend only (FT_HAVE_CUDA); dist.c uses it when the trainer
 * runs on cuda and the world is larger than 1.
 *
 * Buckets (dist.c's plan) are packed into one flat device buffer with device-to-device copies
 * on the compute stream, right after the node that completes them; the NCCL stream waits for
 * that (an event) and all-reduces the bucket in place with ncclAvg, so the sum runs while the
 * backward goes on. ft_nccl_finish waits for every bucket with a deadline (polling the
 * stream's event and NCCL's asynchronous error, aborting the communicator at the deadline);
 * ft_nccl_unpack copies the averages back into the gradients on the compute stream.
 */
#ifndef FT_NCCL_GRADS_H
#define FT_NCCL_GRADS_H

#include "backend.h"

typedef struct ft_nccl ft_nccl;

enum { FT_NCCL_ID_BYTES = 128 }; /* sizeof(ncclUniqueId) */

/* whether libnccl.so.2 can be opened here; why gets dlopen's reason when not */
bool ft_nccl_available(char *why, size_t len);
/* rank 0's communicator id, to be sent to every rank (id: FT_NCCL_ID_BYTES) */
ft_status ft_nccl_unique_id(void *id);
/* this rank's communicator on be's GPU (a cuda backend) and a flat buffer of n floats */
ft_status ft_nccl_new(ft_backend be, const void *id, int rank, int size, size_t n, ft_nccl **out);
/* packs tensors t[0, count) (float32, device memory) at flat[off...) and posts their average */
void ft_nccl_post(ft_nccl *nc, const ft_tensor *const *t, int count, size_t off);
/* waits for every posted average (at most timeout_s; what names it in the error) */
ft_status ft_nccl_finish(ft_nccl *nc, double timeout_s, const char *what);
/* copies flat[off...) back into t[0, count) on the compute stream */
void ft_nccl_unpack(ft_nccl *nc, const ft_tensor *const *t, int count, size_t off);
void ft_nccl_free(ft_nccl *nc);

#endif
