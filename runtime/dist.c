/* dist.c - launcher environment, agreement at start, the gradient hook (see dist.h). */
#include "dist.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "train.h"
#include "cpu/cpu.h"
#include "nccl_grads.h"

/* an integer environment variable: 0 unset, 1 read, -1 set but not a number */
static int env_int(const char *name, int64_t *v)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return 0;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || *end || x < 0 || x > INT32_MAX)
		return -1;
	*v = x;
	return 1;
}

static ft_status read_env(ft_dist *d)
{
	static const struct {
		const char *launcher, *rank, *size, *local, *also; /* also: must be set too */
	} kinds[] = {
		/* torchrun's workers first: torchrun may itself run inside an srun or mpirun step */
		{ "torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", "TORCHELASTIC_RUN_ID" },
		{ "mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", NULL },
		{ "srun", "PMIX_RANK", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "SLURM_STEP_ID" }, /* --mpi=pmix */
		{ "PMI", "PMIX_RANK", NULL, NULL, NULL },
		{ "PMI", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", NULL },
		{ "srun", "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID", "SLURM_STEP_ID" },
		{ "torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", NULL },
	};
	for (size_t k = 0; k < FT_ARRAY_LEN(kinds); k++) {
		int64_t rank = 0, size = 0, local = 0;
		if (kinds[k].also && !getenv(kinds[k].also))
			continue;
		int has_rank = env_int(kinds[k].rank, &rank);
		int has_size = kinds[k].size ? env_int(kinds[k].size, &size) : 0;
		if (has_rank == 0 && has_size == 0)
			continue;
		const char *bad = has_rank < 0 ? kinds[k].rank : has_size < 0 ? kinds[k].size : NULL;
		if (!bad && kinds[k].local && env_int(kinds[k].local, &local) < 0)
			bad = kinds[k].local;
		if (bad)
			return ft_error(FT_EBADINPUT, "the environment variable %s=\"%s\" is not a rank number", bad,
					getenv(bad));
		d->launcher = kinds[k].launcher;
		d->rank = (int)rank;
		d->size = has_size > 0 ? (int)size : 0; /* 0: the launcher does not say; MPI will */
		d->local_rank = (int)local;
		if (strcmp(d->launcher, "torchrun") == 0 && d->size == 0)
			d->size = 1; /* RANK alone */
		if (strcmp(d->launcher, "torchrun") == 0 && has_rank == 0 && d->size > 1)
			return ft_error(FT_EBADINPUT, "WORLD_SIZE=%d is set but RANK is not: a torchrun-style start "
					"needs each process's RANK (0 to %d)", d->size, d->size - 1);
		return FT_OK;
	}
	d->launcher = "single process";
	d->size = 1;
	return FT_OK;
}

ft_status ft_dist_init(double timeout_s, ft_dist **out)
{
	ft_dist *d = ft_xcalloc(1, sizeof(*d));
	d->timeout_s = timeout_s;
	d->bucket_cap = (size_t)25 << 20;
	*out = NULL;
	ft_status st = read_env(d);
	/*
	 * Inside a Slurm job step without PMIx (srun without --mpi=pmix, or with pmi2) Debian's
	 * Open MPI cannot find the other ranks and MPI_Init ends the process with its own
	 * message: say what to do instead, before MPI_Init.
	 */
	if (st == FT_OK && d->size != 1 && strcmp(d->launcher, "mpirun") != 0 && strcmp(d->launcher, "torchrun") != 0 &&
	    getenv("SLURM_STEP_ID") && !getenv("PMIX_RANK"))
		/* (mpirun inside a job step is fine: its ranks are Open MPI's own; torchrun's meet on their own) */
		st = ft_error(FT_EBADINPUT,
			      "srun started rank %d of %d without PMIx, which this Open MPI needs to see the other ranks: "
			      "launch with srun --mpi=pmix (or set MpiDefault=pmix in slurm.conf)", d->rank, d->size);
	if (st == FT_OK && d->size != 1) {
		if (!ft_dist_transport_built())
			st = ft_error(FT_EBADINPUT,
				      "launched by %s as rank %d of %d, but this ftrun was built without MPI: install "
				      "libopenmpi-dev (scripts/setup.sh) and rebuild, or run a single process",
				      d->launcher, d->rank, d->size);
		else
			st = ft_dist_transport_init(d);
	}
	if (st) {
		free(d);
		return st;
	}
	if (ft_env_on("FT_DIST_TRACE") && d->size > 1)
		fprintf(stderr, "ftrun: rank %d of %d, local rank %d (%s)\n", d->rank, d->size, d->local_rank, d->launcher);
	*out = d;
	return FT_OK;
}

void ft_dist_free(ft_dist *d)
{
	if (!d)
		return;
	if (d->comm)
		ft_dist_transport_free(d);
	ft_cpu_set_stats_allreduce(NULL, NULL);
	ft_dist_detach(d);
	free(d->flat);
	free(d->bucket);
	free(d->order);
	free(d->sent_after);
	free(d);
}

_Noreturn void ft_dist_abort(ft_dist *d, int code)
{
	fflush(stdout);
	fflush(stderr);
	if (d && d->comm)
		ft_dist_transport_abort(d, code);
	exit(code);
}

/* ---- agreement ---------------------------------------------------------- */

static int64_t field_bits(const ft_dist_field *f)
{
	int64_t v = 0;
	if (f->kind == FT_DIST_REAL)
		memcpy(&v, &f->r, sizeof(v));
	else if (f->kind == FT_DIST_TEXT)
		strncpy((char *)&v, f->text ? f->text : "", sizeof(v));
	else
		v = f->i;
	return v;
}

static void put_value(char *s, size_t cap, const ft_dist_field *f, int64_t v)
{
	size_t n = strlen(s);
	if (n >= cap)
		return;
	if (f->kind == FT_DIST_REAL) {
		double r;
		memcpy(&r, &v, sizeof(r));
		snprintf(s + n, cap - n, "%.9g", r);
	} else if (f->kind == FT_DIST_TEXT) {
		char t[9] = { 0 };
		memcpy(t, &v, 8);
		snprintf(s + n, cap - n, "%s", t[0] ? t : "(none)");
	} else if (f->kind == FT_DIST_HASH) {
		snprintf(s + n, cap - n, "%08llx", (unsigned long long)v);
	} else {
		snprintf(s + n, cap - n, "%lld", (long long)v);
	}
}

#define APPEND(s, cap, ...) snprintf((s) + strlen(s), (cap) - strlen(s), __VA_ARGS__)

ft_status ft_dist_agree(ft_dist *d, const char *stage, const ft_dist_field *f, int n)
{
	if (d->size == 1 || n == 0)
		return FT_OK;
	int64_t *mine = ft_xcalloc((size_t)n, sizeof(int64_t));
	int64_t *all = ft_xcalloc((size_t)n * (size_t)d->size, sizeof(int64_t));
	for (int k = 0; k < n; k++)
		mine[k] = field_bits(&f[k]);
	ft_dist_allgather(d, mine, all, sizeof(int64_t) * (size_t)n, stage);
	enum { CAP = 4096, LIST = 8 };
	char *msg = ft_xcalloc(CAP, 1);
	bool *done = ft_xcalloc((size_t)d->size, sizeof(bool));
	int bad = 0;
	for (int k = 0; k < n; k++) {
		bool differs = false;
		for (int r = 1; r < d->size; r++)
			differs |= all[(size_t)r * n + k] != all[k];
		if (!differs)
			continue;
		APPEND(msg, CAP, "%s%s: ", bad++ ? "; " : "", f[k].what);
		memset(done, 0, sizeof(bool) * (size_t)d->size);
		/* each value once, with the ranks that hold it */
		for (int r = 0; r < d->size; r++) {
			if (done[r])
				continue;
			int64_t v = all[(size_t)r * n + k];
			if (r > 0)
				APPEND(msg, CAP, ", ");
			put_value(msg, CAP, &f[k], v);
			char ranks[128] = "";
			int listed = 0;
			for (int q = r; q < d->size; q++) {
				if (done[q] || all[(size_t)q * n + k] != v)
					continue;
				done[q] = true;
				if (listed < LIST)
					APPEND(ranks, sizeof(ranks), "%s%d", listed ? "," : "", q);
				else if (listed == LIST)
					APPEND(ranks, sizeof(ranks), ",...");
				listed++;
			}
			APPEND(msg, CAP, " on rank%s %s", listed > 1 ? "s" : "", ranks);
		}
	}
	ft_status st = FT_OK;
	if (bad && ft_dist_is_root(d))
		st = ft_error(FT_EBADINPUT, "the ranks disagree %s (every rank must run the same model and settings): %s",
			      stage, msg);
	else if (bad)
		st = ft_error(FT_EBADINPUT, "the ranks disagree %s; rank 0's message names the settings and ranks", stage);
	free(done);
	free(msg);
	free(all);
	free(mine);
	return st;
}

ft_status ft_dist_file_hash(const char *path, int64_t *hash, int64_t *bytes)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ft_error(FT_EBADINPUT, "%s: %s", path, strerror(errno));
	enum { CHUNK = 1 << 20 };
	uint8_t *buf = ft_xmalloc(CHUNK);
	uint32_t crc = 0;
	int64_t total = 0;
	size_t got;
	while ((got = fread(buf, 1, CHUNK, f)) > 0) {
		crc = ft_crc32c(crc, buf, got);
		total += (int64_t)got;
	}
	ft_status st = ferror(f) ? ft_error(FT_EBADINPUT, "%s: read error", path) : FT_OK;
	fclose(f);
	free(buf);
	*hash = crc;
	*bytes = total;
	return st;
}

