/*
 * dist_rdzv.c - the torchrun-style start (dist_rdzv.h): ranks started without
 * an MPI launcher, told only RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT,
 * become one MPI communicator.
 *
 * Open MPI cannot join independently started processes (singletons) by itself:
 * MPI_Comm_connect/accept between them needs its rendezvous server, ompi-server
 * (package openmpi-bin). So:
 *   1. rank 0 starts ompi-server, a child process that ends with it, and
 *      listens on MASTER_PORT (MASTER_PORT + 1 under torchrun's static
 *      rendezvous, whose own store holds MASTER_PORT). Every other rank
 *      connects over TCP and says its rank and world size; rank 0 checks them
 *      (every rank once, one world size) and answers each with the server's
 *      URI, or with the reason the job cannot start.
 *   2. every rank points Open MPI at the server (OMPI_MCA_pmix_server_uri)
 *      and calls MPI_Init: a world of one each.
 *   3. rank 0 opens an MPI port. Rank by rank (1, 2, ...) it sends the port
 *      name over that rank's socket; the ranks joined so far accept
 *      (MPI_Comm_accept, collective over them) while it connects, and the two
 *      sides merge, the newcomer last. After W-1 rounds the merged
 *      communicator holds every rank in RANK order.
 * TCP carries only these bootstrap messages; the gradients go over MPI as
 * under mpirun. The whole start has the --dist-timeout deadline: the socket
 * calls poll against it, and MPI_Init and MPI_Comm_accept/connect, which have
 * no deadline of their own, are watched by dist_mpi.c's watchdog thread.
 *
 * Messages (integers are 32-bit, network byte order):
 *   rank r > 0 -> rank 0   MAGIC, r, W
 *   rank 0 -> rank r       FT_OK (go on) or the ft_status of the refusal, length,
 *                          the URI or the reason
 *   rank 0 -> rank r       length, the MPI port name (r's turn to connect)
 */
#include "dist_rdzv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

enum { MAGIC = 0x46545231, /* "FTR1" */ MAX_TEXT = 4096 };
static const double GRACE_S = 15; /* as dist_mpi.c's */
static const double HELLO_S = 5;  /* a connection's hello, once it connected */

struct ft_rdzv {
	double deadline;        /* ft_now_s() by which the start must be done */
	int *fd;                /* rank 0: the socket of rank r (fd[0] unused); others: fd[0], rank 0's */
	int n_fd;
	pid_t server;           /* rank 0: ompi-server's pid, 0 when not started */
	char uri_file[64];      /* rank 0: where ompi-server wrote its URI */
	char where[300];        /* MASTER_ADDR:port, for messages */
};

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* milliseconds left before the deadline, at least 0 */
static int left_ms(const ft_rdzv *z)
{
	double s = z->deadline - ft_now_s();
	return s <= 0 ? 0 : s > 1e6 ? 1000000000 : (int)(s * 1000) + 1;
}

