/*
 * kernels/cpu/util.h - what every CPU kernel file shares: per-thread scratch
 * memory, half-precision conversions, strides of row-major shapes, and the
 * broadcast index walker.
 *
 * Kernels are plain C with OpenMP; a kernel reads its inputs' shapes from the
 * tensors (all static and checked by shape inference) and never allocates in
 * its inner loops.
 */
#ifndef FT_CPU_UTIL_H
#define FT_CPU_UTIL_H

#include <stdint.h>
#include <string.h>

#include "ir.h"

/*
 * A scratch buffer of at least size bytes, reused by the next call (contents
 * are not kept). On the main thread it is the executor's planned workspace
 * when that is large enough (the plan sizes it from ft_cpu_node_memory, so a
 * planned run allocates nothing); otherwise a buffer owned by the calling
 * thread, grown on demand (kernels called outside an executor, tests).
 * One call per kernel: the kernel carves its pieces out of the one buffer.
 */
void *ft_cpu_scratch(size_t size);
void ft_cpu_set_workspace(void *p, size_t size);
void ft_cpu_get_workspace(void **p, size_t *size);

/* fp16/bf16 (lp) <-> float32, rounding to nearest even */
void ft_cpu_widen(float *dst, const void *src, ft_dtype lp, int64_t n);
void ft_cpu_narrow(void *dst, ft_dtype lp, const float *src, int64_t n);

/* OpenMP's team size for the next parallel region, and this thread's index in it */
#ifdef _OPENMP
#include <omp.h>
static inline int ft_cpu_threads(void) { return omp_get_max_threads(); }
static inline int ft_cpu_thread(void) { return omp_get_thread_num(); }
#else
static inline int ft_cpu_threads(void) { return 1; }
static inline int ft_cpu_thread(void) { return 0; }
#endif

/* row-major strides of dims[0..rank) in elements */
void ft_strides(int rank, const int64_t *dims, int64_t *strides);

/*
 * t seen as (outer, dims[axis], inner) along the node's "axis" attribute
 * (default def, negative from the end): returns the axis; inner counts
 * elements (multiply by the element size for bytes).
 */
int ft_axis_view(const ft_node *n, int64_t def, const ft_tensor *t, int64_t *outer, int64_t *inner);

/* Strides of t when broadcast to (rank, dims): 0 on broadcast axes. */
void ft_broadcast_strides(const ft_tensor *t, int rank, const int64_t *dims, int64_t *strides);

static inline float ft_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
	if (exp == 0) {
		if (man == 0) {
			bits = sign;
		} else { /* subnormal: renormalise */
			exp = 127 - 15 + 1;
			while (!(man & 0x400)) {
				man <<= 1;
				exp--;
			}
			man &= 0x3ff;
			bits = sign | (exp << 23) | (man << 13);
		}
	} else if (exp == 0x1f) {
		bits = sign | 0x7f800000u | (man << 13);
	} else {
		bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
	}
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

/* round to nearest even, as the hardware conversion does */
static inline uint16_t ft_f32_to_f16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	uint32_t sign = (x >> 16) & 0x8000;
	uint32_t absx = x & 0x7fffffffu;
	if (absx >= 0x7f800000u) /* inf or nan */
		return (uint16_t)(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 | ((absx >> 13) & 0x3ff) : 0));
	if (absx >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
		return (uint16_t)(sign | 0x7c00);
	if (absx < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
		if (absx < 0x33000000u)
			return (uint16_t)sign;
		uint32_t e = absx >> 23, man = (absx & 0x7fffff) | 0x800000;
		uint32_t shift = 126 - e; /* 14..24 */
		uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
		if (rem > mid || (rem == mid && (half & 1)))
			half++;
		return (uint16_t)(sign | half);
	}
	uint32_t r = absx + 0x0fffu + ((absx >> 13) & 1); /* round to nearest even */
	return (uint16_t)(sign | ((r - 0x38000000u) >> 13));
}

static inline float ft_bf16_to_f32(uint16_t h)
{
	uint32_t bits = (uint32_t)h << 16;
	float f;
	memcpy(&f, &bits, 4);
	return f;
}

static inline uint16_t ft_f32_to_bf16(float f)
{
	uint32_t x;
	memcpy(&x, &f, 4);
	if ((x & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((x >> 16) | 0x40); /* quiet nan */
	x += 0x7fffu + ((x >> 16) & 1);
	return (uint16_t)(x >> 16);
}

#endif
