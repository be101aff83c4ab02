/* nccl_grads.c - NCCL on the CUDA backend's device buffers, libnccl opened at run time (see nccl_grads.h). */
#include "nccl_grads.h"

#include <cuda_runtime.h>
#include <dlfcn.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda_conv.h"

_Static_assert(sizeof(ncclUniqueId) == FT_NCCL_ID_BYTES, "ncclUniqueId's size");

/* the functions ftrun calls, from libnccl.so.2 */
static struct {
	void *lib;
	ncclResult_t (*get_unique_id)(ncclUniqueId *);
	ncclResult_t (*comm_init_rank)(ncclComm_t *, int, ncclUniqueId, int);
	ncclResult_t (*all_reduce)(const void *, void *, size_t, ncclDataType_t, ncclRedOp_t, ncclComm_t, cudaStream_t);
	ncclResult_t (*comm_get_async_error)(ncclComm_t, ncclResult_t *);
	ncclResult_t (*comm_abort)(ncclComm_t);
	ncclResult_t (*comm_destroy)(ncclComm_t);
	const char *(*get_error_string)(ncclResult_t);
} lib;

bool ft_nccl_available(char *why, size_t len)
{
	if (lib.lib)
		return true;
	void *h = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, len, "%s", dlerror());
		return false;
	}
	struct {
		void **fn;
		const char *name;
	} want[] = {
		{ (void **)&lib.get_unique_id, "ncclGetUniqueId" },
		{ (void **)&lib.comm_init_rank, "ncclCommInitRank" },
		{ (void **)&lib.all_reduce, "ncclAllReduce" },
		{ (void **)&lib.comm_get_async_error, "ncclCommGetAsyncError" },
		{ (void **)&lib.comm_abort, "ncclCommAbort" },
		{ (void **)&lib.comm_destroy, "ncclCommDestroy" },
		{ (void **)&lib.get_error_string, "ncclGetErrorString" },
	};
	for (size_t i = 0; i < FT_ARRAY_LEN(want); i++) {
		*want[i].fn = dlsym(h, want[i].name);
		if (!*want[i].fn) {
			snprintf(why, len, "libnccl.so.2 has no %s", want[i].name);
			dlclose(h);
			return false;
		}
	}
	lib.lib = h;
	return true;
}

struct ft_nccl {
	ft_backend be;
	cudaStream_t compute, comm_stream;
	ncclComm_t comm;
	cudaEvent_t packed, done;
	float *flat;
	size_t n;
	bool posted;
	char failed[256];       /* the first failure of a post, reported by ft_nccl_finish ("" none) */
};

static ft_status nccl_check(ncclResult_t r, const char *what)
{
	if (r == ncclSuccess)
		return FT_OK;
	return ft_error(FT_ERUNTIME, "NCCL: %s: %s", what, lib.get_error_string(r));
}

ft_status ft_nccl_unique_id(void *id)
{
	char why[256];
	if (!ft_nccl_available(why, sizeof(why)))
		return ft_error(FT_EUNSUPPORTED, "NCCL: %s", why);
	return nccl_check(lib.get_unique_id((ncclUniqueId *)id), "ncclGetUniqueId");
}

ft_status ft_nccl_new(ft_backend be, const void *id, int rank, int size, size_t n, ft_nccl **out)
{
	*out = NULL;
	char why[256];
	if (!ft_nccl_available(why, sizeof(why)))
		return ft_error(FT_EUNSUPPORTED, "NCCL: %s", why);
	FT_ASSERT(strcmp(be.iface->name, "cuda") == 0);
	ft_nccl *nc = ft_xcalloc(1, sizeof(*nc));
	nc->be = be;
	nc->compute = (cudaStream_t)ft_backend_cuda_stream(be.ctx);
	nc->n = n;
	ncclUniqueId uid;
	memcpy(&uid, id, sizeof(uid));
	ft_status st = ft_cuda_check(cudaStreamCreateWithFlags(&nc->comm_stream, cudaStreamNonBlocking), "NCCL's stream");
	if (!st)
		st = ft_cuda_check(cudaEventCreateWithFlags(&nc->packed, cudaEventDisableTiming), "cudaEventCreate");
	if (!st)
		st = ft_cuda_check(cudaEventCreateWithFlags(&nc->done, cudaEventDisableTiming), "cudaEventCreate");
	if (!st)
		st = nccl_check(lib.comm_init_rank(&nc->comm, size, uid, rank), "ncclCommInitRank");
	if (st) {
		ft_nccl_free(nc);
		return st;
	}
	nc->flat = be.iface->alloc(be.ctx, sizeof(float) * (n ? n : 1));
	*out = nc;
	return FT_OK;
}

