/*
 * dist_none.c - the transport of dist.h in a build without MPI: a world of 1
 * only (ft_dist_init refuses a larger one before it gets here).
 */
#include <stdlib.h>

#include "dist.h"

bool ft_dist_transport_built(void)
{
	return false;
}

ft_status ft_dist_transport_init(ft_dist *d)
{
	return ft_error(FT_EBADINPUT, "%s: this ftrun was built without MPI", d->launcher);
}

void ft_dist_transport_free(ft_dist *d)
{
	(void)d;
}

_Noreturn void ft_dist_transport_abort(ft_dist *d, int code)
{
	(void)d;
	exit(code);
}

/* a world of 1 never calls a collective (dist.c returns before) */
void ft_dist_allgather(ft_dist *d, const void *mine, void *all, size_t bytes, const char *what)
{
	FT_ASSERT(!"ft_dist_allgather without MPI");
}

void ft_dist_allreduce_f32(ft_dist *d, float *v, size_t n, const char *what)
{
	FT_ASSERT(!"ft_dist_allreduce_f32 without MPI");
}

void ft_dist_allreduce_i64(ft_dist *d, int64_t *v, int n, const char *what)
{
	FT_ASSERT(!"ft_dist_allreduce_i64 without MPI");
}

void ft_dist_broadcast(ft_dist *d, void *v, size_t bytes, const char *what)
{
	FT_ASSERT(!"ft_dist_broadcast without MPI");
}

void ft_dist_allreduce_f64(ft_dist *d, double *v, size_t n, const char *what)
{
	FT_ASSERT(!"ft_dist_allreduce_f64 without MPI");
}

void ft_dist_bucket_open(ft_dist *d)
{
	FT_ASSERT(!"ft_dist_bucket_open without MPI");
}

void ft_dist_bucket_post(ft_dist *d, float *v, size_t n)
{
	FT_ASSERT(!"ft_dist_bucket_post without MPI");
}

void ft_dist_bucket_poll(ft_dist *d)
{
	FT_ASSERT(!"ft_dist_bucket_poll without MPI");
}

void ft_dist_bucket_close(ft_dist *d, const char *what)
{
	FT_ASSERT(!"ft_dist_bucket_close without MPI");
}
