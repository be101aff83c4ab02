/*
 * chart.h - bar charts as PNG files, for `ftrun bench`.
 *
 * One chart: a title and n_panels panels stacked vertically, each a bar per
 * label with its value printed above it; bars are scaled to the panel's
 * largest value. values is n_panels x n_bars, row-major. Text is drawn in a
 * built-in 5x7 font (digits, letters, + - . / % ( ) , : _). Written to a
 * temporary file and renamed.
 */
#ifndef FT_CHART_H
#define FT_CHART_H

#include "base.h"

ft_status ft_chart_bars(const char *path, const char *title, int n_bars, const char *const *labels, int n_panels,
			const char *const *panel_titles, const double *values);

#endif
