/*
 * fuzz_import.c - libFuzzer target for the importer and the specialiser.
 *
 * Feeds arbitrary bytes to ft_import_buffer (no folder: external data must be
 * refused, not read) and, for what imports, specialises the graph for batch 1
 * and 2 (shape inference and constant folding run the CPU kernels on
 * whatever constants the bytes hold), then plans its memory and counts its
 * FLOPs as `ftrun inspect` does. Every outcome but FT_OK/FT_EBADINPUT/
 * FT_EUNSUPPORTED, every crash, leak and sanitizer report is a finding.
 * Build and run: tests/fuzz/run_fuzz.sh.
 */
#include <stdint.h>
#include <stdlib.h>

#include "exec.h"
#include "import.h"
#include "inspect.h"

static void check_status(ft_status st)
{
	/* a runtime failure (exit 1) on a model is wrong: models are input */
	if (st != FT_OK && st != FT_EBADINPUT && st != FT_EUNSUPPORTED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int64_t batch = 1; batch <= 2; batch++) {
		ft_graph *g = NULL;
		ft_status st = ft_import_buffer(data, size, "fuzz.onnx", NULL, &g);
		check_status(st);
		if (st != FT_OK)
			return 0;
		/* specialising changes the graph: import afresh for each batch */
		st = ft_graph_specialise(g, batch, NULL, 0);
		check_status(st);
		if (st == FT_OK) {
			ft_plan plan;
			check_status(ft_plan_build(g, &plan));
			ft_plan_free(&plan);
			(void)ft_graph_flops(g);
		}
		ft_graph_free(g);
	}
	return 0;
}
