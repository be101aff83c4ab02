/*
 * loader.c - the prefetching loader and its staging ring (loader.h).
 *
 * One mutex guards the ring. A slot goes FREE -> FILLING (a worker gave it
 * the next position and its dataset indices) -> READY (every sample written)
 * -> HELD (the consumer has it) -> FREE. Workers take samples from the
 * FILLING slot with the lowest sequence number first; when none has samples
 * left and a slot is FREE they start the next position in it.
 */
#include "loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

enum slot_state { SLOT_FREE, SLOT_FILLING, SLOT_READY, SLOT_HELD };

typedef struct ring_slot {
	enum slot_state state;
	int64_t seq;            /* position in the sequence */
	int64_t epoch, index;
	uint8_t *images;
	int64_t *labels;
	int64_t *sample;        /* dataset index per image, -1 past the end */
	int64_t next_k, done;   /* samples taken and finished */
	bool failed;
	int64_t err_k;          /* the first failed sample, so the error does not depend on timing */
	ft_status err_st;
	char err_msg[2048];
} ring_slot;

struct ft_loader {
	ft_dataset *ds;
	ft_loader_config cfg;
	ft_staging_allocator alloc;
	size_t img_numel;       /* C * H * W */
	int64_t count;          /* images per slot */
	int n_slots;
	ring_slot *slots;
	pthread_t *threads;
	int n_threads;
	pthread_mutex_t lock;
	pthread_cond_t work, ready;
	bool stop;
	int64_t next_seq;       /* the next position to start */
	int64_t next_epoch, next_index;
	int64_t consume_seq;    /* the next position the consumer gets */
	ft_loader_stats stats;
};

static void *host_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return ft_aligned_alloc(bytes);
}

static void host_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void ft_loader_config_defaults(ft_loader_config *c)
{
	memset(c, 0, sizeof(*c));
	c->batch = 32;
	c->micro = 1;
	c->stride = 1;
	c->depth = FT_LOADER_DEFAULT_DEPTH;
	c->staging = FT_STAGING_PINNED;
}

size_t ft_loader_slot_bytes(const ft_loader *ld)
{
	return (size_t)ld->count * ld->img_numel;
}

/* Gives free slot s the next position of the sequence (lock held). */
static void start_slot(ft_loader *ld, ring_slot *s)
{
	const ft_loader_config *c = &ld->cfg;
	s->state = SLOT_FILLING;
	s->seq = ld->next_seq++;
	s->epoch = ld->next_epoch;
	s->index = ld->next_index;
	s->next_k = s->done = 0;
	s->failed = false;
	s->err_k = INT64_MAX;
	if (c->staging == FT_STAGING_PAGEABLE) {
		s->images = ft_xmalloc(ft_loader_slot_bytes(ld));
		s->labels = ft_xmalloc(sizeof(int64_t) * (size_t)ld->count);
	}
	int64_t step = c->micro * c->stride;
	for (int m = 0; m < c->micro; m++) {
		int64_t b = s->index + m * c->stride + c->offset;
		ft_dataset_order(ld->ds, s->epoch, b * c->batch, c->batch, s->sample + (size_t)m * (size_t)c->batch);
	}
	ld->next_index += step;
	if (ld->next_index + step > c->per_epoch) {
		ld->next_epoch++;
		ld->next_index = 0;
	}
}

/* The FILLING slot with samples left and the lowest sequence number, or NULL (lock held). */
static ring_slot *pick_slot(ft_loader *ld)
{
	ring_slot *best = NULL;
	for (int i = 0; i < ld->n_slots; i++) {
		ring_slot *s = &ld->slots[i];
		if (s->state == SLOT_FILLING && s->next_k < ld->count && (!best || s->seq < best->seq))
			best = s;
	}
	if (best)
		return best;
	if (ld->cfg.limit > 0 && ld->next_seq >= ld->cfg.limit)
		return NULL;
	for (int i = 0; i < ld->n_slots; i++)
		if (ld->slots[i].state == SLOT_FREE) {
			start_slot(ld, &ld->slots[i]);
			return &ld->slots[i];
		}
	return NULL;
}

