/*
 * nccl_none.c - nccl_grads.h in a build without CUDA: never available, so dist.c keeps
 * the host path and calls nothing else here.
 */
#include <stdio.h>

#include "nccl_grads.h"

bool ft_nccl_available(char *why, size_t len)
{
	snprintf(why, len, "this ftrun was built without CUDA");
	return false;
}

ft_status ft_nccl_unique_id(void *id)
{
	(void)id;
	return ft_error(FT_EUNSUPPORTED, "NCCL: this ftrun was built without CUDA");
}

ft_status ft_nccl_new(ft_backend be, const void *id, int rank, int size, size_t n, ft_nccl **out)
{
	(void)be, (void)id, (void)rank, (void)size, (void)n;
	*out = NULL;
	return ft_error(FT_EUNSUPPORTED, "NCCL: this ftrun was built without CUDA");
}

void ft_nccl_post(ft_nccl *nc, const ft_tensor *const *t, int count, size_t off)
{
	(void)nc, (void)t, (void)count, (void)off;
	FT_ASSERT(!"ft_nccl_post without CUDA");
}

ft_status ft_nccl_finish(ft_nccl *nc, double timeout_s, const char *what)
{
	(void)nc, (void)timeout_s, (void)what;
	FT_ASSERT(!"ft_nccl_finish without CUDA");
	return FT_OK;
}

void ft_nccl_unpack(ft_nccl *nc, const ft_tensor *const *t, int count, size_t off)
{
	(void)nc, (void)t, (void)count, (void)off;
	FT_ASSERT(!"ft_nccl_unpack without CUDA");
}

void ft_nccl_free(ft_nccl *nc)
{
	(void)nc;
}
