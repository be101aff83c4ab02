#include "util.h"

#include <stdlib.h>

#include <pthread.h>

/* One buffer per thread, freed by the thread's exit (pthread key destructor);
 * the main thread's is freed at exit. */
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local size_t scratch_size;
static void *main_scratch;
static pthread_t main_thread;

__attribute__((constructor)) static void record_main_thread(void)
{
	main_thread = pthread_self();
}

typedef struct scratch_buf {
	void *p;
} scratch_buf;

static void scratch_destroy(void *v)
{
	scratch_buf *b = v;
	free(b->p);
	free(b);
}

static void scratch_free_main(void)
{
	if (main_scratch)
		scratch_destroy(main_scratch);
	main_scratch = NULL;
}

static void scratch_init(void)
{
	pthread_key_create(&scratch_key, scratch_destroy);
	atexit(scratch_free_main);
}

/* the executor's planned workspace (ft_cpu_set_workspace), main thread only */
static void *workspace;
static size_t workspace_size;

void ft_cpu_set_workspace(void *p, size_t size)
{
	workspace = p;
	workspace_size = p ? size : 0;
}

void *ft_cpu_scratch(size_t size)
{
	if (size <= workspace_size && pthread_equal(pthread_self(), main_thread))
		return workspace;
	pthread_once(&scratch_once, scratch_init);
	scratch_buf *b = pthread_getspecific(scratch_key);
	if (!b) {
		b = ft_xcalloc(1, sizeof(*b));
		pthread_setspecific(scratch_key, b);
		if (pthread_equal(pthread_self(), main_thread))
			main_scratch = b;
	}
	if (size <= scratch_size && b->p)
		return b->p;
	free(b->p);
	b->p = ft_aligned_alloc(size);
	scratch_size = size;
	return b->p;
}

void ft_strides(int rank, const int64_t *dims, int64_t *strides)
{
	int64_t s = 1;
	for (int i = rank - 1; i >= 0; i--) {
		strides[i] = s;
		s *= dims[i];
	}
}

int ft_axis_view(const ft_node *n, int64_t def, const ft_tensor *t, int64_t *outer, int64_t *inner)
{
	int axis = (int)ft_attr_int(n, "axis", def);
	if (axis < 0)
		axis += t->rank;
	*outer = *inner = 1;
	for (int i = 0; i < axis; i++)
		*outer *= t->dims[i];
	for (int i = axis + 1; i < t->rank; i++)
		*inner *= t->dims[i];
	return axis;
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
	/* the matmul kernels split work over OpenMP threads and call OpenBLAS
	 * single-threaded: its own pool would spin on the cores OpenMP needs */
	openblas_set_num_threads(1);
#endif
}

void ft_cpu_widen(float *dst, const void *src, ft_dtype lp, int64_t n)
{
	const uint16_t *h = src;
	bool half = lp == FT_F16;
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
	for (int64_t i = 0; i < n; i++)
		dst[i] = half ? ft_f16_to_f32(h[i]) : ft_bf16_to_f32(h[i]);
}

void ft_cpu_narrow(void *dst, ft_dtype lp, const float *src, int64_t n)
{
	uint16_t *h = dst;
	bool half = lp == FT_F16;
#pragma omp parallel for schedule(static) if (n >= (1 << 16))
	for (int64_t i = 0; i < n; i++)
		h[i] = half ? ft_f32_to_f16(src[i]) : ft_f32_to_bf16(src[i]);
}

void ft_cpu_get_workspace(void **p, size_t *size)
{
	*p = workspace;
	*size = workspace_size;
}
