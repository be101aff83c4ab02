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
 *
 * The deadlines are checked between MPI calls, so a call that never returns
 * would escape them. Open MPI 4.1.4 has one: when a peer's TCP connection
 * resets, its btl_tcp error path waits for a lock it already holds (seen with
 * a rank killed in a torchrun-style job, where no mpirun ends the others). A
 * watchdog thread covers that: every entry point arms it with how long its
 * MPI calls may take (a wait: the deadline, the grace and the probe, plus
 * MARGIN_S), disarms it on return, and when an armed call overruns the rank
 * ends itself with a message (exit 1).
 */
#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dist.h"
#include "dist_rdzv.h"

enum { TAG_NOTE = 0, TAG_PROBE = 1, TAG_ALIVE = 2 };
static const double PROBE_S = 5, GRACE_S = 15, SPIN_S = 2, MARGIN_S = 30, ABORT_S = 20;

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
	ft_rdzv *rdzv;            /* torchrun-style: rank 0's ompi-server, stopped after MPI_Finalize */
	int64_t seq;              /* collectives so far */
	pending now, grads;       /* an immediate collective, the gradient buckets */
	int64_t probe, alive;     /* rank 0's probe and the answer (contents unused) */
	MPI_Request probe_req;    /* ranks > 0: the posted receive of rank 0's probe */
	/* the watchdog (above): the time by which the armed calls must return (ms, 0: disarmed) */
	_Atomic int64_t until_ms;
	_Atomic(const char *) doing; /* what the armed calls are, for the message */
	int rank, size;
	pthread_t dog;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;                /* under mu */
};

static void pause_briefly(double waited);

static int64_t now_ms(void)
{
	return (int64_t)(ft_now_s() * 1000);
}

/* the calls from here on (doing) must return within s seconds */
static void arm_for(ft_dist_comm *c, double s, const char *doing)
{
	if (!(s < 1e8)) /* (a --dist-timeout of years, or inf: about three years) */
		s = 1e8;
	atomic_store_explicit(&c->doing, doing, memory_order_relaxed);
	atomic_store_explicit(&c->until_ms, now_ms() + (int64_t)(s * 1000), memory_order_relaxed);
}

static void arm(ft_dist_comm *c, double s)
{
	arm_for(c, s, "an MPI call");
}

static void disarm(ft_dist_comm *c)
{
	atomic_store_explicit(&c->until_ms, 0, memory_order_relaxed);
}

/* how long a wait for a collective may take in all (finish, timed_out) */
static double wait_limit(const ft_dist *d)
{
	return d->timeout_s + GRACE_S + PROBE_S + MARGIN_S;
}

/* how long one call that does not wait for the other ranks may take */
static double call_limit(const ft_dist *d)
{
	return d->timeout_s + MARGIN_S;
}

static void *watchdog(void *arg)
{
	ft_dist_comm *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts); /* (the condition variable's clock) */
		ts.tv_sec += 1;
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		int64_t until = atomic_load_explicit(&c->until_ms, memory_order_relaxed);
		if (!c->stop && until && now_ms() > until) {
			char msg[400];
			int len = snprintf(msg, sizeof(msg),
					   "ftrun: rank %d of %d: %s did not return by its deadline (--dist-timeout plus "
					   "margins): Open MPI is stuck, as it can be on the connection to a rank that "
					   "died; ending this rank\n", c->rank, c->size,
					   atomic_load_explicit(&c->doing, memory_order_relaxed));
			if (write(STDERR_FILENO, msg, len > 0 && len < (int)sizeof(msg) ? (size_t)len : sizeof(msg) - 1) < 0) {
				/* nothing more to say */
			}
			_exit(1);
		}
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

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

/*
 * The rank among this machine's (its GPU: cuda:LOCAL_RANK), whatever the
 * launcher said: MPI's count (MPI_COMM_TYPE_SHARED) in one MPI job; for ranks
 * joined from separate jobs, which Open MPI does not place on machines, the
 * lower ranks with this rank's host name.
 */
static int local_rank(MPI_Comm world, int rank, int size, bool joined)
{
	int local = 0;
	if (!joined) {
		MPI_Comm node;
		if (MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node) == MPI_SUCCESS) {
			MPI_Comm_rank(node, &local);
			MPI_Comm_free(&node);
		}
		return local;
	}
	char *names = ft_xcalloc((size_t)size, MPI_MAX_PROCESSOR_NAME);
	int len = 0;
	MPI_Get_processor_name(names + (size_t)rank * MPI_MAX_PROCESSOR_NAME, &len);
	MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, names, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, world);
	for (int r = 0; r < rank; r++)
		local += strcmp(names + (size_t)r * MPI_MAX_PROCESSOR_NAME,
				names + (size_t)rank * MPI_MAX_PROCESSOR_NAME) == 0;
	free(names);
	return local;
}

static void dog_start(ft_dist_comm *c)
{
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->dog, NULL, watchdog, c) != 0)
		ft_fatal(__FILE__, __LINE__, "cannot start the MPI watchdog thread");
}

