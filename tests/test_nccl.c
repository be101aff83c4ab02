/*
 * test_nccl.c - the host half of runtime/nccl_grads.c without a GPU: libnccl.so.2 opens and
 * has every function ftrun calls (dlsym), and ncclGetUniqueId makes rank 0's communicator id
 * (it needs no GPU). The all-reduce itself needs GPUs: scripts/device_check.sh runs it on one
 * (FT_NCCL_WORLD1=1). Skips (77) with the reason when libnccl.so.2 cannot be opened.
 */
#include <stdio.h>
#include <string.h>

#include "nccl_grads.h"

int main(void)
{
	char why[256] = "";
	if (!ft_nccl_available(why, sizeof(why))) {
		if (strstr(why, "has no")) { /* opened, but a function is missing: a failure */
			printf("FAIL: %s\n", why);
			return 1;
		}
		printf("SKIP: libnccl.so.2 cannot be opened here: %s\n", why);
		return 77;
	}
	unsigned char id[FT_NCCL_ID_BYTES] = { 0 }, zero[FT_NCCL_ID_BYTES] = { 0 };
	ft_status st = ft_nccl_unique_id(id);
	if (st) {
		printf("FAIL: ncclGetUniqueId: %s\n", ft_last_error());
		return 1;
	}
	if (memcmp(id, zero, sizeof(id)) == 0) {
		printf("FAIL: ncclGetUniqueId left the id all zero\n");
		return 1;
	}
	printf("ok: libnccl.so.2 opened with every function; ncclGetUniqueId made an id\n1 passed, 0 failed\n");
	return 0;
}
