/*
 * kernels/cpu/elementwise.h - what the elementwise CPU kernels offer beyond
 * the op table's ft_cpu_* functions (declared in ops.h).
 */
#ifndef FT_CPU_ELEMENTWISE_H
#define FT_CPU_ELEMENTWISE_H

#include <stdint.h>

/*
 * FT_CPU_CLONES on a compute-bound loop function builds it twice, for AVX2+FMA
 * and for the baseline, picked at load time by the CPU (GCC's target_clones):
 * a portable build then still uses the wide vectors of the machine it runs on.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__gnu_linux__)
#define FT_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define FT_CPU_CLONES
#endif

/*
 * Seeds the random masks of training-mode Dropout nodes that have no seed
 * attribute (the run's --seed) and restarts their per-call counter, so two
 * runs with the same seed draw the same masks in the same order.
 */
void ft_cpu_dropout_seed(uint64_t seed);

#endif
