/*
 * data_check.h - what tests/test_data.c and tests/test_loader.c share: the
 * CHECK macro (counts checks and failures, prints file:line and a message)
 * and opening a dataset for a test. Included by one C file each.
 */
#ifndef FT_TEST_DATA_CHECK_H
#define FT_TEST_DATA_CHECK_H

#include <stdio.h>

#include "data.h"

static int failures, checks;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		checks++;                                                     \
		if (!(cond)) {                                                \
			failures++;                                           \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);  \
			fprintf(stderr, __VA_ARGS__);                         \
			fputc('\n', stderr);                                  \
		}                                                             \
	} while (0)

/* the defaults for path's split with the model input (c, h, w), 2 workers */
static inline ft_data_config config(const char *path, bool train, int c, int h, int w)
{
	ft_data_config cfg;
	ft_data_config_defaults(&cfg);
	cfg.path = path;
	cfg.train = train;
	cfg.channels = c;
	cfg.height = h;
	cfg.width = w;
	cfg.workers = 2;
	return cfg;
}

static inline ft_dataset *open_ok(const ft_data_config *cfg)
{
	ft_dataset *ds = NULL;
	ft_status st = ft_dataset_open(cfg, &ds);
	CHECK(st == FT_OK, "open %s (%s): %s", cfg->path, cfg->train ? "train" : "held-out", ft_last_error());
	return st == FT_OK ? ds : NULL;
}

#endif
