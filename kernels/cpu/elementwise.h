/*
 * kernels/cpu/elementwise.h - what the elementwise CPU kernels offer beyond
 * the op table's ft_cpu_* functions (declared in ops.h).
 */
#ifndef FT_CPU_ELEMENTWISE_H
#define FT_CPU_ELEMENTWISE_H

#include <stdint.h>

/*
 * Seeds the random masks of training-mode Dropout nodes that have no seed
 * attribute (the run's --seed) and restarts their per-call counter, so two
 * runs with the same seed draw the same masks in the same order.
 */
void ft_cpu_dropout_seed(uint64_t seed);

#endif