/* ---- training ------------------------------------------------------------ */

/*
 * The gradient all-reduce, overlapped with the backward pass as PyTorch DDP's:
 * the parameters are laid out in flat in the order their gradients become
 * final during the last micro-batch (ft_trainer_grad_ready: the output layer's
 * first), cut into buckets of about bucket_cap bytes. After each node of that
 * micro-batch (after_node) every bucket whose gradients are all final is copied
 * into flat with the backend's download (a memcpy on the CPU, a device-to-host
 * copy on a GPU) and its sum posted; between nodes the posted sums are polled,
 * which is when MPI moves them. The reduce hook then posts the loss and the
 * stop flag, waits for everything (the deadline counts from there), and
 * uploads the averages. Every rank posts the same buckets in the same order:
 * the graph, the plan and bucket_cap are the same on every rank.
 */
/* the gradient tensors of bucket b, into d->tp */
static void bucket_tensors(ft_dist *d, const ft_trainer *t, int b)
{
	const ft_dist_bucket *bk = &d->bucket[b];
	for (int k = 0; k < bk->count; k++)
		d->tp[k] = &t->g->tensors[t->grads[d->order[bk->first + k]]];
}

static void send_bucket(ft_dist *d, const ft_trainer *t, int b)
{
	const ft_dist_bucket *bk = &d->bucket[b];
	if (d->nccl) { /* packed and averaged on the GPU (nccl_grads.h) */
		bucket_tensors(d, t, b);
		ft_nccl_post(d->nccl, d->tp, bk->count, bk->off);
		return;
	}
	float *p = d->flat + bk->off;
	for (int k = bk->first; k < bk->first + bk->count; k++) {
		const ft_tensor *gt = &t->g->tensors[t->grads[d->order[k]]];
		t->be.iface->download(t->be.ctx, p, gt->data, sizeof(float) * (size_t)gt->numel);
		p += gt->numel;
	}
	ft_dist_bucket_post(d, d->flat + bk->off, bk->n);
}

