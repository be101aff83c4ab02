/* inspect.h - the report of `ftrun inspect`. */
#ifndef FT_INSPECT_H
#define FT_INSPECT_H

#include <stdio.h>

#include "ir.h"

/* FLOPs of one forward pass of the specialised graph (a multiply-add is 2). */
double ft_graph_flops(const ft_graph *g);

/* Imports path, specialises it for batch and prints what it holds to f; params: every parameter by name. */
ft_status ft_inspect(const char *path, int64_t batch, bool params, FILE *f);

#endif