/* moves n bytes over fd before the deadline: 0, or -1 (errno set; ETIMEDOUT, or EPIPE when the peer left) */
static int move_all(const ft_rdzv *z, int fd, void *buf, size_t n, bool out)
{
	char *p = buf;
	while (n > 0) {
		struct pollfd pf = { .fd = fd, .events = out ? POLLOUT : POLLIN };
		int r = poll(&pf, 1, left_ms(z));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t k = out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			errno = EPIPE;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int send_u32s(const ft_rdzv *z, int fd, const uint32_t *v, int n)
{
	uint32_t b[4];
	FT_ASSERT(n <= 4);
	for (int i = 0; i < n; i++)
		b[i] = htonl(v[i]);
	return move_all(z, fd, b, sizeof(uint32_t) * (size_t)n, true);
}

static int recv_u32s(const ft_rdzv *z, int fd, uint32_t *v, int n)
{
	FT_ASSERT(n <= 4);
	if (move_all(z, fd, v, sizeof(uint32_t) * (size_t)n, false))
		return -1;
	for (int i = 0; i < n; i++)
		v[i] = ntohl(v[i]);
	return 0;
}

static int send_text(const ft_rdzv *z, int fd, const char *s)
{
	uint32_t len = (uint32_t)strlen(s);
	FT_ASSERT(len < MAX_TEXT);
	return send_u32s(z, fd, &len, 1) || move_all(z, fd, (void *)s, len, true) ? -1 : 0;
}

/* a text of at most cap - 1 bytes into s, terminated */
static int recv_text(const ft_rdzv *z, int fd, char *s, size_t cap)
{
	uint32_t len;
	if (recv_u32s(z, fd, &len, 1))
		return -1;
	if (len >= cap) {
		errno = EPROTO;
		return -1;
	}
	if (move_all(z, fd, s, len, false))
		return -1;
	s[len] = 0;
	return 0;
}

/* rank 0's answer to a hello: FT_OK and the server's URI, or the status that ends the start and why */
static int send_answer(const ft_rdzv *z, int fd, ft_status code, const char *text)
{
	uint32_t c = (uint32_t)code;
	return send_u32s(z, fd, &c, 1) || send_text(z, fd, text) ? -1 : 0;
}

/* the sockets, closed (the start's messages are over) */
static void close_sockets(ft_rdzv *z)
{
	for (int r = 0; r < z->n_fd; r++)
		if (z->fd[r] >= 0) {
			close(z->fd[r]);
			z->fd[r] = -1;
		}
}

/* the port ftrun's rendezvous listens on: MASTER_PORT, + 1 when torchrun's store holds it */
static ft_status read_port(int *port, bool *shifted)
{
	const char *s = getenv("MASTER_PORT");
	char *end;
	long p = s ? strtol(s, &end, 10) : 0;
	if (!s || !*s || *end || p < 1 || p > 65535)
		return ft_error(FT_EBADINPUT, "MASTER_PORT=\"%s\" is not a TCP port (1-65535)", s ? s : "");
	*shifted = false;
	const char *agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
	if (agent && strcmp(agent, "True") == 0) {
		if (p == 65535)
			return ft_error(FT_EBADINPUT, "MASTER_PORT=65535 is torchrun's store; ftrun needs the next port");
		p++;
		*shifted = true;
	}
	*port = (int)p;
	return FT_OK;
}

/* ---- rank 0 ------------------------------------------------------------- */

/* starts ompi-server, which writes its URI to z->uri_file and ends with this process */
static ft_status start_server(ft_rdzv *z, char *uri, size_t cap)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(z->uri_file, sizeof(z->uri_file), "%s/ftrun-ompi-server-XXXXXX",
		 tmp && *tmp && strlen(tmp) < 30 ? tmp : "/tmp");
	int f = mkstemp(z->uri_file);
	if (f < 0)
		return ft_error(FT_ERUNTIME, "%s: %s (the file for ompi-server's URI)", z->uri_file, strerror(errno));
	close(f);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return ft_error(FT_ERUNTIME, "fork for ompi-server: %s", strerror(errno));
	if (pid == 0) {
#ifdef __linux__
		prctl(PR_SET_PDEATHSIG, SIGTERM); /* ends with rank 0, however rank 0 ends */
#endif
		if (getppid() != parent)
			_exit(0);
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execlp("ompi-server", "ompi-server", "--no-daemonize", "-r", z->uri_file, (char *)NULL);
		static const char msg[] = "ftrun: cannot run ompi-server (Debian package openmpi-bin)\n";
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nothing more to say */
		}
		_exit(127);
	}
	z->server = pid;
	/* its URI, once the file holds a whole line */
	for (;;) {
		FILE *fp = fopen(z->uri_file, "r");
		if (fp) {
			bool got = fgets(uri, (int)cap, fp) && strchr(uri, '\n');
			fclose(fp);
			if (got) {
				uri[strcspn(uri, "\n")] = 0;
				unlink(z->uri_file); /* read: nothing is left behind however this process ends */
				z->uri_file[0] = 0;
				return FT_OK;
			}
		}
		int wst;
		if (waitpid(pid, &wst, WNOHANG) == pid) {
			z->server = 0;
			return ft_error(FT_ERUNTIME,
					"ompi-server (Open MPI's rendezvous server, Debian package openmpi-bin), which a "
					"torchrun-style start needs, ended before it was ready (%s %d)",
					WIFEXITED(wst) ? "exit" : "signal", WIFEXITED(wst) ? WEXITSTATUS(wst) : WTERMSIG(wst));
		}
		if (left_ms(z) == 0)
			return ft_error(FT_ERUNTIME, "ompi-server did not report its URI within the --dist-timeout");
		pause_ms(10);
	}
}

/* a socket listening on port, every interface (IPv6 with IPv4 mapped, or IPv4) */
static int listen_on(int port)
{
	int s = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, zero = 0;
	if (s >= 0) {
		struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
					  .sin6_addr = in6addr_any };
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 128) == 0)
			return s;
		int e = errno;
		close(s);
		if (e != EAFNOSUPPORT && e != EADDRNOTAVAIL) {
			errno = e;
			return -1;
		}
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_ANY) };
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 128) == 0)
		return s;
	int e = errno;
	close(s);
	errno = e;
	return -1;
}