/* sends every bucket whose gradients are final once node has run (INT_MAX: the backward is done) */
static void send_ready(ft_dist *d, const ft_trainer *t, int node)
{
	if (!d->nccl && !d->sending) {
		ft_dist_bucket_open(d);
		d->sending = true;
	}
	while (d->next_bucket < d->n_buckets && d->bucket[d->next_bucket].ready <= node) {
		if (d->sent_after)
			d->sent_after[d->next_bucket] = node;
		send_bucket(d, t, d->next_bucket++);
	}
}

/* FT_DIST_TRACE=1: rank 0 says once where the first step sent each bucket (tests/dist.sh reads it) */
static void trace_buckets(ft_dist *d, const ft_trainer *t)
{
	if (!d->sent_after || t->step != 0 || !ft_dist_is_root(d))
		return;
	fprintf(stderr, "ftrun: %d gradient buckets (%s), sent after nodes", d->n_buckets, d->nccl ? "NCCL" : "MPI");
	for (int b = 0; b < d->n_buckets; b++)
		if (d->sent_after[b] == INT_MAX)
			fprintf(stderr, " end");
		else
			fprintf(stderr, " %d", d->sent_after[b]);
	fprintf(stderr, " of the micro-batch's nodes %d..%d\n", t->n_pro, t->n_micro - 1);
}