static void *worker(void *arg)
{
	ft_loader *ld = arg;
	ft_data_scratch *sc = ft_data_scratch_new();
	pthread_mutex_lock(&ld->lock);
	for (;;) {
		ring_slot *s = NULL;
		while (!ld->stop && !(s = pick_slot(ld)))
			pthread_cond_wait(&ld->work, &ld->lock);
		if (ld->stop)
			break;
		int64_t k = s->next_k++;
		bool skip = s->failed;
		pthread_mutex_unlock(&ld->lock);
		ft_status st = FT_OK;
		char msg[2048] = "";
		if (!skip) {
			st = ft_dataset_sample_u8(ld->ds, s->epoch, s->sample[k], sc, s->images + (size_t)k * ld->img_numel,
						  &s->labels[k]);
			if (st != FT_OK)
				snprintf(msg, sizeof(msg), "%s", ft_last_error());
		}
		pthread_mutex_lock(&ld->lock);
		if (st != FT_OK) {
			s->failed = true;
			if (k < s->err_k) {
				s->err_k = k;
				s->err_st = st;
				memcpy(s->err_msg, msg, sizeof(msg));
			}
		}
		if (++s->done == ld->count) {
			s->state = SLOT_READY;
			pthread_cond_broadcast(&ld->ready);
		}
	}
	pthread_mutex_unlock(&ld->lock);
	ft_data_scratch_free(sc);
	return NULL;
}

ft_status ft_loader_new(ft_dataset *ds, const ft_loader_config *cfg, ft_loader **out)
{
	*out = NULL;
	int64_t step = (int64_t)cfg->micro * cfg->stride, count;
	if (cfg->batch < 1 || cfg->micro < 1 || cfg->stride < 1 || cfg->offset < 0 || cfg->offset >= cfg->stride ||
	    cfg->per_epoch < step || cfg->epoch < 0 || cfg->index < 0 || cfg->index + step > cfg->per_epoch)
		return ft_error(FT_EBADINPUT, "loader: batch %lld x %d, %lld batches an epoch, stride %lld offset %lld, "
				"start at epoch %lld batch %lld", (long long)cfg->batch, cfg->micro,
				(long long)cfg->per_epoch, (long long)cfg->stride, (long long)cfg->offset,
				(long long)cfg->epoch, (long long)cfg->index);
	/* the last batch a slot can read is per_epoch - stride + offset < per_epoch */
	if (cfg->per_epoch > (ft_dataset_size(ds) + cfg->batch - 1) / cfg->batch ||
	    !ft_mul_ok(cfg->batch, cfg->micro, &count))
		return ft_error(FT_EBADINPUT, "loader: %lld batches of %lld an epoch need more than the %lld images of "
				"the dataset", (long long)cfg->per_epoch, (long long)cfg->batch,
				(long long)ft_dataset_size(ds));
	ft_loader *ld = ft_xcalloc(1, sizeof(*ld));
	ld->ds = ds;
	ld->cfg = *cfg;
	ld->alloc = cfg->allocator ? *cfg->allocator : (ft_staging_allocator){ host_alloc, host_free, NULL };
	ld->cfg.allocator = NULL;
	int C, H, W;
	ft_dataset_input_shape(ds, &C, &H, &W);
	ld->img_numel = (size_t)C * (size_t)H * (size_t)W;
	ld->count = count;
	ld->n_slots = cfg->depth > 0 ? cfg->depth : FT_LOADER_DEFAULT_DEPTH;
	ld->slots = ft_xcalloc((size_t)ld->n_slots, sizeof(ring_slot));
	for (int i = 0; i < ld->n_slots; i++) {
		ring_slot *s = &ld->slots[i];
		s->sample = ft_xmalloc(sizeof(int64_t) * (size_t)count);
		if (cfg->staging == FT_STAGING_PINNED) {
			s->images = ld->alloc.alloc(ld->alloc.ctx, ft_loader_slot_bytes(ld));
			s->labels = ld->alloc.alloc(ld->alloc.ctx, sizeof(int64_t) * (size_t)count);
			if (!s->images || !s->labels) {
				ft_loader_free(ld);
				return ft_error(FT_ERUNTIME, "loader: cannot allocate %d staging buffers of %zu bytes",
						ld->n_slots, ft_loader_slot_bytes(ld));
			}
		}
	}
	ld->next_epoch = cfg->epoch;
	ld->next_index = cfg->index;
	pthread_mutex_init(&ld->lock, NULL);
	pthread_cond_init(&ld->work, NULL);
	pthread_cond_init(&ld->ready, NULL);
	int workers = cfg->workers;
	if (workers <= 0) {
		long nc = sysconf(_SC_NPROCESSORS_ONLN);
		workers = nc > 0 ? (int)(nc < 256 ? nc : 256) : 1;
	}
	ld->threads = ft_xcalloc((size_t)workers, sizeof(pthread_t));
	for (; ld->n_threads < workers; ld->n_threads++)
		if (pthread_create(&ld->threads[ld->n_threads], NULL, worker, ld) != 0)
			break;
	if (ld->n_threads == 0) {
		ft_loader_free(ld);
		return ft_error(FT_ERUNTIME, "loader: cannot start a worker thread");
	}
	*out = ld;
	return FT_OK;
}