/* a post's failure: kept for ft_nccl_finish to report (a post runs in a node hook, with no status) */
static bool post_failed(ft_nccl *nc, const char *what, const char *why)
{
	if (!nc->failed[0])
		snprintf(nc->failed, sizeof(nc->failed), "%s: %s", what, why);
	return true;
}

void ft_nccl_post(ft_nccl *nc, const ft_tensor *const *t, int count, size_t off)
{
	if (nc->failed[0])
		return;
	size_t at = off;
	cudaError_t e = cudaSuccess;
	for (int k = 0; k < count && e == cudaSuccess; k++) {
		size_t bytes = sizeof(float) * (size_t)t[k]->numel;
		e = cudaMemcpyAsync(nc->flat + at, t[k]->data, bytes, cudaMemcpyDeviceToDevice, nc->compute);
		at += (size_t)t[k]->numel;
	}
	FT_ASSERT(at <= nc->n);
	/* the NCCL stream takes the bucket once the compute stream has packed it */
	if (e == cudaSuccess)
		e = cudaEventRecord(nc->packed, nc->compute);
	if (e == cudaSuccess)
		e = cudaStreamWaitEvent(nc->comm_stream, nc->packed, 0);
	if (e != cudaSuccess && post_failed(nc, "packing a gradient bucket", cudaGetErrorString(e)))
		return;
	ncclResult_t r = lib.all_reduce(nc->flat + off, nc->flat + off, at - off, ncclFloat32, ncclAvg, nc->comm,
					nc->comm_stream);
	if (r != ncclSuccess && post_failed(nc, "ncclAllReduce", lib.get_error_string(r)))
		return;
	nc->posted = true;
}

ft_status ft_nccl_finish(ft_nccl *nc, double timeout_s, const char *what)
{
	if (nc->failed[0])
		return ft_error(FT_ERUNTIME, "%s: %s", what, nc->failed);
	if (!nc->posted)
		return FT_OK;
	nc->posted = false;
	FT_TRY(ft_cuda_check(cudaEventRecord(nc->done, nc->comm_stream), "cudaEventRecord"));
	double start = ft_now_s();
	for (;;) {
		cudaError_t e = cudaEventQuery(nc->done);
		if (e == cudaSuccess)
			break;
		if (e != cudaErrorNotReady)
			return ft_cuda_check(e, what);
		ncclResult_t async = ncclSuccess;
		lib.comm_get_async_error(nc->comm, &async);
		if (async != ncclSuccess && async != ncclInProgress) {
			lib.comm_abort(nc->comm);
			nc->comm = NULL;
			return ft_error(FT_ERUNTIME, "%s failed: NCCL: %s", what, lib.get_error_string(async));
		}
		if (ft_now_s() - start > timeout_s) {
			lib.comm_abort(nc->comm);
			nc->comm = NULL;
			return ft_error(FT_ERUNTIME, "%s (NCCL) did not complete within %g s (--dist-timeout); a rank "
					"stopped or hung inside it", what, timeout_s);
		}
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, NULL);
	}
	/* (done already on the host; the compute stream's order states it too) */
	return ft_cuda_check(cudaStreamWaitEvent(nc->compute, nc->done, 0), "cudaStreamWaitEvent");
}

void ft_nccl_unpack(ft_nccl *nc, const ft_tensor *const *t, int count, size_t off)
{
	for (int k = 0; k < count; k++) {
		size_t bytes = sizeof(float) * (size_t)t[k]->numel;
		cudaError_t e = cudaMemcpyAsync(t[k]->data, nc->flat + off, bytes, cudaMemcpyDeviceToDevice, nc->compute);
		if (e != cudaSuccess) /* (device memory the trainer holds: the device itself failed) */
			ft_fatal(__FILE__, __LINE__, "unpacking a gradient bucket: %s", cudaGetErrorString(e));
		off += (size_t)t[k]->numel;
	}
}

void ft_nccl_free(ft_nccl *nc)
{
	if (!nc)
		return;
	if (nc->comm)
		lib.comm_destroy(nc->comm);
	if (nc->flat)
		nc->be.iface->free(nc->be.ctx, nc->flat);
	if (nc->packed)
		cudaEventDestroy(nc->packed);
	if (nc->done)
		cudaEventDestroy(nc->done);
	if (nc->comm_stream)
		cudaStreamDestroy(nc->comm_stream);
	free(nc);
}
