/*
 * dist_mpi.c - the MPI transport of dist.h: nonblocking collectives polled
 * against a deadline.
 *
 * Before each collective every rank posts a small "arrived" note (the
 * collective's sequence number) to rank 0 and rank 0 posts one to every rank,
 * on a communicator of their own. So when the deadline passes, rank 0 knows
 * which ranks reached the collective and the others know whether rank 0 did;
 * the message says so and the job ends (MPI_Abort). The notes cost 2(W-1)
 * messages of 8 bytes per collective.
 *
 * A rank can reach a collective and then stop (SIGSTOP, a debugger, a hung
 * kernel thread); MPI's nonblocking collectives progress only while every
 * rank polls them. So when every note has come and the deadline passes,
 * rank 0 probes the ranks (tag PROBE); a rank polling its collective answers
 * (tag ALIVE), and those that do not within PROBE_S are named. The other ranks
 * give rank 0 GRACE_S more before ending the job themselves, so rank 0's
 * message is the one the user reads.
 *
 * Two collectives may be in flight at once, each with its own notes: the
 * gradient buckets, posted one by one during the backward pass and waited for
 * at its end (ft_dist_bucket_*), and an immediate one posted and waited for
 * meanwhile (--sync-bn's statistics). Every rank posts them in the same order,
 * which is all MPI asks; notes to the same rank match in posting order.
 */
#include <limits.h>
#include <mpi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist.h"

enum { TAG_NOTE = 0, TAG_PROBE = 1, TAG_ALIVE = 2 };
static const double PROBE_S = 5, GRACE_S = 15, SPIN_S = 2;

/* one collective in flight: its requests and its arrival notes */
typedef struct pending {
	int64_t out;              /* the note this rank sends, the collective's number (stays put until sent) */
	int64_t *in;              /* notes received: rank 0 one per rank, the others one */
	MPI_Request *note;        /* 2 (W-1) on rank 0, 2 elsewhere */
	int n_note;
	MPI_Request *coll;        /* the collective's requests (one per bucket or piece), grown as posted */
	int n_coll, cap_coll;
	bool open;
} pending;

struct ft_dist_comm {
	MPI_Comm world, notes;
	int64_t seq;              /* collectives so far */
	pending now, grads;       /* an immediate collective, the gradient buckets */
	int64_t probe, alive;     /* rank 0's probe and the answer (contents unused) */
	MPI_Request probe_req;    /* ranks > 0: the posted receive of rank 0's probe */
};

static void pending_init(pending *p, int size)
{
	p->in = ft_xcalloc((size_t)size, sizeof(int64_t));
	p->note = ft_xcalloc(2 * (size_t)size, sizeof(MPI_Request));
	for (int i = 0; i < 2 * size; i++)
		p->note[i] = MPI_REQUEST_NULL;
}

static void pending_free(pending *p)
{
	free(p->coll);
	free(p->note);
	free(p->in);
}

bool ft_dist_transport_built(void)
{
	return true;
}

ft_status ft_dist_transport_init(ft_dist *d)
{
	int provided, rank, size;
	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
		return ft_error(FT_ERUNTIME, "MPI_Init failed (launched by %s as rank %d)", d->launcher, d->rank);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (d->size > 0 && size != d->size) {
		ft_status st = ft_error(FT_EBADINPUT,
					"%s says the world has %d ranks, MPI sees %d: launch one process per rank "
					"with the launcher's MPI support (mpirun -np N, or srun --mpi=pmix)",
					d->launcher, d->size, size);
		MPI_Finalize();
		return st;
	}
	d->rank = rank;
	d->size = size;
	/* the rank among this machine's (its GPU: cuda:LOCAL_RANK), whatever the launcher said */
	MPI_Comm node;
	if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
		MPI_Comm_rank(node, &d->local_rank);
		MPI_Comm_free(&node);
	}
	ft_dist_comm *c = ft_xcalloc(1, sizeof(*c));
	MPI_Comm_dup(MPI_COMM_WORLD, &c->world);
	MPI_Comm_dup(MPI_COMM_WORLD, &c->notes);
	pending_init(&c->now, size);
	pending_init(&c->grads, size);
	c->probe_req = MPI_REQUEST_NULL;
	if (rank > 0)
		MPI_Irecv(&c->probe, 1, MPI_INT64_T, 0, TAG_PROBE, c->notes, &c->probe_req);
	d->comm = c;
	return FT_OK;
}

