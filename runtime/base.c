#include "base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local char err_msg[2048];

ft_status ft_error(ft_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
	va_end(ap);
	return st;
}

void ft_error_prefix(const char *fmt, ...)
{
	char prefix[1024], old[sizeof(err_msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err_msg, sizeof(old));
	snprintf(err_msg, sizeof(err_msg), "%s: %s", prefix, old);
}

const char *ft_last_error(void)
{
	return err_msg[0] ? err_msg : "unknown error";
}

void ft_clear_error(void)
{
	err_msg[0] = 0;
}

void ft_fatal(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "ftrun: internal error at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *ft_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		ft_fatal(__FILE__, __LINE__, "out of memory (%zu bytes)", size);
	return p;
}

void *ft_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		ft_fatal(__FILE__, __LINE__, "out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *ft_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (!q)
		ft_fatal(__FILE__, __LINE__, "out of memory (%zu bytes)", size);
	return q;
}

void *ft_aligned_alloc(size_t size)
{
	size_t rounded = ft_align64(size);
	void *p = NULL;
	if (posix_memalign(&p, 64, rounded ? rounded : 64) != 0)
		ft_fatal(__FILE__, __LINE__, "out of memory (%zu bytes)", size);
	memset(p, 0, rounded ? rounded : 64);
	return p;
}

/* ---- arena: a list of blocks; big requests get a block of their own ---- */

typedef struct ft_arena_block {
	struct ft_arena_block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
} ft_arena_block;

struct ft_arena {
	ft_arena_block *head;
};

enum { ARENA_BLOCK = 1 << 16 };

ft_arena *ft_arena_new(void)
{
	return ft_xcalloc(1, sizeof(ft_arena));
}

void ft_arena_free(ft_arena *a)
{
	if (!a)
		return;
	ft_arena_block *b = a->head;
	while (b) {
		ft_arena_block *next = b->next;
		free(b);
		b = next;
	}
	free(a);
}

void *ft_arena_alloc(ft_arena *a, size_t size)
{
	size = (size + 15) & ~(size_t)15;
	ft_arena_block *b = a->head;
	if (!b || b->cap - b->used < size) {
		size_t cap = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;
		ft_arena_block *nb = ft_xmalloc(sizeof(*nb) + cap);
		nb->used = 0;
		nb->cap = cap;
		if (b && cap != ARENA_BLOCK) {
			/* a big block goes behind the current one so it stays usable */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *ft_arena_strdup(ft_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p = ft_arena_alloc(a, n + 1);
	memcpy(p, s, n + 1);
	return p;
}

char *ft_arena_printf(ft_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = ft_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}

bool ft_env_on(const char *name)
{
	const char *v = getenv(name);
	return v && strcmp(v, "1") == 0;
}

bool ft_env_off(const char *name)
{
	const char *v = getenv(name);
	return v && strcmp(v, "0") == 0;
}

bool ft_env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

double ft_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
