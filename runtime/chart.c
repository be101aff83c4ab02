/* chart.c - bar charts as PNG files (libpng), with a built-in 5x7 bitmap font. */
#include "chart.h"

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 5x7 glyphs, one byte per row, bit 4 = leftmost column */
static const struct {
	char c;
	uint8_t rows[7];
} font[] = {
	{ '0', { 0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e } }, { '1', { 0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e } },
	{ '2', { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f } }, { '3', { 0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e } },
	{ '4', { 0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02 } }, { '5', { 0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e } },
	{ '6', { 0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e } }, { '7', { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 } },
	{ '8', { 0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e } }, { '9', { 0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c } },
	{ 'a', { 0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f } }, { 'b', { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1e } },
	{ 'c', { 0x00, 0x00, 0x0e, 0x10, 0x10, 0x11, 0x0e } }, { 'd', { 0x01, 0x01, 0x0d, 0x13, 0x11, 0x11, 0x0f } },
	{ 'e', { 0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e } }, { 'f', { 0x06, 0x09, 0x08, 0x1c, 0x08, 0x08, 0x08 } },
	{ 'g', { 0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e } }, { 'h', { 0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11 } },
	{ 'i', { 0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e } }, { 'j', { 0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c } },
	{ 'k', { 0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12 } }, { 'l', { 0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e } },
	{ 'm', { 0x00, 0x00, 0x1a, 0x15, 0x15, 0x11, 0x11 } }, { 'n', { 0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11 } },
	{ 'o', { 0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e } }, { 'p', { 0x00, 0x00, 0x1e, 0x11, 0x1e, 0x10, 0x10 } },
	{ 'q', { 0x00, 0x00, 0x0d, 0x13, 0x0f, 0x01, 0x01 } }, { 'r', { 0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10 } },
	{ 's', { 0x00, 0x00, 0x0e, 0x10, 0x0e, 0x01, 0x1e } }, { 't', { 0x08, 0x08, 0x1c, 0x08, 0x08, 0x09, 0x06 } },
	{ 'u', { 0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d } }, { 'v', { 0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04 } },
	{ 'w', { 0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a } }, { 'x', { 0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11 } },
	{ 'y', { 0x00, 0x00, 0x11, 0x11, 0x0f, 0x01, 0x0e } }, { 'z', { 0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f } },
	{ '+', { 0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00 } }, { '-', { 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00 } },
	{ '.', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c } }, { '/', { 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00 } },
	{ '%', { 0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03 } }, { '(', { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 } },
	{ ')', { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 } }, { ',', { 0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08 } },
	{ ':', { 0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00 } }, { '_', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f } },
};

enum { SCALE = 2, GLYPH_W = 6 * SCALE, GLYPH_H = 8 * SCALE };

typedef struct canvas {
	int w, h;
	uint8_t *rgb;
} canvas;

static void fill(canvas *cv, int x0, int y0, int x1, int y1, uint32_t color)
{
	for (int y = y0 < 0 ? 0 : y0; y < y1 && y < cv->h; y++)
		for (int x = x0 < 0 ? 0 : x0; x < x1 && x < cv->w; x++) {
			uint8_t *p = cv->rgb + 3 * ((size_t)y * (size_t)cv->w + (size_t)x);
			p[0] = (uint8_t)(color >> 16);
			p[1] = (uint8_t)(color >> 8);
			p[2] = (uint8_t)color;
		}
}

/* Text in the built-in font (other characters as blanks; capitals drawn as lower case). */
static void text(canvas *cv, int x, int y, const char *s, uint32_t color)
{
	for (; *s; s++, x += GLYPH_W) {
		char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
		for (size_t k = 0; k < sizeof(font) / sizeof(font[0]); k++) {
			if (font[k].c != c)
				continue;
			for (int r = 0; r < 7; r++)
				for (int col = 0; col < 5; col++)
					if (font[k].rows[r] & (0x10 >> col))
						fill(cv, x + col * SCALE, y + r * SCALE, x + (col + 1) * SCALE,
						     y + (r + 1) * SCALE, color);
			break;
		}
	}
}

static ft_status write_png(const char *path, const canvas *cv)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return ft_error(FT_ERUNTIME, "cannot create %s", tmp);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	if (!png || !info || setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		fclose(f);
		remove(tmp);
		return ft_error(FT_ERUNTIME, "cannot write %s", tmp);
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)cv->w, (png_uint_32)cv->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < cv->h; y++)
		png_write_row(png, cv->rgb + 3 * (size_t)y * (size_t)cv->w);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		remove(tmp);
		return ft_error(FT_ERUNTIME, "cannot write %s", path);
	}
	return FT_OK;
}

ft_status ft_chart_bars(const char *path, const char *title, int n_bars, const char *const *labels, int n_panels,
			const char *const *panel_titles, const double *values)
{
	enum { PANEL_H = 230, BAR_AREA = 160, LEFT = 20, TOP = 40 };
	int label_w = 0;
	for (int i = 0; i < n_bars; i++)
		if ((int)strlen(labels[i]) > label_w)
			label_w = (int)strlen(labels[i]);
	int slot = (label_w + 1) * GLYPH_W;
	if (slot < 9 * GLYPH_W)
		slot = 9 * GLYPH_W; /* room for the value above the bar */
	canvas cv = { .w = 2 * LEFT + n_bars * slot, .h = TOP + n_panels * PANEL_H };
	if (cv.w < (int)strlen(title) * GLYPH_W + 2 * LEFT)
		cv.w = (int)strlen(title) * GLYPH_W + 2 * LEFT;
	cv.rgb = ft_xmalloc(3 * (size_t)cv.w * (size_t)cv.h);
	memset(cv.rgb, 0xff, 3 * (size_t)cv.w * (size_t)cv.h);
	text(&cv, LEFT, 12, title, 0x000000);
	static const uint32_t colors[] = { 0x4878d0, 0xee854a, 0x6acc64, 0xd65f5f, 0x956cb4, 0x8c613c };
	for (int p = 0; p < n_panels; p++) {
		int y0 = TOP + p * PANEL_H;
		text(&cv, LEFT, y0 + 4, panel_titles[p], 0x303030);
		double max = 0;
		for (int i = 0; i < n_bars; i++)
			if (values[p * n_bars + i] > max)
				max = values[p * n_bars + i];
		int base = y0 + 30 + BAR_AREA; /* bars stand on this line */
		fill(&cv, LEFT, base, cv.w - LEFT, base + 1, 0x000000);
		for (int i = 0; i < n_bars; i++) {
			double v = values[p * n_bars + i];
			int h = max > 0 && isfinite(v) ? (int)lround(v / max * (BAR_AREA - GLYPH_H - 4)) : 0;
			int x = LEFT + i * slot + GLYPH_W / 2;
			fill(&cv, x, base - h, x + slot - GLYPH_W, base, colors[i % 6]);
			char num[32];
			snprintf(num, sizeof(num), v >= 100 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
			text(&cv, x, base - h - GLYPH_H, num, 0x000000);
			text(&cv, x, base + 6, labels[i], 0x000000);
		}
	}
	ft_status st = write_png(path, &cv);
	free(cv.rgb);
	return st;
}
