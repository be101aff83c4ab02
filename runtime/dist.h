/*
 * dist.h - data-parallel training across processes (issue 7, the CPU half).
 *
 * One process per rank; every rank holds the whole model, trains on its own
 * shard of each global batch, and the gradients are averaged over the ranks
 * in buckets during the last micro-batch's backward, each sent as soon as its
 * gradients are final (ft_trainer's after_node hook), and waited for before
 * the optimizer nodes (the reduce hook, train.h): once per optimizer step
 * whatever the accumulation. The transport is MPI (Debian's Open MPI), with
 * the gradients staged through host memory on a device backend, except on
 * CUDA where NCCL averages them in device memory (nccl_grads.h; libnccl opened at run
 * time, the host path when it cannot be). With --sync-bn the BatchNorm nodes sum their statistics over the
 * ranks too (CPU backend). docs/distributed.md is the user's side of this page.
 *
 * Launchers (ft_dist_init reads the environment; the first that matches wins):
 *   mpirun (Open MPI)   OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK
 *   srun --mpi=pmix     PMIX_RANK / SLURM_STEP_NUM_TASKS / SLURM_LOCALID, inside a job
 *                       step (SLURM_STEP_ID set)
 *   other PMI launchers PMIX_RANK or PMI_RANK (MPICH's hydra)
 *   srun without PMIx   SLURM_PROCID / SLURM_STEP_NUM_TASKS / SLURM_LOCALID: refused
 *                       (exit 2; Debian's Open MPI needs PMIx to see the other ranks)
 *   torchrun-style      RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT (torchrun, or
 *                       by hand): the ranks meet over TCP at rank 0 and are joined
 *                       into one MPI communicator through ompi-server (dist_rdzv.h)
 *   nothing             a single process (world 1); MPI is not initialised
 * A world of 1 never initialises MPI, so a plain run is unchanged. The local rank
 * is MPI's count of the ranks on this machine (MPI_COMM_TYPE_SHARED; torchrun-style:
 * the lower ranks with this host name).
 * Without MPI in the build (meson -Dmpi=disabled, or no libopenmpi-dev) a world
 * larger than 1 is refused with a message (exit 2).
 *
 * Invariants a caller may rely on:
 *   - every collective has a deadline (timeout_s). A rank that does not arrive
 *     in time ends the job: the message names the rank(s) that did not arrive
 *     when this rank can know (rank 0 learns which ranks reached each
 *     collective; the others learn whether rank 0 did), then MPI_Abort. A
 *     rank that dies is also caught by mpirun itself, which ends the job.
 *   - the data of rank r at optimizer step position pos (global micro-batch
 *     index, in batches of the micro-batch size b), micro-batch m, is the
 *     dataset batch pos + m*W + r of size b (ft_dist_batch_index): the ranks'
 *     micro-batches are contiguous positions of the global batch, so W ranks x
 *     batch b see the samples of 1 rank x batch W*b, and the position advances
 *     by K*W per step.
 *   - the gradient buffer is planned once (ft_dist_attach); a step allocates
 *     nothing.
 */
#ifndef FT_DIST_H
#define FT_DIST_H

#include <signal.h>
#include <stdint.h>

#include "base.h"

struct ft_trainer;
struct ft_nccl;
typedef struct ft_dist_comm ft_dist_comm; /* the transport's state (dist_mpi.c) */

/* gradients sent together: parameters order[first, first + count) at flat[off, off + n) */
typedef struct ft_dist_bucket {
	int first, count;
	size_t off, n;
	int ready;              /* the node after which all of them are final (ft_trainer_grad_ready) */
} ft_dist_bucket;

typedef struct ft_dist {
	int rank, size, local_rank;
	const char *launcher;   /* "mpirun", "PMI", "srun", "torchrun", "single process" */
	double timeout_s;       /* deadline of every collective */
	int64_t step;           /* optimizer step of the next gradient all-reduce (messages) */
	float *flat;            /* planned: every gradient (bucket by bucket), the loss, the stop flag */
	size_t n_flat;
	size_t bucket_cap;      /* bytes of gradients per bucket (--bucket-cap-mb; 25 MiB as DDP's);
				   0: one bucket, sent after the backward */
	int n_buckets, next_bucket; /* buckets, and the next to send in this step */
	ft_dist_bucket *bucket;
	int *order;             /* parameter indices in flat's order: as their gradients become final */
	bool sending;           /* this step's buckets are open (dist_mpi.c's grads collective) */
	int *sent_after;        /* FT_DIST_TRACE=1: the node after which the first step sent each bucket */
	struct ft_nccl *nccl;   /* on cuda: the buckets averaged by NCCL in device memory (nccl_grads.h); NULL: MPI */
	const struct ft_tensor **tp; /* a bucket's gradient tensors, for NCCL */
	volatile const sig_atomic_t *local_stop; /* this rank's signal flag (ft_dist_attach) */
	int stop_sig;           /* agreed: a rank was asked to stop (its signal), 0 otherwise */
	ft_dist_comm *comm;
} ft_dist;

