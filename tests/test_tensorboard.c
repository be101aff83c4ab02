/*
 * test_tensorboard.c - the event files of runtime/tensorboard.c read back.
 *
 * A reader written here from the record format (not the writer's code) checks every
 * record's length CRC and data CRC and unpacks every Event with protobuf-c: the first is
 * file_version "brain.Event:2", then the scalars with the tags, steps, wall times and
 * values (bit for bit) that were written. Each payload is also compared with bytes
 * encoded here by hand from TensorFlow's field numbers (Event.wall_time 1, step 2,
 * file_version 3, summary 5; Summary.value 1; Value.tag 1, simple_value 2), so a wrong
 * number in schemas/tb_event.proto fails even though protobuf-c reads its own output.
 * Every one-byte flip and every truncation of the file must be reported by the reader.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h" /* ft_crc32c */
#include "tb_event.pb-c.h"
#include "tensorboard.h"

static int failures;

static void check(bool ok, const char *what, const char *detail)
{
	if (!ok) {
		failures++;
		fprintf(stderr, "FAIL %s%s%s\n", what, detail && *detail ? ": " : "", detail ? detail : "");
	}
}

/* ---- the reader -------------------------------------------------------- */

static uint32_t mask(uint32_t crc)
{
	return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static uint64_t get_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

typedef struct record {
	const uint8_t *data;
	size_t len;
} record;

/* Splits buf into records, checking both CRCs of each. Returns NULL, or what is wrong. */
static const char *read_records(const uint8_t *buf, size_t size, record *recs, int max, int *n)
{
	static char why[128];
	size_t off = 0;
	*n = 0;
	while (off < size) {
		if (size - off < 12) {
			snprintf(why, sizeof(why), "record %d at byte %zu: truncated header", *n, off);
			return why;
		}
		uint64_t len = get_le(buf + off, 8);
		if ((uint32_t)get_le(buf + off + 8, 4) != mask(ft_crc32c(0, buf + off, 8))) {
			snprintf(why, sizeof(why), "record %d at byte %zu: bad length crc", *n, off);
			return why;
		}
		if (len > size - off - 12 || size - off - 12 - len < 4) {
			snprintf(why, sizeof(why), "record %d at byte %zu: truncated data", *n, off);
			return why;
		}
		const uint8_t *data = buf + off + 12;
		if ((uint32_t)get_le(data + len, 4) != mask(ft_crc32c(0, data, len))) {
			snprintf(why, sizeof(why), "record %d at byte %zu: bad data crc", *n, off);
			return why;
		}
		if (*n == max)
			return "too many records";
		recs[(*n)++] = (record){ data, len };
		off += 12 + len + 4;
	}
	return NULL;
}

/* ---- the expected wire bytes, encoded by hand ------------------------- */

typedef struct wire {
	uint8_t b[256];
	size_t n;
} wire;

static void put_byte(wire *w, uint8_t v)
{
	FT_ASSERT(w->n < sizeof(w->b));
	w->b[w->n++] = v;
}

static void put_varint(wire *w, uint64_t v)
{
	for (; v >= 0x80; v >>= 7)
		put_byte(w, (uint8_t)(v | 0x80));
	put_byte(w, (uint8_t)v);
}

static void put_bytes(wire *w, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_byte(w, ((const uint8_t *)p)[i]);
}

static void put_fixed(wire *w, const void *p, int bytes) /* a little-endian host */
{
	put_bytes(w, p, (size_t)bytes);
}

/* Event{wall_time=1 (fixed64), step=2 (varint), then field 3 or 5}; proto3 leaves out
 * a wall_time of +0.0 and a step of 0 */
static void event_head(wire *w, double wall_time, int64_t step)
{
	uint64_t bits;
	memcpy(&bits, &wall_time, 8);
	if (bits) {
		put_byte(w, 1 << 3 | 1);
		put_fixed(w, &wall_time, 8);
	}
	if (step) {
		put_byte(w, 2 << 3 | 0);
		put_varint(w, (uint64_t)step);
	}
}

static wire file_version_event(double wall_time)
{
	wire w = { .n = 0 };
	event_head(&w, wall_time, 0);
	put_byte(&w, 3 << 3 | 2);
	put_varint(&w, 13);
	put_bytes(&w, "brain.Event:2", 13);
	return w;
}

static wire scalar_event(double wall_time, int64_t step, const char *tag, float value)
{
	wire v = { .n = 0 }, s = { .n = 0 }, e = { .n = 0 };
	size_t tl = strlen(tag);
	if (tl) { /* proto3 leaves out an empty string */
		put_byte(&v, 1 << 3 | 2); /* Value.tag */
		put_varint(&v, tl);
		put_bytes(&v, tag, tl);
	}
	put_byte(&v, 2 << 3 | 5); /* Value.simple_value, fixed32: in a oneof, so 0.0 is written */
	put_fixed(&v, &value, 4);
	put_byte(&s, 1 << 3 | 2); /* Summary.value */
	put_varint(&s, v.n);
	put_bytes(&s, v.b, v.n);
	event_head(&e, wall_time, step);
	put_byte(&e, 5 << 3 | 2); /* Event.summary */
	put_varint(&e, s.n);
	put_bytes(&e, s.b, s.n);
	return e;
}

/* ---- the test ------------------------------------------------------------ */

typedef struct scalar {
	const char *tag;
	int64_t step;
	double wall_time;
	float value;
} scalar;

static const scalar scalars[] = {
	{ "train/loss", 1, 1700000000.25, 2.3025851f },
	{ "train/lr", 1, 1700000000.25, 0.1f },
	{ "train/loss", 2, 1700000001.5, 0.0f },    /* 0.0 must still be a set simple_value */
	{ "train/images_per_s", 300, 1700000002.0, 1234.5f },
	{ "test/top1", 0, 1700000003.0, -0.0f },     /* step 0 is left out of the wire */
	{ "train/loss", (int64_t)1 << 40, 1.0e9, NAN }, /* a diverged run: NaN goes through */
	{ "", 7, 0.0, INFINITY },
};
enum { N_SCALARS = FT_ARRAY_LEN(scalars), MAX_RECORDS = 64 };

static char *find_event_file(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	char *found = NULL;
	int count = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (strncmp(e->d_name, "events.out.tfevents.", 20) == 0 && n > 6 &&
		    strcmp(e->d_name + n - 6, ".ftrun") == 0) {
			count++;
			free(found);
			found = malloc(strlen(dir) + n + 2);
			sprintf(found, "%s/%s", dir, e->d_name);
		}
	}
	closedir(d);
	if (count != 1) {
		free(found);
		return NULL;
	}
	return found;
}

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
	*size = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static void check_events(const uint8_t *buf, size_t size, double t_open)
{
	record recs[MAX_RECORDS];
	int n;
	const char *why = read_records(buf, size, recs, MAX_RECORDS, &n);
	check(why == NULL, "every record's crcs hold", why);
	check(n == 1 + N_SCALARS, "one record for file_version and one per scalar", NULL);
	if (why || n != 1 + N_SCALARS)
		return;
	char msg[256];
	for (int i = 0; i < n; i++) {
		Ftrun__Tb__Event *ev = ftrun__tb__event__unpack(NULL, recs[i].len, recs[i].data);
		snprintf(msg, sizeof(msg), "record %d", i);
		check(ev != NULL, "protobuf-c unpacks every Event", msg);
		if (!ev)
			continue;
		wire want;
		if (i == 0) {
			check(ev->what_case == FTRUN__TB__EVENT__WHAT_FILE_VERSION &&
			      strcmp(ev->file_version, "brain.Event:2") == 0 && ev->step == 0,
			      "the first Event is file_version brain.Event:2", msg);
			check(fabs(ev->wall_time - t_open) < 60, "the file_version Event has the wall time of its writing",
			      msg);
			want = file_version_event(ev->wall_time);
		} else {
			const scalar *s = &scalars[i - 1];
			bool ok = ev->what_case == FTRUN__TB__EVENT__WHAT_SUMMARY && ev->summary->n_value == 1;
			check(ok, "a scalar Event holds a Summary with one Value", msg);
			if (ok) {
				const Ftrun__Tb__Summary__Value *v = ev->summary->value[0];
				check(strcmp(v->tag, s->tag) == 0, "the tag reads back", msg);
				check(ev->step == s->step, "the step reads back", msg);
				check(memcmp(&ev->wall_time, &s->wall_time, 8) == 0, "the wall time reads back", msg);
				check(v->value_case == FTRUN__TB__SUMMARY__VALUE__VALUE_SIMPLE_VALUE &&
				      memcmp(&v->simple_value, &s->value, 4) == 0, "the value reads back bit for bit", msg);
			}
			want = scalar_event(s->wall_time, s->step, s->tag, s->value);
		}
		check(want.n == recs[i].len && memcmp(want.b, recs[i].data, want.n) == 0,
		      "the payload is the Event encoded with TensorFlow's field numbers", msg);
		ftrun__tb__event__free_unpacked(ev, NULL);
	}
}

