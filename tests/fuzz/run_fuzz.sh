#!/usr/bin/env bash
# run_fuzz.sh [SECONDS] [extra libFuzzer flags...]
#
# Builds the importer fuzz target with clang (libFuzzer + ASan + UBSan, the whole
# library instrumented for coverage), seeds a corpus with the ONNX backend node
# test models and small exported models, and fuzzes for SECONDS (default 600),
# single process. Crashes land in $FUZZ_DIR/crashes/; reproduce one with
#   $FUZZ_BUILD/tests/fuzz_import CRASH_FILE
# Minimised reproducers worth keeping go to tests/fuzz/regressions/ and a case in
# tests/bad_input/gen_bad_models.py. The corpus stays out of git.
#
# Environment: FUZZ_BUILD (default /work/helpers/build-fuzz, or build-fuzz in the
# repository), FUZZ_DIR (corpus and crashes; default $FUZZ_BUILD/fuzz-work),
# FUZZ_MODELS (folder of exported .onnx models to seed from; default /work/models).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-600}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
work=${FUZZ_DIR:-$build/fuzz-work}
models=${FUZZ_MODELS:-/work/models}
nodes=/usr/share/libonnx-testdata/data/node

if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
ninja -C "$build" -j2 tests/fuzz_import >/dev/null || { ninja -C "$build" -j2 tests/fuzz_import; exit 1; }

mkdir -p "$work/corpus" "$work/crashes"
if [ -z "$(ls -A "$work/corpus")" ]; then
	# node test models: small and varied; names keep them apart
	for m in "$nodes"/*/model.onnx; do
		t=$(basename "$(dirname "$m")")
		cp "$m" "$work/corpus/$t.onnx"
	done
	# exported classifiers under 8 MiB (bigger ones mostly hold weights)
	for m in "$models"/*.onnx; do
		[ -f "$m" ] || continue
		[ "$(stat -c %s "$m")" -le $((8 << 20)) ] && cp "$m" "$work/corpus/"
	done
	# the committed reproducers, so that they stay fixed
	cp tests/fuzz/regressions/* "$work/corpus/" 2>/dev/null || true
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=4096}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1
exec "$build/tests/fuzz_import" "$work/corpus" -artifact_prefix="$work/crashes/" \
	-max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 -timeout=30 -jobs=0 -workers=0 \
	-print_final_stats=1 "$@"