/* ---- setup ------------------------------------------------------------ */

/*
 * Reads the launcher's environment (overview) and, for a world larger than 1,
 * initialises MPI. Bad input (a build without MPI, an MPI world that does not
 * match the launcher's, a torchrun-style start refused by rank 0) is FT_EBADINPUT; *out is then
 * NULL. A single process gets a world of 1.
 */
ft_status ft_dist_init(double timeout_s, ft_dist **out);
/* Finalises MPI (when it was initialised) and frees d. */
void ft_dist_free(ft_dist *d);
/* Ends every rank of the job now with exit code code (MPI_Abort); a world of 1 exits. */
_Noreturn void ft_dist_abort(ft_dist *d, int code);

static inline bool ft_dist_is_root(const ft_dist *d)
{
	return d->rank == 0;
}

/* ---- agreement at start ---------------------------------------------- */

typedef enum ft_dist_kind { FT_DIST_INT, FT_DIST_REAL, FT_DIST_TEXT, FT_DIST_HASH } ft_dist_kind;

/* one setting every rank must share; TEXT holds at most 8 bytes (an optimizer name) */
typedef struct ft_dist_field {
	const char *what;       /* "the batch size (-b)" */
	ft_dist_kind kind;
	int64_t i;              /* INT, HASH */
	double r;               /* REAL */
	const char *text;       /* TEXT */
} ft_dist_field;

/*
 * Gathers the fields of every rank and compares them with rank 0's. When any
 * differ: FT_EBADINPUT whose message (on rank 0) names every field that
 * differs with each value and the ranks that hold it; the other ranks get a
 * short message pointing at rank 0's. Every rank returns the same status.
 */
ft_status ft_dist_agree(ft_dist *d, const char *stage, const ft_dist_field *f, int n);

/* crc32c and size of a file's bytes (the model every rank must share). */
ft_status ft_dist_file_hash(const char *path, int64_t *hash, int64_t *bytes);

/* ---- training ---------------------------------------------------------- */

/*
 * Plans the gradient buffer and its buckets for t and installs the hooks
 * (train.h): from then on ft_trainer_step averages t's gradients and loss over
 * the ranks, sending each bucket as soon as the backward has made it final,
 * and agrees on stopping (*stop_signal of any rank). With t->cfg.sync_bn it
 * also gives the CPU kernels the statistics all-reduce. A world of 1 installs
 * nothing (unless FT_NCCL_WORLD1=1 on cuda: dist.c's one-GPU check of NCCL).
 */
ft_status ft_dist_attach(ft_dist *d, struct ft_trainer *t, volatile const sig_atomic_t *stop_signal);
/* Frees what attach made on the trainer's backend (NCCL's buffers): before the trainer goes. */
void ft_dist_detach(ft_dist *d);

/* The dataset batch index of micro-batch m at global position pos (overview). */
static inline int64_t ft_dist_batch_index(const ft_dist *d, int64_t pos, int64_t m)
{
	return pos + m * d->size + d->rank;
}

/* The dropout seed of this rank: seed itself on rank 0, a distinct one elsewhere. */
uint64_t ft_dist_rank_seed(const ft_dist *d, uint64_t seed);

/* Sums v[0..n) over the ranks, in place (evaluation counts). */
ft_status ft_dist_sum_i64(ft_dist *d, int64_t *v, int n, const char *what);

/* Copies rank 0's BatchNorm running statistics of t to every rank (before evaluating, in the
 * trainer's host view: the statistics are read and written as host memory). */
ft_status ft_dist_broadcast_state(ft_dist *d, struct ft_trainer *t);

/* ---- transport (dist_mpi.c, or dist_none.c without MPI) ---------------- */

bool ft_dist_transport_built(void);
/* MPI_Init and the world; d->size is the launcher's (0: unknown) and becomes MPI's. */
ft_status ft_dist_transport_init(ft_dist *d);
void ft_dist_transport_free(ft_dist *d);
_Noreturn void ft_dist_transport_abort(ft_dist *d, int code);
/* Each collective waits at most d->timeout_s, then names who did not arrive and aborts. */
void ft_dist_allgather(ft_dist *d, const void *mine, void *all, size_t bytes, const char *what);
void ft_dist_allreduce_f32(ft_dist *d, float *v, size_t n, const char *what);
void ft_dist_allreduce_f64(ft_dist *d, double *v, size_t n, const char *what);
/*
 * The gradient buckets, in flight while other collectives run: open, post
 * each bucket (an in-place sum), poll between nodes (MPI moves them only when
 * polled), close (waits, with the deadline). Any number of posts; each is
 * split in pieces of 16M floats.
 */
void ft_dist_bucket_open(ft_dist *d);
void ft_dist_bucket_post(ft_dist *d, float *v, size_t n);
void ft_dist_bucket_poll(ft_dist *d);
void ft_dist_bucket_close(ft_dist *d, const char *what);
void ft_dist_allreduce_i64(ft_dist *d, int64_t *v, int n, const char *what);
void ft_dist_broadcast(ft_dist *d, void *v, size_t bytes, const char *what);

#endif
