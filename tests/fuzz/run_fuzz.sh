#!/usr/bin/env bash
# run_fuzz.sh [SECONDS] [extra libFuzzer flags...]
#
# Builds the importer fuzz target with clang (libFuzzer + ASan + UBSan, the whole
# library instrumented for coverage), seeds a corpus with the ONNX backend node
# test models (tests/fuzz/make_seeds.py) and small exported models, and fuzzes
# for SECONDS (default 600), single process. Crashes land in $FUZZ_DIR/crashes/; reproduce one with
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

if [ ! -d "$build" ]; then
	CC=clang meson setup "$build" -Dfuzz=true -Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
ninja -C "$build" -j2 tests/fuzz_import >/dev/null || { ninja -C "$build" -j2 tests/fuzz_import; exit 1; }

mkdir -p "$work/corpus" "$work/seeds" "$work/crashes"
if [ -z "$(ls -A "$work/seeds")" ]; then
	# node test models, as they are and with their inputs baked in as initializers
	/usr/bin/python3 tests/fuzz/make_seeds.py "$work/seeds" 60000
	# exported classifiers under 8 MiB (libFuzzer reads their first -max_len bytes)
	for m in "$models"/*.onnx; do
		[ -f "$m" ] || continue
		[ "$(stat -c %s "$m")" -le $((8 << 20)) ] && cp "$m" "$work/seeds/"
	done
fi
# the committed reproducers, so that they stay fixed
cp tests/fuzz/regressions/* "$work/seeds/" 2>/dev/null || true

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1:max_allocation_size_mb=4096}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1
# new inputs go to the first folder; the seeds stay as they are
exec "$build/tests/fuzz_import" "$work/corpus" "$work/seeds" -artifact_prefix="$work/crashes/" \
	-max_total_time="$secs" -max_len=65536 -rss_limit_mb=4096 -timeout=30 -jobs=0 -workers=0 \
	-dict=tests/fuzz/onnx.dict -print_final_stats=1 "$@"