ft_status ft_loader_next(ft_loader *ld, ft_loader_slot *out)
{
	pthread_mutex_lock(&ld->lock);
	if (ld->cfg.limit > 0 && ld->consume_seq >= ld->cfg.limit) {
		pthread_mutex_unlock(&ld->lock);
		return ft_error(FT_ERUNTIME, "loader: all %lld slots were handed out", (long long)ld->cfg.limit);
	}
	int held = 0;
	for (int i = 0; i < ld->n_slots; i++)
		held += ld->slots[i].state == SLOT_HELD;
	FT_ASSERT(held < ld->n_slots); /* the consumer must release before asking for more than depth */
	double t0 = now_s();
	ring_slot *s = NULL;
	for (;;) {
		for (int i = 0; i < ld->n_slots && !s; i++)
			if (ld->slots[i].state == SLOT_READY && ld->slots[i].seq == ld->consume_seq)
				s = &ld->slots[i];
		if (s)
			break;
		pthread_cond_wait(&ld->ready, &ld->lock);
	}
	ld->stats.wait_s += now_s() - t0;
	ld->consume_seq++;
	s->state = SLOT_HELD;
	ft_status st = FT_OK;
	if (s->failed)
		st = ft_error(s->err_st, "%s", s->err_msg);
	ld->stats.slots++;
	ld->stats.images += ld->count;
	ld->stats.bytes_staged += (int64_t)(ft_loader_slot_bytes(ld) + sizeof(int64_t) * (size_t)ld->count);
	*out = (ft_loader_slot){ .images = s->images, .labels = s->labels, .epoch = s->epoch, .index = s->index,
				 .id = (int)(s - ld->slots) };
	pthread_mutex_unlock(&ld->lock);
	return st;
}

void ft_loader_release(ft_loader *ld, ft_loader_slot *slot)
{
	FT_ASSERT(slot->id >= 0 && slot->id < ld->n_slots);
	pthread_mutex_lock(&ld->lock);
	ring_slot *s = &ld->slots[slot->id];
	FT_ASSERT(s->state == SLOT_HELD);
	if (ld->cfg.staging == FT_STAGING_PAGEABLE) {
		free(s->images);
		free(s->labels);
		s->images = NULL;
		s->labels = NULL;
	}
	s->state = SLOT_FREE;
	pthread_cond_broadcast(&ld->work);
	pthread_mutex_unlock(&ld->lock);
	slot->images = NULL;
	slot->labels = NULL;
	slot->id = -1;
}

ft_loader_stats ft_loader_get_stats(ft_loader *ld)
{
	pthread_mutex_lock(&ld->lock);
	ft_loader_stats s = ld->stats;
	pthread_mutex_unlock(&ld->lock);
	return s;
}

void ft_loader_free(ft_loader *ld)
{
	if (!ld)
		return;
	if (ld->threads) {
		pthread_mutex_lock(&ld->lock);
		ld->stop = true;
		pthread_cond_broadcast(&ld->work);
		pthread_mutex_unlock(&ld->lock);
		for (int t = 0; t < ld->n_threads; t++)
			pthread_join(ld->threads[t], NULL);
		free(ld->threads);
		pthread_cond_destroy(&ld->ready);
		pthread_cond_destroy(&ld->work);
		pthread_mutex_destroy(&ld->lock);
	}
	for (int i = 0; i < ld->n_slots; i++) {
		ring_slot *s = &ld->slots[i];
		if (ld->cfg.staging == FT_STAGING_PINNED) {
			if (s->images)
				ld->alloc.free(ld->alloc.ctx, s->images);
			if (s->labels)
				ld->alloc.free(ld->alloc.ctx, s->labels);
		} else {
			free(s->images);
			free(s->labels);
		}
		free(s->sample);
	}
	free(ld->slots);
	free(ld);
}

