/*
 * base.h - the few things every ftrun file uses: status codes, error messages,
 * assertions and the arena allocator.
 *
 * Two kinds of failure (STYLE.md 6):
 *   - bad input is returned as an ft_status with a message set by ft_error();
 *     the CLI maps FT_EBADINPUT/FT_EUNSUPPORTED to exit code 2, the rest to 1.
 *   - a broken invariant is a bug: FT_ASSERT prints file:line and aborts.
 *
 * Arenas: every IR object of a graph lives in one arena, freed at once with
 * ft_arena_free(). Allocation never fails silently: out of memory is fatal.
 */
#ifndef FT_BASE_H
#define FT_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ft_status {
	FT_OK = 0,
	FT_EBADINPUT,    /* the user's input is wrong: file, model, flag (exit 2) */
	FT_EUNSUPPORTED, /* valid input ftrun does not handle (exit 2) */
	FT_ERUNTIME,     /* a failure while running: I/O, resources (exit 1) */
} ft_status;

/* Records the message of the most recent error (thread-local) and returns st. */
ft_status ft_error(ft_status st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefixes the recorded message with "prefix: " (used to add the file name). */
void ft_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *ft_last_error(void);
void ft_clear_error(void);

void ft_fatal(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

#define FT_ASSERT(cond)                                                    \
	do {                                                               \
		if (!(cond))                                               \
			ft_fatal(__FILE__, __LINE__, "assertion failed: %s", #cond); \
	} while (0)

#define FT_TRY(expr)                         \
	do {                                 \
		ft_status st_ = (expr);      \
		if (st_ != FT_OK)            \
			return st_;          \
	} while (0)

#define FT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- arena ---------------------------------------------------------- */

typedef struct ft_arena ft_arena;

ft_arena *ft_arena_new(void);
void ft_arena_free(ft_arena *a);
/* Zeroed, 16-byte aligned memory that lives until the arena is freed. */
void *ft_arena_alloc(ft_arena *a, size_t size);
char *ft_arena_strdup(ft_arena *a, const char *s);
char *ft_arena_printf(ft_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define FT_ARENA_NEW(a, type, n) ((type *)ft_arena_alloc((a), sizeof(type) * (size_t)(n)))

/* malloc/realloc that abort on failure (for growing buffers outside arenas). */
void *ft_xmalloc(size_t size);
void *ft_xcalloc(size_t n, size_t size);
void *ft_xrealloc(void *p, size_t size);
/* 64-byte aligned, zeroed; free with free(). */
void *ft_aligned_alloc(size_t size);
/* v rounded up to a multiple of 64 bytes: a cache line, the alignment of every planned tensor */
static inline size_t ft_align64(size_t v)
{
	return (v + 63) & ~(size_t)63;
}

/* seconds on the monotonic clock (for durations) */
double ft_now_s(void);

/* the switch `name` is on: the environment variable is set to "1" (FT_CUDA_GRAPHS=1) */
bool ft_env_on(const char *name);
/* the environment variable is "0": a default path switched off (FT_CUBLASLT=0, FT_CONV_GEMM=0...) */
bool ft_env_off(const char *name);
/* set to anything but "" and "0" (FT_PROFILE) */
bool ft_env_set(const char *name);

/* checked size arithmetic for untrusted dims: false on overflow */
static inline bool ft_mul_ok(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

#endif