/* appends ", r" (or "r") to a list of at most 16 ranks in buf */
static void list_rank(char *buf, size_t cap, int *n, int r)
{
	if (*n < 16)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%s%d", *n ? ", " : "", r);
	else if (*n == 16)
		snprintf(buf + strlen(buf), cap - strlen(buf), ", ...");
	(*n)++;
}

/*
 * Rank 0: every other rank's hello before the deadline. Each rank's socket
 * lands in z->fd[r]. Problems are added to why, with *code the status they
 * end the start with: FT_EBADINPUT for ranks that disagree, FT_ERUNTIME for
 * ranks missing at the deadline (why may come in already set: rank 0's own
 * failure, told to every rank that comes). Returns FT_OK when why is empty.
 */
static ft_status gather_ranks(ft_dist *d, ft_rdzv *z, int ls, char *why, size_t cap, ft_status *code)
{
	int W = d->size, arrived = 0;
	int *extra = ft_xcalloc((size_t)W, sizeof(int)); /* sockets refused on arrival, answered at the end */
	int n_extra = 0;
	while (arrived + n_extra < W - 1 && left_ms(z) > 0) {
		struct pollfd pf = { .fd = ls, .events = POLLIN };
		int r = poll(&pf, 1, left_ms(z));
		if (r <= 0)
			continue;
		int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		uint32_t hello[3];
		ft_rdzv brief = *z; /* a client that connects and says nothing does not hold the others up */
		if (brief.deadline > ft_now_s() + HELLO_S)
			brief.deadline = ft_now_s() + HELLO_S;
		if (recv_u32s(&brief, fd, hello, 3) || hello[0] != MAGIC) {
			close(fd); /* not an ftrun rank (a port scan, a stray client): ignored */
			continue;
		}
		int rank = (int)hello[1], world = (int)hello[2];
		bool bad = false;
		if (world != W) {
			snprintf(why + strlen(why), cap - strlen(why), "%srank %d says WORLD_SIZE=%d, rank 0 has %d",
				 *why ? "; " : "", rank, world, W);
			bad = true;
		} else if (rank < 1 || rank >= W || z->fd[rank] >= 0) {
			snprintf(why + strlen(why), cap - strlen(why), "%stwo processes say RANK=%d", *why ? "; " : "",
				 rank);
			bad = true;
		}
		if (bad && *code == FT_OK)
			*code = FT_EBADINPUT;
		if (bad && n_extra < W) {
			extra[n_extra++] = fd;
		} else if (bad) {
			close(fd);
		} else {
			z->fd[rank] = fd;
			arrived++;
		}
	}
	if (arrived < W - 1 && !*why) {
		char who[256] = "";
		int n = 0;
		for (int r = 1; r < W; r++)
			if (z->fd[r] < 0)
				list_rank(who, sizeof(who), &n, r);
		snprintf(why, cap, "%s %s did not reach rank 0 at %s within %g s (--dist-timeout)",
			 n > 1 ? "ranks" : "rank", who, z->where, d->timeout_s);
		*code = FT_ERUNTIME;
	}
	/* the refused sockets are told why and closed; the accepted ones are answered by the caller */
	for (int i = 0; i < n_extra; i++) {
		send_answer(z, extra[i], *code, why);
		close(extra[i]);
	}
	free(extra);
	return *why ? *code : FT_OK;
}

static ft_status meet_root(ft_dist *d, ft_rdzv *z, int port, char *uri, size_t cap)
{
	int ls = listen_on(port);
	if (ls < 0)
		return ft_error(FT_EBADINPUT,
				"rank 0 cannot listen on TCP port %d for the other ranks (%s): %s; set MASTER_PORT "
				"to a free port", port, z->where, strerror(errno));
	char why[1024] = "";
	ft_status code = start_server(z, uri, cap);
	if (code != FT_OK) /* the ranks still gathered, to be told */
		snprintf(why, sizeof(why), "%s", ft_last_error());
	ft_status st = gather_ranks(d, z, ls, why, sizeof(why), &code);
	close(ls);
	const char *answer = st ? why : uri;
	for (int r = 1; r < d->size; r++)
		if (z->fd[r] >= 0 && send_answer(z, z->fd[r], st, answer))
			if (st == FT_OK)
				st = ft_error(FT_ERUNTIME, "rank %d left during the start (%s)", r, strerror(errno));
	if (st != FT_OK && *why)
		st = ft_error(st, "the torchrun-style start failed: %s", why);
	return st;
}