/* every single-byte change and every cut that is not at a record boundary is reported */
static void check_corruption(const uint8_t *buf, size_t size)
{
	record recs[MAX_RECORDS];
	int n_full;
	if (read_records(buf, size, recs, MAX_RECORDS, &n_full))
		return; /* check_events has said why */
	size_t bound[MAX_RECORDS + 1] = { 0 }; /* bound[k]: the file's first k records */
	for (int k = 0; k < n_full; k++)
		bound[k + 1] = bound[k] + 12 + recs[k].len + 4;
	uint8_t *copy = malloc(size);
	int n, missed = 0;
	for (size_t i = 0; i < size; i++) {
		memcpy(copy, buf, size);
		copy[i] ^= 0x20;
		if (!read_records(copy, size, recs, MAX_RECORDS, &n))
			missed++;
	}
	char msg[64];
	snprintf(msg, sizeof(msg), "%d of %zu flipped bytes went unnoticed", missed, size);
	check(missed == 0, "a flipped byte is a bad crc", msg);

	missed = 0;
	for (size_t cut = 0, k = 0; cut < size; cut++) {
		if (cut == bound[k]) { /* a whole number of records: valid, k of them */
			if (read_records(buf, cut, recs, MAX_RECORDS, &n) || n != (int)k)
				missed++;
			k++;
		} else if (!read_records(buf, cut, recs, MAX_RECORDS, &n)) {
			missed++;
		}
	}
	snprintf(msg, sizeof(msg), "%d of %zu truncations misread", missed, size);
	check(missed == 0, "a truncated file is reported", msg);
	free(copy);
}

