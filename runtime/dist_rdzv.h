/*
 * dist_rdzv.h - the torchrun-style start of the MPI transport (dist_mpi.c):
 * processes launched without an MPI launcher, with RANK, WORLD_SIZE,
 * MASTER_ADDR and MASTER_PORT, meet over TCP at rank 0 and are joined into one
 * MPI communicator through Open MPI's ompi-server (dist_rdzv.c says how).
 */
#ifndef FT_DIST_RDZV_H
#define FT_DIST_RDZV_H

#include <mpi.h>

#include "dist.h"

typedef struct ft_rdzv ft_rdzv;

/*
 * Before MPI_Init: meets the other ranks at MASTER_ADDR:MASTER_PORT (rank 0
 * listens there and starts ompi-server) and points Open MPI at the server.
 * Ranks that disagree (WORLD_SIZE, a RANK twice) are FT_EBADINPUT on every
 * rank that came; ranks missing at the deadline (d->timeout_s) FT_ERUNTIME,
 * named. *out is NULL on failure.
 */
ft_status ft_rdzv_meet(ft_dist *d, ft_rdzv **out);
/*
 * After MPI_Init: every rank in one communicator, in RANK order (*world);
 * closes the sockets. MPI_Comm_accept/connect have no deadline: the caller
 * watches them (dist_mpi.c's watchdog, armed for ft_rdzv_seconds_left).
 */
ft_status ft_rdzv_join(ft_dist *d, ft_rdzv *z, MPI_Comm *world);
/* seconds left before the start's deadline */
double ft_rdzv_seconds_left(const ft_rdzv *z);
/* After MPI_Finalize (or on failure): stops ompi-server on rank 0 and frees z; z may be NULL. */
void ft_rdzv_end(ft_rdzv *z);

#endif