/* ---- ranks > 0 ---------------------------------------------------------- */

/* fd connected to a before the deadline (non-blocking connect polled): 0, or -1 with errno */
static int connect_by(const ft_rdzv *z, int fd, const struct addrinfo *a)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
		if (errno != EINPROGRESS)
			return -1;
		struct pollfd pf = { .fd = fd, .events = POLLOUT };
		int r;
		do
			r = poll(&pf, 1, left_ms(z));
		while (r < 0 && errno == EINTR);
		if (r <= 0) {
			errno = r == 0 ? ETIMEDOUT : errno;
			return -1;
		}
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			return -1;
		if (err) {
			errno = err;
			return -1;
		}
	}
	return fcntl(fd, F_SETFL, fl); /* blocking again: move_all polls before each call */
}

/* a connection to rank 0, retried until the deadline (rank 0 may start later) */
static int dial(ft_rdzv *z, const char *host, int port, ft_status *st)
{
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
	int fd = -1, last = 0, e;
	/* a name server that is not answering yet (EAI_AGAIN) is retried as rank 0 is */
	while ((e = getaddrinfo(host, service, &hints, &res)) == EAI_AGAIN && left_ms(z) > 0)
		pause_ms(200);
	if (e) {
		*st = ft_error(e == EAI_AGAIN ? FT_ERUNTIME : FT_EBADINPUT, "MASTER_ADDR=\"%s\" does not resolve: %s",
			       host, gai_strerror(e));
		return -1;
	}
	while (fd < 0 && left_ms(z) > 0) {
		for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
			fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
			if (fd >= 0 && connect_by(z, fd, a) != 0) {
				last = errno;
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0)
			pause_ms(50);
	}
	freeaddrinfo(res);
	if (fd < 0)
		*st = ft_error(FT_ERUNTIME, "rank 0 did not answer at %s within the --dist-timeout (%s)", z->where,
			       last ? strerror(last) : "no time left");
	return fd;
}

static ft_status meet_other(ft_dist *d, ft_rdzv *z, const char *host, int port, char *uri, size_t cap)
{
	ft_status st = FT_OK;
	int fd = dial(z, host, port, &st);
	if (fd < 0)
		return st;
	z->fd[0] = fd;
	uint32_t hello[3] = { MAGIC, (uint32_t)d->rank, (uint32_t)d->size }, code;
	if (send_u32s(z, fd, hello, 3) || recv_u32s(z, fd, &code, 1))
		return ft_error(FT_ERUNTIME, "rank 0 at %s did not let rank %d join within the --dist-timeout (%s)",
				z->where, d->rank, strerror(errno));
	if (recv_text(z, fd, uri, cap))
		return ft_error(FT_ERUNTIME, "rank 0 at %s broke off the start (%s)", z->where, strerror(errno));
	if (code != FT_OK)
		return ft_error(code == FT_EBADINPUT || code == FT_EUNSUPPORTED ? FT_EBADINPUT : FT_ERUNTIME,
				"rank 0 refused the start: %s", uri);
	return FT_OK;
}

/* ---- both --------------------------------------------------------------- */

ft_status ft_rdzv_meet(ft_dist *d, ft_rdzv **out)
{
	*out = NULL;
	const char *host = getenv("MASTER_ADDR");
	if (!host || !*host)
		return ft_error(FT_EBADINPUT, "WORLD_SIZE=%d RANK=%d (torchrun-style) needs MASTER_ADDR and MASTER_PORT: "
				"the address and port of rank 0's machine", d->size, d->rank);
	int port = 0;
	bool shifted = false;
	FT_TRY(read_port(&port, &shifted));
	if (d->rank >= d->size)
		return ft_error(FT_EBADINPUT, "RANK=%d is not below WORLD_SIZE=%d", d->rank, d->size);
	ft_rdzv *z = ft_xcalloc(1, sizeof(*z));
	/* the other ranks give rank 0 GRACE_S more, so that rank 0's message, which names the missing ranks, reaches them */
	z->deadline = ft_now_s() + d->timeout_s + (d->rank > 0 ? GRACE_S : 0);
	z->n_fd = d->size;
	z->fd = ft_xmalloc(sizeof(int) * (size_t)d->size);
	for (int r = 0; r < d->size; r++)
		z->fd[r] = -1;
	snprintf(z->where, sizeof(z->where), "%s:%d%s", host, port,
		 shifted ? " (MASTER_PORT + 1: torchrun's store holds MASTER_PORT)" : "");
	char uri[MAX_TEXT];
	ft_status st = d->rank == 0 ? meet_root(d, z, port, uri, sizeof(uri))
				    : meet_other(d, z, host, port, uri, sizeof(uri));
	if (st == FT_OK && setenv("OMPI_MCA_pmix_server_uri", uri, 1) != 0)
		st = ft_error(FT_ERUNTIME, "setenv: %s", strerror(errno));
	if (st != FT_OK) {
		ft_rdzv_end(z);
		return st;
	}
	*out = z;
	return FT_OK;
}

