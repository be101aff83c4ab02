/*
 * main.c - the `ftrun` command line: a thin layer over include/ftrun.h and the
 * inspection helpers. Exit codes: 0 success, 1 runtime failure, 2 bad input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ftrun.h"
#include "import.h"
#include "inspect.h"

enum { EXIT_BAD = 2, MAX_INPUTS = 64 };

static const char usage[] =
	"usage: ftrun COMMAND MODEL.onnx [options]\n"
	"\n"
	"commands:\n"
	"  inspect MODEL.onnx [-b N]\n"
	"      ops, parameters, FLOPs and planned memory for batch N (default 1)\n"
	"  run MODEL.onnx --input FILE.pb [--input FILE.pb ...] --output-dir DIR\n"
	"      [--device cpu|cuda|auto] [--threads N]\n"
	"      inference; inputs are ONNX TensorProto files bound to the graph inputs in order;\n"
	"      writes DIR/output_0.pb, output_1.pb ...\n"
	"\n"
	"grad, train, eval and bench are not in this build yet.\n";

static int exit_code(ftrun_status st)
{
	return st == FTRUN_OK ? 0 : st == FTRUN_ERUNTIME ? 1 : EXIT_BAD;
}

static int fail(ftrun_status st)
{
	fprintf(stderr, "ftrun: %s\n", ftrun_last_error());
	return exit_code(st);
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "ftrun: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(ftrun --help for usage)\n");
	return EXIT_BAD;
}

static bool parse_int(const char *s, int64_t min, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || !*s || *end || v < min)
		return false;
	*out = v;
	return true;
}

typedef struct cli {
	const char *model;
	const char *inputs[MAX_INPUTS];
	int n_inputs;
	const char *output_dir;
	const char *device;
	int64_t batch;
	int64_t threads;
} cli;

static int parse(int argc, char **argv, cli *c)
{
	memset(c, 0, sizeof(*c));
	c->batch = 1;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() \
	do { \
		if (!v) \
			return bad_usage("%s needs a value", a); \
		i++; \
	} while (0)
		if (strcmp(a, "-b") == 0 || strcmp(a, "--batch-size") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->batch))
				return bad_usage("bad batch size \"%s\"", v);
		} else if (strcmp(a, "--input") == 0) {
			NEED_VALUE();
			if (c->n_inputs == MAX_INPUTS)
				return bad_usage("too many --input (at most 64)%s", "");
			c->inputs[c->n_inputs++] = v;
		} else if (strcmp(a, "--output-dir") == 0) {
			NEED_VALUE();
			c->output_dir = v;
		} else if (strcmp(a, "--device") == 0) {
			NEED_VALUE();
			c->device = v;
		} else if (strcmp(a, "--threads") == 0 || strcmp(a, "-t") == 0) {
			NEED_VALUE();
			if (!parse_int(v, 1, &c->threads))
				return bad_usage("bad thread count \"%s\"", v);
		} else if (a[0] == '-') {
			return bad_usage("unknown option \"%s\"", a);
		} else if (!c->model) {
			c->model = a;
		} else {
			return bad_usage("unexpected argument \"%s\"", a);
		}
#undef NEED_VALUE
	}
	if (!c->model)
		return bad_usage("%s needs a model file", argv[1]);
	return 0;
}

static int cmd_inspect(cli *c)
{
	ftrun_status st = (ftrun_status)ft_inspect(c->model, c->batch, stdout);
	if (st)
		return fail(st);
	return 0;
}

static int mkdir_p(const char *dir)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int cmd_run(cli *c)
{
	if (!c->output_dir)
		return bad_usage("run needs --output-dir DIR%s", "");
	ftrun_tensor in[MAX_INPUTS];
	memset(in, 0, sizeof(in));
	ftrun_status st = FTRUN_OK;
	int n = 0, rc = 0;
	ftrun_session *s = NULL;
	for (; n < c->n_inputs; n++) {
		ft_dtype dt;
		ft_status fs = ft_read_tensor_file(c->inputs[n], NULL, 0, &dt, &in[n].rank, in[n].dims, &in[n].data);
		if (fs) {
			st = (ftrun_status)fs;
			goto out_free;
		}
		in[n].dtype = ft_dtype_to_onnx(dt);
	}
	ftrun_options opt = { .device = c->device, .threads = (int)c->threads };
	st = ftrun_session_new(c->model, in, n, &opt, &s);
	if (st)
		goto out_free;
	st = ftrun_session_run(s, in, n);
	if (st)
		goto out_free;
	if (mkdir_p(c->output_dir) != 0) {
		fprintf(stderr, "ftrun: cannot create %s: %s\n", c->output_dir, strerror(errno));
		rc = 1;
		goto out_free;
	}
	for (int i = 0; i < ftrun_session_num_outputs(s); i++) {
		ftrun_tensor o;
		ftrun_session_output(s, i, &o);
		char path[4200];
		snprintf(path, sizeof(path), "%s/output_%d.pb", c->output_dir, i);
		st = (ftrun_status)ft_write_tensor_file(path, o.name, ft_dtype_from_onnx(o.dtype), o.rank, o.dims, o.data);
		if (st)
			goto out_free;
	}
out_free:
	ftrun_session_free(s);
	for (int i = 0; i < n; i++)
		free(in[i].data);
	if (st)
		return fail(st);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_BAD : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0) {
		puts("ftrun 0.1.0");
		return 0;
	}
	bool known = strcmp(cmd, "inspect") == 0 || strcmp(cmd, "run") == 0;
	if (!known) {
		if (!strcmp(cmd, "grad") || !strcmp(cmd, "train") || !strcmp(cmd, "eval") || !strcmp(cmd, "bench"))
			return bad_usage("\"%s\" is not in this build yet (inspect and run are)", cmd);
		return bad_usage("unknown command \"%s\"", cmd);
	}
	cli c;
	int rc = parse(argc, argv, &c);
	if (rc)
		return rc;
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(&c);
	return cmd_run(&c);
}
