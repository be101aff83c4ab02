/*
 * kernels/cpu/cpu.h - what the CPU backend needs from the kernel files besides
 * the per-op functions declared by ops.h.
 */
#ifndef FT_CPU_H
#define FT_CPU_H

#include "ir.h"

/*
 * What a CPU kernel caches in n->extra starts with this header; release frees
 * the whole thing (a prepared oneDNN primitive, reordered weights...).
 */
typedef struct ft_cpu_extra {
	void (*release)(struct ft_cpu_extra *self);
} ft_cpu_extra;

/* Frees what a kernel cached in n->extra and clears it. */
void ft_cpu_release(ft_node *n);
/* Thread count for the libraries the kernels call (oneDNN, OpenBLAS). */
void ft_cpu_set_threads(int threads);

#endif