double ft_rdzv_seconds_left(const ft_rdzv *z)
{
	return left_ms(z) / 1000.0;
}

ft_status ft_rdzv_join(ft_dist *d, ft_rdzv *z, MPI_Comm *world)
{
	char port[MPI_MAX_PORT_NAME] = "";
	ft_status st = FT_OK;
	if (d->rank == 0 && MPI_Open_port(MPI_INFO_NULL, port) != MPI_SUCCESS)
		st = ft_error(FT_ERUNTIME, "MPI_Open_port failed (the torchrun-style start)");
	MPI_Comm group = MPI_COMM_SELF;
	int members = 1;
	if (d->rank > 0) { /* this rank's turn: rank 0 sends the port name when the ranks before it are in */
		if (recv_text(z, z->fd[0], port, sizeof(port)))
			st = ft_error(FT_ERUNTIME, "rank 0 at %s did not let rank %d connect within the --dist-timeout "
					"(%s; rank 0's message says why)", z->where, d->rank, strerror(errno));
		MPI_Comm inter;
		if (st == FT_OK && MPI_Comm_connect(port, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter) != MPI_SUCCESS)
			st = ft_error(FT_ERUNTIME, "MPI_Comm_connect to rank 0 failed (the torchrun-style start)");
		if (st == FT_OK) {
			MPI_Intercomm_merge(inter, 1, &group);
			MPI_Comm_free(&inter);
			MPI_Comm_size(group, &members);
		}
	}
	while (st == FT_OK && members < d->size) {
		if (d->rank == 0 && send_text(z, z->fd[members], port)) {
			/* the rank left: this rank ends with the message; the ranks joined so far wait in
			   MPI_Comm_accept until dist_mpi.c's watchdog ends them at the start's deadline */
			st = ft_error(FT_ERUNTIME, "rank %d left during the start (%s)", members, strerror(errno));
			break;
		}
		MPI_Comm inter, next;
		if (MPI_Comm_accept(port, MPI_INFO_NULL, 0, group, &inter) != MPI_SUCCESS) {
			st = ft_error(FT_ERUNTIME, "MPI_Comm_accept failed (the torchrun-style start)");
			break;
		}
		MPI_Intercomm_merge(inter, 0, &next);
		MPI_Comm_free(&inter);
		if (group != MPI_COMM_SELF)
			MPI_Comm_free(&group);
		group = next;
		MPI_Comm_size(group, &members);
	}
	if (d->rank == 0 && *port)
		MPI_Close_port(port);
	close_sockets(z);
	int rank = -1;
	if (st == FT_OK)
		MPI_Comm_rank(group, &rank);
	if (st == FT_OK && rank != d->rank)
		st = ft_error(FT_ERUNTIME, "the joined ranks are out of order: RANK=%d became MPI rank %d", d->rank, rank);
	if (st != FT_OK) {
		if (group != MPI_COMM_SELF)
			MPI_Comm_free(&group);
		return st;
	}
	*world = group;
	return FT_OK;
}

void ft_rdzv_end(ft_rdzv *z)
{
	if (!z)
		return;
	close_sockets(z);
	if (z->server > 0) { /* SIGTERM, and SIGKILL when it has not ended within 2 s */
		kill(z->server, SIGTERM);
		pid_t w = 0;
		for (int i = 0; i < 200 && (w = waitpid(z->server, NULL, WNOHANG)) == 0; i++)
			pause_ms(10);
		if (w == 0) {
			kill(z->server, SIGKILL);
			waitpid(z->server, NULL, 0);
		}
	}
	if (z->uri_file[0])
		unlink(z->uri_file);
	free(z->fd);
	free(z);
}
