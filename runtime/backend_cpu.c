/* backend_cpu.c - the CPU backend: host memory and the reference/fast kernels. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "cpu/cpu.h"

static bool cpu_supports_op(void *ctx, const ft_graph *g, const ft_node *n)
{
	(void)ctx;
	(void)g;
	return n->op < FT_OP_COUNT && ft_op_table[n->op].cpu != NULL;
}

static void *cpu_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return ft_aligned_alloc(bytes);
}

static void cpu_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static void cpu_copy(void *ctx, void *dst, const void *src, size_t bytes)
{
	(void)ctx;
	if (bytes)
		memcpy(dst, src, bytes);
}

static ft_status cpu_run_node(void *ctx, const ft_graph *g, ft_node *n)
{
	(void)ctx;
	return ft_op_table[n->op].cpu(g, n);
}

static ft_status cpu_prepare_node(void *ctx, const ft_graph *g, ft_node *n, size_t *scratch, size_t *state)
{
	(void)ctx;
	*scratch = *state = 0;
	switch (n->op) {
	case FT_OP_CONV:
	case FT_OP_CONV_GRAD_INPUT:
	case FT_OP_CONV_GRAD_WEIGHT:
		return ft_cpu_conv_memory(g, n, scratch, state);
	case FT_OP_BATCH_NORM:
	case FT_OP_BATCH_NORM_TRAIN:
	case FT_OP_BATCH_NORM_GRAD:
	case FT_OP_LAYER_NORM:
	case FT_OP_LAYER_NORM_GRAD:
		*scratch = ft_cpu_norm_scratch(g, n);
		return FT_OK;
	case FT_OP_MATMUL:
	case FT_OP_MATMUL_T:
	case FT_OP_GEMM:
		*scratch = ft_cpu_matmul_scratch(g, n);
		return FT_OK;
	default:
		return FT_OK;
	}
}

static void cpu_set_workspace(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	ft_cpu_set_workspace(p, bytes);
}

/* 1 MiB per thread and 1 MiB once: over twice what tests/test_memplan.c measures */
static size_t cpu_call_overhead(void *ctx)
{
	(void)ctx;
	int threads = 1;
#ifdef _OPENMP
	threads = omp_get_max_threads();
#endif
	return (size_t)(threads + 1) << 20;
}

static void cpu_release_node(void *ctx, ft_node *n)
{
	(void)ctx;
	ft_cpu_release(n);
}

static void cpu_sync(void *ctx)
{
	(void)ctx;
}

static void cpu_destroy(void *ctx)
{
	(void)ctx;
}

static const ft_backend_iface cpu_iface = {
	.name = "cpu",
	.call_overhead = cpu_call_overhead,
	.supports_op = cpu_supports_op,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_copy,
	.download = cpu_copy,
	.run_node = cpu_run_node,
	.prepare_node = cpu_prepare_node,
	.set_workspace = cpu_set_workspace,
	.release_node = cpu_release_node,
	.sync = cpu_sync,
	.destroy = cpu_destroy,
};

ft_backend ft_backend_cpu_new(int threads)
{
	ft_set_threads(threads);
	return (ft_backend){ &cpu_iface, NULL };
}

void ft_set_threads(int threads)
{
	ft_cpu_set_threads(threads);
}