static void after_node(void *ctx, ft_trainer *t, int node)
{
	ft_dist *d = ctx;
	send_ready(d, t, node);
	if (!d->nccl)
		ft_dist_bucket_poll(d);
}

/*
 * train.h's reduce hook: the last buckets; the loss and the stop flag (with MPI's buckets, or
 * alone over MPI before NCCL is waited for: its deadline names a missing rank); then the
 * averages back into the gradients
 */
static ft_status reduce_grads(void *ctx, ft_trainer *t, float *loss)
{
	ft_dist *d = ctx;
	send_ready(d, t, INT_MAX);
	trace_buckets(d, t);
	d->next_bucket = 0;
	float alone[2], *tail = d->nccl ? alone : d->flat + d->n_flat - 2;
	tail[0] = *loss;
	tail[1] = d->local_stop ? (float)*d->local_stop : 0.0f;
	char what[96];
	snprintf(what, sizeof(what), "the gradient all-reduce of step %lld", (long long)t->step + 1);
	if (d->nccl) { /* averaged by ncclAvg */
		if (d->size > 1)
			ft_dist_allreduce_f32(d, tail, 2, what);
		FT_TRY(ft_nccl_finish(d->nccl, d->timeout_s, what));
		for (int b = 0; b < d->n_buckets; b++) {
			bucket_tensors(d, t, b);
			ft_nccl_unpack(d->nccl, d->tp, d->bucket[b].count, d->bucket[b].off);
		}
	} else {
		ft_dist_bucket_post(d, tail, 2);
		ft_dist_bucket_close(d, what);
		d->sending = false;
		const float inv = 1.0f / (float)d->size;
		float *p = d->flat;
		for (int k = 0; k < t->n_params; k++) {
			const ft_tensor *gt = &t->g->tensors[t->grads[d->order[k]]];
			for (int64_t i = 0; i < gt->numel; i++)
				p[i] *= inv;
			t->be.iface->upload(t->be.ctx, gt->data, p, sizeof(float) * (size_t)gt->numel);
			p += gt->numel;
		}
	}
	*loss = tail[0] * (1.0f / (float)d->size);
	if (tail[1] > 0)
		d->stop_sig = d->local_stop && *d->local_stop ? (int)*d->local_stop : SIGTERM;
	return FT_OK;
}

/* --sync-bn: the CPU kernels' statistics all-reduce (cpu/cpu.h) */
static void stats_allreduce(void *ctx, double *v, size_t n)
{
	ft_dist_allreduce_f64(ctx, v, n, "a BatchNorm statistics all-reduce (--sync-bn)");
}