void ft_dist_transport_free(ft_dist *d)
{
	ft_dist_comm *c = d->comm;
	if (c->probe_req != MPI_REQUEST_NULL) {
		MPI_Cancel(&c->probe_req);
		MPI_Wait(&c->probe_req, MPI_STATUS_IGNORE);
	}
	MPI_Comm_free(&c->notes);
	MPI_Comm_free(&c->world);
	pending_free(&c->now);
	pending_free(&c->grads);
	free(c);
	d->comm = NULL;
	MPI_Finalize();
}

_Noreturn void ft_dist_transport_abort(ft_dist *d, int code)
{
	MPI_Abort(d->comm ? d->comm->world : MPI_COMM_WORLD, code);
	exit(code); /* not reached */
}

/* opens collective p: posts its arrival notes (before the collective itself) */
static void begin(ft_dist *d, pending *p)
{
	ft_dist_comm *c = d->comm;
	FT_ASSERT(!p->open);
	p->open = true;
	p->out = ++c->seq;
	p->n_note = p->n_coll = 0;
	if (d->rank == 0) {
		for (int r = 1; r < d->size; r++) {
			MPI_Irecv(&p->in[r], 1, MPI_INT64_T, r, TAG_NOTE, c->notes, &p->note[p->n_note++]);
			MPI_Isend(&p->out, 1, MPI_INT64_T, r, TAG_NOTE, c->notes, &p->note[p->n_note++]);
		}
	} else {
		MPI_Irecv(&p->in[0], 1, MPI_INT64_T, 0, TAG_NOTE, c->notes, &p->note[p->n_note++]);
		MPI_Isend(&p->out, 1, MPI_INT64_T, 0, TAG_NOTE, c->notes, &p->note[p->n_note++]);
	}
}

/* a new request slot of p's collective */
static MPI_Request *new_request(pending *p)
{
	if (p->n_coll == p->cap_coll) {
		p->cap_coll = p->cap_coll ? 2 * p->cap_coll : 16;
		p->coll = ft_xrealloc(p->coll, sizeof(MPI_Request) * (size_t)p->cap_coll);
	}
	p->coll[p->n_coll] = MPI_REQUEST_NULL;
	return &p->coll[p->n_coll++];
}

/* tests every request of p once (MPI moves nonblocking collectives inside MPI_Test); true when all are done */
static bool test_all(pending *p)
{
	bool all = true;
	for (int i = 0; i < p->n_coll + p->n_note; i++) {
		MPI_Request *r = i < p->n_coll ? &p->coll[i] : &p->note[i - p->n_coll];
		int flag = 1;
		if (*r != MPI_REQUEST_NULL)
			MPI_Test(r, &flag, MPI_STATUS_IGNORE);
		all &= flag != 0;
	}
	return all;
}

/* ranks > 0, while polling: answers rank 0's probe (this rank is alive) */
static void answer_probe(ft_dist_comm *c)
{
	int flag = 0;
	MPI_Test(&c->probe_req, &flag, MPI_STATUS_IGNORE);
	if (!flag)
		return;
	MPI_Request r;
	MPI_Isend(&c->alive, 1, MPI_INT64_T, 0, TAG_ALIVE, c->notes, &r);
	MPI_Request_free(&r);
	MPI_Irecv(&c->probe, 1, MPI_INT64_T, 0, TAG_PROBE, c->notes, &c->probe_req);
}

