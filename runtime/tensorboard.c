/* tensorboard.c - see tensorboard.h for the file format. */
#include "tensorboard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h" /* ft_crc32c */
#include "tb_event.pb-c.h"

struct ft_tb_writer {
	FILE *f;
	char *path;
	uint8_t *rec; /* the record being written, grown to the largest one */
	size_t cap;
};

static uint32_t masked_crc(const void *data, size_t len)
{
	uint32_t c = ft_crc32c(0, data, len);
	return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static ft_status io_error(const ft_tb_writer *w)
{
	return ft_error(FT_ERUNTIME, "%s: %s", w->path, errno ? strerror(errno) : "write failed");
}

/* u64 length, u32 masked crc of it, the packed event, u32 masked crc of that */
static ft_status write_event(ft_tb_writer *w, const Ftrun__Tb__Event *ev)
{
	size_t n = ftrun__tb__event__get_packed_size(ev);
	if (w->cap < n + 16) {
		w->cap = n + 16;
		w->rec = ft_xrealloc(w->rec, w->cap);
	}
	uint8_t *p = w->rec;
	put_le(p, n, 8);
	put_le(p + 8, masked_crc(p, 8), 4);
	size_t packed = ftrun__tb__event__pack(ev, p + 12);
	FT_ASSERT(packed == n);
	put_le(p + 12 + n, masked_crc(p + 12, n), 4);
	errno = 0;
	if (fwrite(p, 1, n + 16, w->f) != n + 16)
		return io_error(w);
	return FT_OK;
}

double ft_tb_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *ft_tb_path(const ft_tb_writer *w)
{
	return w->path;
}

ft_status ft_tb_open(const char *dir, ft_tb_writer **out)
{
	*out = NULL;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return ft_error(FT_ERUNTIME, "%s: cannot create the TensorBoard folder: %s", dir, strerror(errno));
	char host[256];
	if (gethostname(host, sizeof(host)) != 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = 0;
	long long secs = (long long)time(NULL);
	long pid = (long)getpid();
	const char *fmt = "%s/events.out.tfevents.%lld.%s.%ld.ftrun";
	int len = snprintf(NULL, 0, fmt, dir, secs, host, pid);

	ft_status st;
	ft_tb_writer *w = ft_xcalloc(1, sizeof(*w));
	w->path = ft_xmalloc((size_t)len + 1);
	snprintf(w->path, (size_t)len + 1, fmt, dir, secs, host, pid);
	w->f = fopen(w->path, "wbx"); /* x: never append to or truncate another writer's file */
	if (!w->f) {
		st = ft_error(FT_ERUNTIME, "%s: cannot create the event file: %s", w->path, strerror(errno));
		goto out_free_w;
	}
	Ftrun__Tb__Event ev = FTRUN__TB__EVENT__INIT;
	ev.wall_time = ft_tb_now();
	ev.what_case = FTRUN__TB__EVENT__WHAT_FILE_VERSION;
	ev.file_version = (char *)"brain.Event:2";
	st = write_event(w, &ev);
	if (st)
		goto out_remove_file;
	*out = w;
	return FT_OK;

out_remove_file:
	fclose(w->f);
	unlink(w->path);
out_free_w:
	free(w->path);
	free(w);
	return st;
}

ft_status ft_tb_scalar(ft_tb_writer *w, const char *tag, int64_t step, double wall_time, float value)
{
	FT_ASSERT(w && tag);
	Ftrun__Tb__Summary__Value val = FTRUN__TB__SUMMARY__VALUE__INIT;
	val.tag = (char *)tag;
	val.value_case = FTRUN__TB__SUMMARY__VALUE__VALUE_SIMPLE_VALUE;
	val.simple_value = value;
	Ftrun__Tb__Summary__Value *vals[1] = { &val };
	Ftrun__Tb__Summary sum = FTRUN__TB__SUMMARY__INIT;
	sum.n_value = 1;
	sum.value = vals;
	Ftrun__Tb__Event ev = FTRUN__TB__EVENT__INIT;
	ev.wall_time = wall_time;
	ev.step = step;
	ev.what_case = FTRUN__TB__EVENT__WHAT_SUMMARY;
	ev.summary = &sum;
	return write_event(w, &ev);
}

ft_status ft_tb_flush(ft_tb_writer *w)
{
	errno = 0;
	if (fflush(w->f) != 0)
		return io_error(w);
	return FT_OK;
}

void ft_tb_close(ft_tb_writer *w)
{
	if (!w)
		return;
	fclose(w->f);
	free(w->rec);
	free(w->path);
	free(w);
}