static void check_errors(const char *tmp)
{
	char file[4200], dir[4300];
	snprintf(file, sizeof(file), "%s/not_a_dir", tmp);
	FILE *f = fopen(file, "w");
	FT_ASSERT(f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/tb", file);
	ft_tb_writer *w = (ft_tb_writer *)1;
	ft_status st = ft_tb_open(dir, &w);
	const char *msg = ft_last_error();
	check(st == FT_ERUNTIME && w == NULL, "a folder under a file is a runtime error", msg);
	check(strstr(msg, dir) && strstr(msg, strerror(ENOTDIR)), "the message names the folder and the errno", msg);
	unlink(file);

	check(ft_tb_open("/proc/ftrun-no-such/tb", &w) == FT_ERUNTIME, "an uncreatable folder is an error",
	      ft_last_error());
}

/*
 * test_tensorboard DIR TAG N: the event file `ftrun train --tensorboard` wrote in
 * DIR: every record's crcs, every Event unpacks, file_version first, and TAG
 * has N scalars at steps 1..N, all finite.
 */
static int check_run(const char *dir, const char *tag, int64_t want)
{
	char *path = find_event_file(dir);
	size_t size = 0;
	uint8_t *buf = path ? read_file(path, &size) : NULL;
	if (!buf) {
		fprintf(stderr, "FAIL: no single readable events.out.tfevents.*.ftrun file in %s\n", dir);
		free(path);
		return 1;
	}
	static record recs[1 << 16];
	int n;
	const char *why = read_records(buf, size, recs, 1 << 16, &n);
	check(why == NULL, "every record's crcs hold", why);
	int64_t seen = 0;
	for (int i = 0; !why && i < n; i++) {
		Ftrun__Tb__Event *ev = ftrun__tb__event__unpack(NULL, recs[i].len, recs[i].data);
		check(ev != NULL, "protobuf-c unpacks every Event", NULL);
		if (!ev)
			break;
		if (i == 0)
			check(ev->what_case == FTRUN__TB__EVENT__WHAT_FILE_VERSION, "file_version first", NULL);
		else if (ev->what_case == FTRUN__TB__EVENT__WHAT_SUMMARY)
			for (size_t k = 0; k < ev->summary->n_value; k++) {
				const Ftrun__Tb__Summary__Value *v = ev->summary->value[k];
				if (strcmp(v->tag, tag) != 0)
					continue;
				seen++;
				check(ev->step == seen, "the steps of TAG are 1, 2, ...", NULL);
				check(isfinite(v->simple_value), "the values are finite", NULL);
			}
		ftrun__tb__event__free_unpacked(ev, NULL);
	}
	check(seen == want, "TAG has the expected number of scalars", tag);
	if (!failures)
		printf("%s: %d records, crcs hold, %lld scalars of %s\n", path, n, (long long)seen, tag);
	free(buf);
	free(path);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4)
		return check_run(argv[1], argv[2], atoll(argv[3]));
	uint32_t kat = ft_crc32c(0, "123456789", 9); /* the CRC-32C check value (RFC 3720) */
	check(kat == 0xe3069283u, "crc32c(\"123456789\") is 0xe3069283", NULL);

	const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char tmp[4096], dir[4200];
	snprintf(tmp, sizeof(tmp), "%s/ftrun_tb_XXXXXX", base);
	if (!mkdtemp(tmp)) {
		fprintf(stderr, "test_tensorboard: mkdtemp %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/run", tmp); /* missing: ft_tb_open makes it */

	double t_open = ft_tb_now();
	ft_tb_writer *w;
	ft_status st = ft_tb_open(dir, &w);
	check(st == FT_OK, "ft_tb_open", ft_last_error());
	if (st)
		return 1;
	for (int i = 0; i < N_SCALARS; i++) {
		const scalar *s = &scalars[i];
		st = ft_tb_scalar(w, s->tag, s->step, s->wall_time, s->value);
		check(st == FT_OK, "ft_tb_scalar", ft_last_error());
	}
	check(ft_tb_flush(w) == FT_OK, "ft_tb_flush", ft_last_error());
	char *path = find_event_file(dir);
	check(path && strcmp(path, ft_tb_path(w)) == 0, "one events.out.tfevents.*.ftrun file, the writer's",
	      ft_tb_path(w));
	ft_tb_close(w);
	if (!path)
		return 1;

	size_t size = 0;
	uint8_t *buf = read_file(path, &size);
	check(buf != NULL, "the event file reads", path);
	if (buf) {
		check_events(buf, size, t_open);
		check_corruption(buf, size);
	}
	check_errors(tmp);

	unlink(path);
	rmdir(dir);
	rmdir(tmp);
	free(buf);
	free(path);
	if (failures) {
		fprintf(stderr, "test_tensorboard: %d failures\n", failures);
		return 1;
	}
	printf("test_tensorboard: %zu bytes, %d records, every crc and value checked; %zu flips and "
	       "truncations caught\n", size, 1 + N_SCALARS, size);
	return 0;
}