static void dog_stop(ft_dist_comm *c)
{
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->dog, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

/* a failed start after MPI_Init: MPI finalised, the watchdog stopped, ompi-server ended */
static ft_status init_failed(ft_dist_comm *c, MPI_Comm *joined, ft_rdzv *z, ft_status st)
{
	if (*joined != MPI_COMM_NULL)
		MPI_Comm_free(joined);
	MPI_Finalize();
	dog_stop(c);
	free(c);
	ft_rdzv_end(z);
	return st;
}

ft_status ft_dist_transport_init(ft_dist *d)
{
	int provided, rank, size;
	ft_rdzv *z = NULL;
	bool torchrun = strcmp(d->launcher, "torchrun") == 0;
	if (torchrun)
		FT_TRY(ft_rdzv_meet(d, &z));
	/* the watchdog from here: MPI_Init and a torchrun-style join have no deadline of their own */
	ft_dist_comm *c = ft_xcalloc(1, sizeof(*c));
	c->rank = d->rank;
	c->size = d->size;
	dog_start(c);
	arm_for(c, z ? ft_rdzv_seconds_left(z) : call_limit(d), "MPI_Init");
	MPI_Comm world = MPI_COMM_WORLD, joined = MPI_COMM_NULL;
	if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
		dog_stop(c);
		free(c);
		ft_rdzv_end(z);
		return ft_error(FT_ERUNTIME, "MPI_Init failed (launched by %s as rank %d)", d->launcher, d->rank);
	}
	if (torchrun) {
		arm_for(c, ft_rdzv_seconds_left(z), "the start's join of the ranks (MPI_Comm_accept/connect)");
		ft_status st = ft_rdzv_join(d, z, &joined);
		if (st != FT_OK)
			return init_failed(c, &joined, z, st);
		world = joined;
	}
	arm_for(c, call_limit(d), "the start's MPI calls");
	MPI_Comm_rank(world, &rank);
	MPI_Comm_size(world, &size);
	if (d->size > 0 && size != d->size)
		return init_failed(c, &joined, z,
				   ft_error(FT_EBADINPUT,
					    "%s says the world has %d ranks, MPI sees %d: launch one process per rank "
					    "with the launcher's MPI support (mpirun -np N, or srun --mpi=pmix)",
					    d->launcher, d->size, size));
	d->rank = c->rank = rank;
	d->size = c->size = size;
	int local = local_rank(world, rank, size, joined != MPI_COMM_NULL);
	if (!(torchrun && getenv("TORCHELASTIC_RUN_ID") && getenv("LOCAL_RANK")))
		d->local_rank = local; /* (torchrun's own LOCAL_RANK stands) */
	MPI_Comm_dup(world, &c->world);
	MPI_Comm_dup(world, &c->notes);
	if (joined != MPI_COMM_NULL)
		MPI_Comm_free(&joined); /* (its two duplicates serve from here) */
	c->rdzv = z;
	pending_init(&c->now, size);
	pending_init(&c->grads, size);
	c->probe_req = MPI_REQUEST_NULL;
	if (rank > 0)
		MPI_Irecv(&c->probe, 1, MPI_INT64_T, 0, TAG_PROBE, c->notes, &c->probe_req);
	disarm(c);
	d->comm = c;
	return FT_OK;
}

void ft_dist_transport_free(ft_dist *d)
{
	ft_dist_comm *c = d->comm;
	/*
	 * Every rank at the end first: rank 0 may still be writing the checkpoint
	 * and the model, for as long as that takes, so the barrier is polled with
	 * each poll watched; then MPI_Finalize, watched as a whole.
	 */
	MPI_Request end;
	arm(c, call_limit(d));
	MPI_Ibarrier(c->world, &end);
	disarm(c);
	for (int done = 0; !done;) {
		arm(c, call_limit(d));
		MPI_Test(&end, &done, MPI_STATUS_IGNORE);
		disarm(c);
		if (!done)
			pause_briefly(SPIN_S); /* (a millisecond) */
	}
	arm(c, call_limit(d));
	if (c->probe_req != MPI_REQUEST_NULL) {
		MPI_Cancel(&c->probe_req);
		MPI_Wait(&c->probe_req, MPI_STATUS_IGNORE);
	}
	MPI_Comm_free(&c->notes);
	MPI_Comm_free(&c->world);
	ft_rdzv *z = c->rdzv;
	pending_free(&c->now);
	pending_free(&c->grads);
	MPI_Finalize();
	dog_stop(c);
	free(c);
	d->comm = NULL;
	ft_rdzv_end(z); /* (after MPI_Finalize, which may still talk to ompi-server) */
}

_Noreturn void ft_dist_transport_abort(ft_dist *d, int code)
{
	if (d->comm)
		arm(d->comm, ABORT_S);
	MPI_Abort(d->comm ? d->comm->world : MPI_COMM_WORLD, code);
	exit(code); /* not reached */
}

/* opens collective p: posts its arrival notes (before the collective itself) */
static void begin(ft_dist *d, pending *p)
{
	ft_dist_comm *c = d->comm;
	FT_ASSERT(!p->open);
	arm(c, wait_limit(d)); /* (finish disarms; an immediate collective is waited for at once) */
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
	arm(c, PROBE_S + ABORT_S);
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
	arm(c, wait_limit(d));
	for (long spin = 0;; spin++) {
		if (d->rank > 0)
			answer_probe(c);
		if (other->open)
			test_all(other);
		if (test_all(p)) {
			p->open = false;
			disarm(c);
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
	disarm(d->comm); /* (the backward runs between the buckets' calls) */
}

void ft_dist_bucket_post(ft_dist *d, float *v, size_t n)
{
	FT_ASSERT(d->comm->grads.open);
	arm(d->comm, call_limit(d));
	post_sum(d, &d->comm->grads, v, n, MPI_FLOAT, sizeof(float));
	disarm(d->comm);
}

void ft_dist_bucket_poll(ft_dist *d)
{
	ft_dist_comm *c = d->comm;
	arm(c, call_limit(d));
	if (d->rank > 0)
		answer_probe(c);
	if (c->grads.open)
		test_all(&c->grads);
	disarm(c);
}

void ft_dist_bucket_close(ft_dist *d, const char *what)
{
	finish(d, &d->comm->grads, what);
}
