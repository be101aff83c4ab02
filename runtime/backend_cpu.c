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
	.supports_op = cpu_supports_op,
	.alloc = cpu_alloc,
	.free = cpu_free,
	.upload = cpu_copy,
	.download = cpu_copy,
	.run_node = cpu_run_node,
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
