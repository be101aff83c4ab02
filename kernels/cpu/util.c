#include "util.h"

#include <stdlib.h>

static _Thread_local void *scratch;
static _Thread_local size_t scratch_size;

static void scratch_free(void)
{
	free(scratch);
}

void *ft_cpu_scratch(size_t size)
{
	if (size <= scratch_size)
		return scratch;
	if (!scratch)
		atexit(scratch_free); /* the main thread's buffer; worker buffers live as long as the pool */
	free(scratch);
	scratch = ft_aligned_alloc(size);
	scratch_size = size;
	return scratch;
}

void ft_strides(int rank, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; i--) {
		strides[i] = s;
		s *= dims[i];
	}
}

void ft_broadcast_strides(const ft_tensor *t, int rank, const int64_t *dims, int64_t *strides)
{
	int64_t own[FT_MAX_RANK];
	ft_strides(t->rank, t->dims, own);
	int off = rank - t->rank;
	for (int i = 0; i < rank; i++) {
		if (i < off || t->dims[i - off] == 1)
			strides[i] = 0;
		else
			strides[i] = own[i - off];
	}
	(void)dims;
}

#include "cpu.h"
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef FT_HAVE_BLAS
#include <cblas.h>
#endif

void ft_cpu_release(ft_node *n)
{
	ft_cpu_extra *e = n->extra;
	if (e && e->release)
		e->release(e);
	n->extra = NULL;
}

void ft_cpu_set_threads(int threads)
{
	if (threads <= 0)
		return;
#ifdef _OPENMP
	omp_set_num_threads(threads);
#endif
#ifdef FT_HAVE_BLAS
	openblas_set_num_threads(threads);
#endif
}