/*
 * Between two polls. Open MPI's nonblocking collectives move data only inside
 * MPI_Test, so for the first SPIN_S of a wait (a large all-reduce in flight)
 * the loop only yields; past that the wait is for a slower rank and a poll
 * every millisecond leaves the core to others.
 */
static void pause_briefly(double waited)
{
	if (waited < SPIN_S) {
		sched_yield();
	} else {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
}

/* rank 0, every note in: the ranks that do not answer a probe within PROBE_S, into who */
static int silent_ranks(ft_dist *d, char *who, size_t cap)
{
	ft_dist_comm *c = d->comm;
	int n = d->size - 1, missing = 0;
	MPI_Request *req = ft_xcalloc(2 * (size_t)n, sizeof(MPI_Request));
	int64_t *ans = ft_xcalloc((size_t)n, sizeof(int64_t));
	for (int r = 1; r < d->size; r++) {
		MPI_Irecv(&ans[r - 1], 1, MPI_INT64_T, r, TAG_ALIVE, c->notes, &req[r - 1]);
		MPI_Isend(&c->probe, 1, MPI_INT64_T, r, TAG_PROBE, c->notes, &req[n + r - 1]);
	}
	double start = ft_now_s();
	for (double t = start; t < start + PROBE_S; t = ft_now_s()) {
		int done = 1;
		for (int i = 0; i < n; i++) {
			int flag = 1;
			if (req[i] != MPI_REQUEST_NULL)
				MPI_Test(&req[i], &flag, MPI_STATUS_IGNORE);
			done &= flag;
		}
		if (done)
			break;
		pause_briefly(t - start);
	}
	for (int r = 1; r < d->size; r++) {
		if (req[r - 1] == MPI_REQUEST_NULL)
			continue;
		if (missing < 16)
			snprintf(who + strlen(who), cap - strlen(who), "%s%d", missing ? ", " : "", r);
		missing++;
	}
	free(ans);
	free(req); /* (the job ends now: the requests are not waited for) */
	return missing;
}

/* rank 0: the ranks whose note has not come; others: whether rank 0's has */
_Noreturn static void timed_out(ft_dist *d, pending *p, const char *what)
{
	ft_dist_comm *c = d->comm;
	char who[512] = "";
	int missing = 0;
	if (d->rank == 0) {
		for (int r = 1; r < d->size; r++) {
			if (p->note[2 * (r - 1)] == MPI_REQUEST_NULL)
				continue;
			if (missing < 16)
				snprintf(who + strlen(who), sizeof(who) - strlen(who), "%s%d", missing ? ", " : "", r);
			missing++;
		}
		const char *why = missing > 16 ? ", ... did not arrive" : " did not arrive";
		if (!missing) {
			missing = silent_ranks(d, who, sizeof(who));
			why = missing ? " arrived but stopped responding (stopped, or hung inside the collective)"
				      : "";
		}
		fprintf(stderr,
			"ftrun: rank 0 of %d: %s (collective %lld) did not complete within %g s (--dist-timeout): %s%s%s; "
			"ending the job\n", d->size, what, (long long)p->out, d->timeout_s,
			missing ? (missing > 1 ? "ranks " : "rank ") : "every rank arrived and answers; the transport stalled",
			who, why);
	} else {
		bool root_here = p->note[0] == MPI_REQUEST_NULL;
		fprintf(stderr,
			"ftrun: rank %d of %d: %s (collective %lld) did not complete within %g s (--dist-timeout): %s; "
			"ending the job\n", d->rank, d->size, what, (long long)p->out, d->timeout_s,
			root_here ? "rank 0 arrived, so another rank did not (rank 0's message names it)"
				  : "rank 0 did not arrive");
	}
	fflush(stderr);
	MPI_Abort(c->world, 1);
	exit(1); /* not reached */
}

/*
 * Waits for collective p and its notes, or ends the job at the deadline; the
 * other collective in flight is polled too (it moves only when polled).
 */
static void finish(ft_dist *d, pending *p, const char *what)
{
	ft_dist_comm *c = d->comm;
	pending *other = p == &c->now ? &c->grads : &c->now;
	double start = ft_now_s(), t = start;
	for (long spin = 0;; spin++) {
		if (d->rank > 0)
			answer_probe(c);
		if (other->open)
			test_all(other);
		if (test_all(p)) {
			p->open = false;
			return;
		}
		/* ranks > 0 whose note from rank 0 came leave the naming to rank 0 */
		double grace = d->rank > 0 && p->note[0] == MPI_REQUEST_NULL ? GRACE_S : 0;
		if ((spin & 255) == 0)
			t = ft_now_s();
		if (t > start + d->timeout_s + grace)
			timed_out(d, p, what);
		pause_briefly(t - start);
	}
}

void ft_dist_allgather(ft_dist *d, const void *mine, void *all, size_t bytes, const char *what)
{
	FT_ASSERT(bytes <= INT_MAX);
	pending *p = &d->comm->now;
	begin(d, p);
	MPI_Iallgather(mine, (int)bytes, MPI_BYTE, all, (int)bytes, MPI_BYTE, d->comm->world, new_request(p));
	finish(d, p, what);
}

/* posts an in-place sum of v[0..n) as part of p, in pieces of at most 16M values (under MPI's int count) */
static void post_sum(ft_dist *d, pending *p, void *v, size_t n, MPI_Datatype type, size_t size)
{
	const size_t piece = (size_t)1 << 24;
	for (size_t off = 0; off < n; off += piece) {
		size_t cnt = n - off < piece ? n - off : piece;
		MPI_Iallreduce(MPI_IN_PLACE, (char *)v + off * size, (int)cnt, type, MPI_SUM, d->comm->world,
			       new_request(p));
	}
}

void ft_dist_allreduce_f32(ft_dist *d, float *v, size_t n, const char *what)
{
	pending *p = &d->comm->now;
	begin(d, p);
	post_sum(d, p, v, n, MPI_FLOAT, sizeof(float));
	finish(d, p, what);
}

void ft_dist_allreduce_f64(ft_dist *d, double *v, size_t n, const char *what)
{
	pending *p = &d->comm->now;
	begin(d, p);
	post_sum(d, p, v, n, MPI_DOUBLE, sizeof(double));
	finish(d, p, what);
}

void ft_dist_allreduce_i64(ft_dist *d, int64_t *v, int n, const char *what)
{
	pending *p = &d->comm->now;
	begin(d, p);
	post_sum(d, p, v, (size_t)n, MPI_INT64_T, sizeof(int64_t));
	finish(d, p, what);
}

void ft_dist_broadcast(ft_dist *d, void *v, size_t bytes, const char *what)
{
	FT_ASSERT(bytes <= INT_MAX);
	pending *p = &d->comm->now;
	begin(d, p);
	MPI_Ibcast(v, (int)bytes, MPI_BYTE, 0, d->comm->world, new_request(p));
	finish(d, p, what);
}

void ft_dist_bucket_open(ft_dist *d)
{
	begin(d, &d->comm->grads);
}

void ft_dist_bucket_post(ft_dist *d, float *v, size_t n)
{
	FT_ASSERT(d->comm->grads.open);
	post_sum(d, &d->comm->grads, v, n, MPI_FLOAT, sizeof(float));
}

void ft_dist_bucket_poll(ft_dist *d)
{
	ft_dist_comm *c = d->comm;
	if (d->rank > 0)
		answer_probe(c);
	if (c->grads.open)
		test_all(&c->grads);
}

void ft_dist_bucket_close(ft_dist *d, const char *what)
{
	finish(d, &d->comm->grads, what);
}