static int by_key(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* flat's order and the buckets (overview of after_node) */
static void plan_buckets(ft_dist *d, const ft_trainer *t)
{
	int np = t->n_params;
	int *ready = ft_xmalloc(sizeof(int) * ((size_t)np + 1));
	ft_trainer_grad_ready(t, ready);
	int64_t *key = ft_xmalloc(sizeof(int64_t) * ((size_t)np + 1)); /* (ready node, parameter) */
	for (int k = 0; k < np; k++)
		key[k] = (int64_t)ready[k] << 32 | k;
	qsort(key, (size_t)np, sizeof(int64_t), by_key);
	d->order = ft_xmalloc(sizeof(int) * ((size_t)np + 1));
	for (int k = 0; k < np; k++)
		d->order[k] = (int)(key[k] & 0xffffffff);
	free(key);
	/* (a bucket of no cap: all of them, sent after the backward) */
	size_t total = sizeof(float) * (d->n_flat - 2), cap = d->bucket_cap ? d->bucket_cap : total;
	d->bucket = ft_xcalloc((size_t)np + 1, sizeof(ft_dist_bucket));
	d->n_buckets = 0;
	size_t off = 0;
	for (int k = 0; k < np;) {
		ft_dist_bucket *bk = &d->bucket[d->n_buckets++];
		bk->first = k;
		bk->off = off;
		size_t bytes = 0;
		do {
			int64_t numel = t->g->tensors[t->grads[d->order[k]]].numel;
			bytes += sizeof(float) * (size_t)numel;
			bk->n += (size_t)numel;
			bk->ready = ready[d->order[k]] > bk->ready ? ready[d->order[k]] : bk->ready;
			k++;
		} while (k < np && bytes < cap);
		bk->count = k - bk->first;
		off += bk->n;
	}
	free(ready);
}

/*
 * On cuda: NCCL when every rank runs on cuda and can open libnccl, agreed over MPI (every
 * rank posts that agreement, whatever its backend and environment, so the collectives stay
 * in step); else the host path, with a note. FT_DIST_NO_NCCL=1 keeps the host path;
 * FT_NCCL_WORLD1=1 makes a single process average over a communicator of one, the check
 * of this path on one GPU (scripts/device_check.sh). A rank that fails between the
 * agreement and ncclCommInitRank ends the job (the command aborts every rank on an
 * error), so the others do not wait in NCCL's initialisation.
 */
static ft_status attach_nccl(ft_dist *d, ft_trainer *t)
{
	bool off = ft_env_on("FT_DIST_NO_NCCL"), cuda = strcmp(t->be.iface->name, "cuda") == 0;
	char why[256] = "";
	int64_t v[2] = { cuda, cuda && !off && ft_nccl_available(why, sizeof(why)) };
	if (d->size > 1)
		ft_dist_allreduce_i64(d, v, 2, "the check that every rank can use NCCL");
	if (v[0] != 0 && v[0] != d->size)
		return ft_error(FT_EBADINPUT, "%lld of the %d ranks run on cuda, the others not: give every rank the "
				"same kind of --device", (long long)v[0], d->size);
	if (!cuda)
		return FT_OK;
	if (v[1] != d->size) {
		if (ft_dist_is_root(d))
			fprintf(stderr, "ftrun: NCCL is not used (%s); the gradients go through host memory and MPI\n",
				why[0] ? why : off ? "FT_DIST_NO_NCCL=1" : "not on every rank");
		return FT_OK;
	}
	unsigned char id[FT_NCCL_ID_BYTES] = { 0 };
	if (ft_dist_is_root(d))
		FT_TRY(ft_nccl_unique_id(id));
	if (d->size > 1)
		ft_dist_broadcast(d, id, sizeof(id), "the NCCL communicator's id");
	FT_TRY(ft_nccl_new(t->be, id, d->rank, d->size, d->n_flat - 2, &d->nccl));
	d->tp = ft_xcalloc((size_t)t->n_params + 1, sizeof(*d->tp));
	free(d->flat); /* (the gradients stay on the GPU; the loss and stop flag need no buffer) */
	d->flat = NULL;
	return FT_OK;
}

void ft_dist_detach(ft_dist *d)
{
	ft_nccl_free(d->nccl);
	d->nccl = NULL;
	free(d->tp);
	d->tp = NULL;
}

ft_status ft_dist_attach(ft_dist *d, ft_trainer *t, volatile const sig_atomic_t *stop_signal)
{
	d->local_stop = stop_signal;
	bool world1 = ft_env_on("FT_NCCL_WORLD1") && strcmp(t->be.iface->name, "cuda") == 0;
	if (d->size == 1 && !world1)
		return FT_OK;
	size_t n = 2; /* the loss and the stop flag after the gradients */
	for (int k = 0; k < t->n_params; k++) {
		const ft_tensor *gt = &t->g->tensors[t->grads[k]];
		if (gt->dtype != FT_F32)
			return ft_error(FT_EUNSUPPORTED, "the gradient \"%s\" is %s; the all-reduce takes float32",
					gt->name, ft_dtype_name(gt->dtype));
		n += (size_t)gt->numel;
	}
	/* the same gradients on every rank, or the sums would mix tensors (checked, not assumed) */
	const ft_dist_field same[] = {
		{ .what = "the trained parameter tensors", .kind = FT_DIST_INT, .i = t->n_params },
		{ .what = "the values all-reduced each step", .kind = FT_DIST_INT, .i = (int64_t)n },
	};
	FT_TRY(ft_dist_agree(d, "on the gradients", same, (int)FT_ARRAY_LEN(same)));
	d->n_flat = n;
	d->flat = ft_aligned_alloc(sizeof(float) * n);
	plan_buckets(d, t);
	if (ft_env_on("FT_DIST_TRACE"))
		d->sent_after = ft_xcalloc((size_t)d->n_buckets + 1, sizeof(int));
	FT_TRY(attach_nccl(d, t));
	if (d->size == 1 && !d->nccl)
		return ft_error(FT_EUNSUPPORTED, "FT_NCCL_WORLD1=1: NCCL cannot be used here");
	t->reduce = reduce_grads;
	t->after_node = after_node;
	t->reduce_ctx = d;
	if (t->cfg.sync_bn)
		ft_cpu_set_stats_allreduce(stats_allreduce, d);
	return FT_OK;
}

uint64_t ft_dist_rank_seed(const ft_dist *d, uint64_t seed)
{
	if (d->rank == 0)
		return seed;
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (uint64_t)d->rank; /* splitmix64's finaliser */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

ft_status ft_dist_sum_i64(ft_dist *d, int64_t *v, int n, const char *what)
{
	if (d->size > 1)
		ft_dist_allreduce_i64(d, v, n, what);
	return FT_OK;
}

ft_status ft_dist_broadcast_state(ft_dist *d, ft_trainer *t)
{
	if (d->size == 1 || t->n_state == 0)
		return FT_OK;
	size_t bytes = 0;
	for (int k = 0; k < t->n_state; k++)
		bytes += ft_tensor_bytes(&t->g->tensors[t->state[k]]);
	/* called by the evaluation, inside the trainer's host view: the statistics are host memory on
	 * every backend, and leaving the view uploads what arrived */
	uint8_t *buf = ft_xmalloc(bytes + 1), *p = buf;
	for (int k = 0; k < t->n_state; k++) {
		const ft_tensor *s = &t->g->tensors[t->state[k]];
		memcpy(p, s->data, ft_tensor_bytes(s));
		p += ft_tensor_bytes(s);
	}
	ft_dist_broadcast(d, buf, bytes, "the broadcast of rank 0's BatchNorm statistics");
	p = buf;
	for (int k = 0; k < t->n_state; k++) {
		const ft_tensor *s = &t->g->tensors[t->state[k]];
		memcpy(s->data, p, ft_tensor_bytes(s));
		p += ft_tensor_bytes(s);
	}
	free(buf);
	return FT_OK;
}
