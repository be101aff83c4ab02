/*
 * test_node.c - runs ONNX's backend node tests (Debian libonnx-testdata) on
 * ftrun's CPU backend.
 *
 * Every test folder holds model.onnx and test_data_set_N/{input,output}_K.pb.
 * A test whose model uses an op ftrun does not have is skipped with that reason;
 * a test ftrun refuses for a feature it does not support (a dtype, an attribute
 * value) is skipped with ftrun's message; every other test must pass.
 * Comparison is ONNX's own runner's: |actual - expected| <= atol + rtol*|expected|
 * with rtol 1e-3, atol 1e-7 for floats (NaN must match NaN), exact for
 * integers and bools, and dtype and shape must match.
 *
 * usage: test_node [-v] [DIR] [FILTER...]   (DIR defaults to the Debian path;
 * FILTERs are substrings, a test runs if any matches)
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec.h"
#include "import.h"
#include "cpu/util.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

enum { MAX_IO = 32 };

typedef struct tensor_file {
	char name[256];
	ft_dtype dtype;
	int rank;
	int64_t dims[FT_MAX_RANK];
	void *data;
} tensor_file;

typedef enum { R_PASS, R_FAIL, R_SKIP_OP, R_SKIP_FEATURE } result;

static bool verbose;

/* Tests whose expected outputs cannot be reproduced by any other implementation. */
static const struct {
	const char *name, *why;
} known_skips[] = {
	{ "test_training_dropout", "the expected output depends on numpy's random generator (the dropout mask)" },
	{ "test_training_dropout_default", "the expected output depends on numpy's random generator (the dropout mask)" },
	{ "test_training_dropout_default_mask", "the expected output depends on numpy's random generator (the dropout mask)" },
	{ "test_training_dropout_mask", "the expected output depends on numpy's random generator (the dropout mask)" },
	{ "test_cast_FLOAT_to_BFLOAT16", "ONNX 1.12's expected data truncates float32 to bfloat16; ftrun rounds to "
	  "nearest even, as PyTorch, ONNX Runtime and later ONNX test data do" },
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int64_t numel_of(const tensor_file *t)
{
	int64_t n = 1;
	for (int i = 0; i < t->rank; i++)
		n *= t->dims[i];
	return n;
}

static int read_set(const char *dir, const char *prefix, tensor_file *out, int max)
{
	int n = 0;
	for (; n < max; n++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s_%d.pb", dir, prefix, n);
		struct stat st;
		if (stat(path, &st) != 0)
			break;
		if (ft_read_tensor_file(path, out[n].name, sizeof(out[n].name), &out[n].dtype, &out[n].rank,
					out[n].dims, &out[n].data) != FT_OK)
			return -1;
	}
	return n;
}

static double as_double(ft_dtype t, const void *p, int64_t i)
{
	switch (t) {
	case FT_F32: return ((const float *)p)[i];
	case FT_F64: return ((const double *)p)[i];
	case FT_F16: return ft_f16_to_f32(((const uint16_t *)p)[i]);
	case FT_BF16: return ft_bf16_to_f32(((const uint16_t *)p)[i]);
	default: return 0;
	}
}

/* returns NULL if equal, else a description written into buf */
static const char *compare(const ft_tensor *got, const tensor_file *want, char *buf, size_t len)
{
	tensor_file relabeled;
	if (got->dtype == FT_BF16 && want->dtype == FT_U16) { /* see the bfloat16 note in run_test */
		relabeled = *want;
		relabeled.dtype = FT_BF16;
		want = &relabeled;
	}
	if (got->dtype != want->dtype) {
		snprintf(buf, len, "dtype %s, expected %s", ft_dtype_name(got->dtype), ft_dtype_name(want->dtype));
		return buf;
	}
	bool same_shape = got->rank == want->rank;
	for (int i = 0; same_shape && i < got->rank; i++)
		same_shape = got->dims[i] == want->dims[i];
	if (!same_shape) {
		char s[128];
		snprintf(buf, len, "shape %s, expected rank %d", ft_shape_str(got, s, sizeof(s)), want->rank);
		return buf;
	}
	int64_t n = numel_of(want);
	if (!ft_dtype_is_float(got->dtype)) {
		size_t bytes = (size_t)n * ft_dtype_size(got->dtype);
		if (bytes && memcmp(got->data, want->data, bytes) != 0) {
			for (int64_t i = 0; i < n; i++)
				if (ft_tensor_int(got, i) != ft_tensor_int(&(ft_tensor){ .dtype = want->dtype,
						.numel = n, .data = want->data }, i)) {
					snprintf(buf, len, "element %lld differs", (long long)i);
					return buf;
				}
		}
		return NULL;
	}
	const double rtol = 1e-3, atol = 1e-7;
	for (int64_t i = 0; i < n; i++) {
		double a = as_double(got->dtype, got->data, i), b = as_double(want->dtype, want->data, i);
		if (isnan(a) || isnan(b)) {
			if (isnan(a) != isnan(b))
				goto mismatch;
			continue;
		}
		if (isinf(a) || isinf(b)) {
			if (a != b)
				goto mismatch;
			continue;
		}
		if (fabs(a - b) <= atol + rtol * fabs(b))
			continue;
mismatch:
		snprintf(buf, len, "element %lld: got %.9g, expected %.9g", (long long)i, a, b);
		return buf;
	}
	return NULL;
}

static result run_test(const char *root, const char *test, char *why, size_t why_len)
{
	char path[4096];
	for (size_t i = 0; i < FT_ARRAY_LEN(known_skips); i++)
		if (strcmp(test, known_skips[i].name) == 0) {
			snprintf(why, why_len, "%s", known_skips[i].why);
			return R_SKIP_FEATURE;
		}
	snprintf(path, sizeof(path), "%s/%s/model.onnx", root, test);
	ft_graph *g = NULL;
	ft_exec *x = NULL;
	tensor_file in[MAX_IO], out[MAX_IO];
	int n_in = 0, n_out = 0;
	result r = R_FAIL;
	ft_status st = ft_import_file(path, &g);
	if (st) {
		snprintf(why, why_len, "%s", ft_last_error());
		r = st == FT_EUNSUPPORTED ? (strstr(why, "ops ftrun does not support") ? R_SKIP_OP : R_SKIP_FEATURE)
					  : R_FAIL;
		goto out;
	}
	char set[4096];
	snprintf(set, sizeof(set), "%s/%s/test_data_set_0", root, test);
	n_in = read_set(set, "input", in, MAX_IO);
	n_out = read_set(set, "output", out, MAX_IO);
	if (n_in < 0 || n_out < 0) {
		snprintf(why, why_len, "test data: %s", ft_last_error());
		r = strstr(why, "not supported") ? R_SKIP_FEATURE : R_FAIL;
		n_in = n_in < 0 ? 0 : n_in;
		n_out = n_out < 0 ? 0 : n_out;
		goto out;
	}
	if (n_in != g->n_inputs || n_out != g->n_outputs) {
		snprintf(why, why_len, "test data has %d inputs/%d outputs, the model %d/%d", n_in, n_out, g->n_inputs,
			 g->n_outputs);
		r = R_SKIP_FEATURE; /* optional inputs left out of the data: not a tensor graph ftrun takes */
		goto out;
	}
	/* ONNX 1.12's test data stores bfloat16 tensors as uint16 (numpy has no bfloat16): same bits */
	for (int i = 0; i < n_in; i++)
		if (g->tensors[g->inputs[i]].dtype == FT_BF16 && in[i].dtype == FT_U16)
			in[i].dtype = FT_BF16;
	ft_bind binds[MAX_IO];
	for (int i = 0; i < n_in; i++) {
		binds[i] = (ft_bind){ .name = g->tensors[g->inputs[i]].name, .dtype = in[i].dtype, .rank = in[i].rank };
		memcpy(binds[i].dims, in[i].dims, sizeof(int64_t) * (size_t)in[i].rank);
		/* integer inputs carry shapes, axes, indices: bound as constants (static shapes) */
		if (!ft_dtype_is_float(in[i].dtype))
			binds[i].value = in[i].data;
	}
	st = ft_graph_specialise(g, in[0].rank ? (in[0].dims[0] ? in[0].dims[0] : 1) : 1, binds, n_in);
	if (st == FT_OK)
		st = ft_exec_new(g, ft_backend_cpu_new(0), &x);
	for (int i = 0; st == FT_OK && i < n_in; i++)
		st = ft_exec_set_input(x, i, in[i].data, (size_t)numel_of(&in[i]) * ft_dtype_size(in[i].dtype));
	if (st == FT_OK)
		st = ft_exec_run(x);
	if (st) {
		snprintf(why, why_len, "%s", ft_last_error());
		r = st == FT_EUNSUPPORTED ? R_SKIP_FEATURE : R_FAIL;
		/* a few test sets hold data of another shape than the model declares; ftrun,
		 * whose shapes are static, refuses them as it should (the message says so) */
		if (st == FT_EBADINPUT && strstr(why, "the value given has"))
			r = R_SKIP_FEATURE;
		goto out;
	}
	for (int i = 0; i < n_out; i++) {
		char buf[512];
		const char *d = compare(&g->tensors[g->outputs[i]], &out[i], buf, sizeof(buf));
		if (d) {
			snprintf(why, why_len, "output %d (%s): %s", i, g->tensors[g->outputs[i]].name, d);
			goto out;
		}
	}
	r = R_PASS;
out:
	ft_exec_free(x);
	ft_graph_free(g);
	for (int i = 0; i < n_in; i++)
		free(in[i].data);
	for (int i = 0; i < n_out; i++)
		free(out[i].data);
	return r;
}

int main(int argc, char **argv)
{
	const char *root = NODE_DIR;
	const char **filters = calloc((size_t)argc, sizeof(char *));
	int n_filters = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = true;
		else if (strchr(argv[i], '/'))
			root = argv[i];
		else
			filters[n_filters++] = argv[i];
	}
	DIR *d = opendir(root);
	if (!d) {
		fprintf(stderr, "test_node: cannot open %s (install libonnx-testdata)\n", root);
		return 2;
	}
	char **names = NULL;
	int n_names = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "test_", 5) != 0)
			continue;
		bool match = n_filters == 0;
		for (int i = 0; i < n_filters && !match; i++)
			match = strstr(e->d_name, filters[i]) != NULL;
		if (!match)
			continue;
		names = realloc(names, sizeof(char *) * (size_t)(n_names + 1));
		names[n_names++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n_names, sizeof(char *), cmp_str);
	int counts[4] = { 0 };
	for (int i = 0; i < n_names; i++) {
		char why[2048] = "";
		result r = run_test(root, names[i], why, sizeof(why));
		counts[r]++;
		for (char *p = why; *p; p++)
			if (*p == '\n')
				*p = ' ';
		if (r == R_FAIL)
			printf("FAIL %s: %s\n", names[i], why);
		else if (r == R_SKIP_FEATURE)
			printf("SKIP %s: %s\n", names[i], why);
		else if (verbose)
			printf("%s %s%s%s\n", r == R_PASS ? "PASS" : "SKIP", names[i], why[0] ? ": " : "", why);
		free(names[i]);
	}
	free(names);
	free(filters);
	printf("node tests: %d ran, %d skipped for ops ftrun does not have, %d skipped for unsupported features\n",
	       counts[R_PASS] + counts[R_FAIL], counts[R_SKIP_OP], counts[R_SKIP_FEATURE]);
	printf("%d passed, %d failed, %d skipped\n", counts[R_PASS], counts[R_FAIL],
	       counts[R_SKIP_OP] + counts[R_SKIP_FEATURE]);
	return counts[R_FAIL] ? 1 : 0;
}