/* ---- the device half: ImageNormalize at the head of the graph --------------- */

ft_status ft_graph_input_u8(ft_graph *g, int input, const float mean[3], const float std[3])
{
	FT_ASSERT(input >= 0 && input < g->n_inputs);
	int old = g->inputs[input];
	ft_tensor *x = &g->tensors[old];
	char buf[64];
	if (x->rank != 4 || !ft_dtype_is_float(x->dtype) || (x->dims[1] != 1 && x->dims[1] != 3))
		return ft_error(FT_EUNSUPPORTED, "%s: input \"%s\" is %s %s; uint8 images need float (N,1|3,H,W)",
				g->path, x->name, ft_dtype_name(x->dtype), ft_shape_str(x, buf, sizeof(buf)));
	if (x->dtype != FT_F32)
		return ft_error(FT_EUNSUPPORTED, "%s: input \"%s\" is %s; ImageNormalize makes float32", g->path,
				x->name, ft_dtype_name(x->dtype));
	char name[600];
	snprintf(name, sizeof(name), "%.500s/uint8", x->name);
	int u8 = ft_graph_new_tensor(g, name);
	x = &g->tensors[old];
	ft_tensor *t = &g->tensors[u8];
	ft_tensor_set_shape(t, FT_U8, x->rank, x->dims);
	t->kind = FT_TK_INPUT;
	x->kind = FT_TK_ACT;
	int C = (int)x->dims[1];
	float m[3], s[3];
	for (int c = 0; c < C; c++) {
		m[c] = mean[c];
		s[c] = std[c] != 0 ? std[c] : 1.0f;
	}
	ft_node *n = ft_graph_add_node(g, FT_OP_IMAGE_NORMALIZE, "ft/input/normalize", 1, 1);
	n->in[0] = u8;
	n->out[0] = old;
	ft_node_set_floats(g, n, "mean", m, C);
	ft_node_set_floats(g, n, "std", s, C);
	FT_TRY(ft_op_table[n->op].infer(g, n));
	/* to the front: it feeds every consumer of the old input */
	ft_node head = g->nodes[g->n_nodes - 1];
	memmove(g->nodes + 1, g->nodes, sizeof(ft_node) * (size_t)(g->n_nodes - 1));
	g->nodes[0] = head;
	for (int i = 0; i < g->n_nodes; i++)
		for (int j = 0; j < g->nodes[i].n_out; j++)
			if (g->nodes[i].out[j] >= 0)
				g->tensors[g->nodes[i].out[j]].producer = i;
	g->inputs[input] = u8;
	return FT_OK;
}

bool ft_backend_staging(const ft_backend *be, ft_staging_allocator *out)
{
	if (!be->iface->host_alloc || !be->iface->host_free)
		return false;
	*out = (ft_staging_allocator){ be->iface->host_alloc, be->iface->host_free, be->ctx };
	return true;
}

void ft_loader_ahead_init(ft_loader_ahead *a, ft_loader *ld, bool on)
{
	memset(a, 0, sizeof(*a));
	a->ld = ld;
	a->on = on && ld->n_slots >= 2;
	a->cur.id = a->next.id = -1;
}

ft_status ft_loader_ahead_next(ft_loader_ahead *a, bool more, const void **next_images)
{
	ft_status st;
	*next_images = NULL;
	if (a->has_next) {
		a->cur = a->next;
		a->has_next = false;
		a->next.id = -1;
		st = a->next_st ? ft_error(a->next_st, "%s", a->next_msg) : FT_OK;
	} else {
		st = ft_loader_next(a->ld, &a->cur);
	}
	if (st || !a->on || !more)
		return st;
	a->next_st = ft_loader_next(a->ld, &a->next);
	a->has_next = true;
	if (a->next_st) { /* reported when its step comes */
		snprintf(a->next_msg, sizeof(a->next_msg), "%s", ft_last_error());
		ft_clear_error();
	} else {
		*next_images = a->next.images;
	}
	return FT_OK;
}

void ft_loader_ahead_done(ft_loader_ahead *a)
{
	if (a->cur.id >= 0)
		ft_loader_release(a->ld, &a->cur);
}

void ft_loader_ahead_end(ft_loader_ahead *a)
{
	if (!a->ld)
		return;
	ft_loader_ahead_done(a);
	if (a->has_next && a->next.id >= 0)
		ft_loader_release(a->ld, &a->next);
	a->has_next = false;
}
