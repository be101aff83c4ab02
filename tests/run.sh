#!/usr/bin/env bash
# The test command: builds ftrun under AddressSanitizer and UndefinedBehaviorSanitizer,
# exports the test models with PyTorch (once; cached in $FT_MODELS or build-asan/models),
# and runs every test: unit tests, ONNX's backend node tests, model parity against PyTorch,
# bad-input tests. Ends with a line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
build=${FT_BUILD:-build-asan}
models=${FT_MODELS:-$PWD/$build/models}
py=/usr/bin/python3

if [ ! -d "$build" ]; then
	meson setup "$build" -Dbuildtype=debugoptimized -Db_sanitize=address,undefined \
		-Db_lundef=false -Dmodels_dir="$models" >/dev/null || exit 1
else
	meson configure "$build" -Dmodels_dir="$models" >/dev/null || exit 1
fi
ninja -C "$build" >/dev/null || { ninja -C "$build"; exit 1; }

need=0
for m in resnet50 vit_b_16 efficientnet_b0 resnet18_fmnist mobilenet_v3_small squeezenet1_0 shufflenet_v2_x0_5 convnext_tiny \
	maxvit_t; do
	[ -f "$models/$m.onnx" ] && [ -f "$models/$m.ref/test_data_set_0/output_0.pb" ] || need=1
done
if [ $need = 1 ]; then
	echo "exporting test models with PyTorch into $models ..."
	$py onnx_models/export.py --out "$models" --models all --ref >"$build/export.log" 2>&1 ||
		{ cat "$build/export.log"; exit 1; }
fi

if [ ! -f "$models/resnet18_fmnist_ext/model.data" ]; then
	$py tests/make_external.py "$models/resnet18_fmnist.onnx" "$models/resnet18_fmnist_ext" || exit 1
fi

# PyTorch's gradients and training losses (the oracles of the training tests)
for m in resnet18_fmnist resnet50 vit_b_16 efficientnet_b0 maxvit_t; do
	if [ ! -f "$models/$m.torch_grads2.onnx" ]; then
		$py tests/torch_grads.py $m "$models/$m.onnx" "$models/$m.ref" "$models/$m.torch_grads.onnx" \
			>>"$build/export.log" 2>&1 || { tail -20 "$build/export.log"; exit 1; }
		$py tests/torch_grads.py $m "$models/$m.onnx" "$models/$m.ref" "$models/$m.torch_grads2.onnx" \
			--no-mkldnn >>"$build/export.log" 2>&1 || { tail -20 "$build/export.log"; exit 1; }
	fi
done
# A ResNet-50 trained for 300 steps on Fashion-MNIST (tests/pretrain.py, about 2 minutes) and
# PyTorch's gradients on 32 of its test images: the well-conditioned ResNet-50 gradient case
m=resnet50_fmnist_trained
if [ ! -f "$models/$m.torch_grads_bf16.onnx" ]; then
	tg() { $py tests/torch_grads.py resnet50_fmnist "$models/$m.onnx" "$models/$m.ref" "$models/$m.$1.onnx" \
		--state "$models/resnet50_fmnist.trained.pt" "${@:2}"; }
	{ $py tests/pretrain.py resnet50_fmnist "$models" 300 32 && tg torch_grads && tg torch_grads2 --no-mkldnn &&
		tg torch_grads_bf16 --autocast bf16; } >>"$build/export.log" 2>&1 || { tail -20 "$build/export.log"; exit 1; }
fi
# PyTorch's CPU autocast (bf16), the second oracle of `ftrun grad --amp bf16`
if [ ! -f "$models/vit_b_16.torch_grads_bf16.onnx" ]; then
	$py tests/torch_grads.py vit_b_16 "$models/vit_b_16.onnx" "$models/vit_b_16.ref" \
		"$models/vit_b_16.torch_grads_bf16.onnx" --autocast bf16 >>"$build/export.log" 2>&1 ||
		{ tail -20 "$build/export.log"; exit 1; }
fi
if [ ! -f "$models/adamw_efficientnet_b0/losses.pb" ]; then
	$py tests/torch_train.py efficientnet_b0 "$models/adamw_efficientnet_b0" 10 8 0.001 0.9 0.05 --adamw \
		>>"$build/export.log" 2>&1 || { tail -20 "$build/export.log"; exit 1; }
fi
if [ ! -f "$models/sgd_efficientnet_b0/losses.pb" ]; then
	$py tests/torch_train.py efficientnet_b0 "$models/sgd_efficientnet_b0" 20 8 0.01 0.9 0.0001 \
		>>"$build/export.log" 2>&1 || { tail -20 "$build/export.log"; exit 1; }
fi

# onnxruntime for the export check of tests/train_cli.sh: PyPI into a venv in the build dir,
# numpy pinned to Debian's 1.24 so Debian's onnx 1.12 keeps working. Without network the
# check prints SKIP with the reason (and train_cli counts as skipped).
if ! "$build/venv/bin/python3" -c 'import onnxruntime' 2>/dev/null; then
	{ /usr/bin/python3 -m venv --system-site-packages "$build/venv" &&
		"$build/venv/bin/pip" install -q onnxruntime==1.32.0 numpy==1.24.2; } >>"$build/export.log" 2>&1 ||
		echo "no onnxruntime venv (see $build/export.log): train_cli's export check will skip"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

# free disk before and after (a full disk fails tests far from its cause; the tests' work
# folders go when they pass: measured 2026-11-29, the suite needs 1.6 GB at its peak beyond
# the build and the models, 3 GB)
disk_free() { df -Pk "$build" | awk 'NR == 2 { printf "%.1f GB free on %s\n", $4 / 1048576, $6 }'; }
echo "disk: $(disk_free) before the tests; the models take $(du -sh "$models" | cut -f1)"
meson test -C "$build" --print-errorlogs --num-processes 1 "$@" | tee "$build/test.log"
echo "disk: $(disk_free) after the tests"
summary=$(grep -E '^(Ok|Fail|Skipped|Expected Fail|Unexpected Pass|Timeout):' "$build/test.log")
ok=$(echo "$summary" | awk '/^Ok:/{print $2}')
fail=$(echo "$summary" | awk '/^(Fail|Timeout|Unexpected Pass):/{s+=$NF} END{print s+0}')
skip=$(echo "$summary" | awk '/^Skipped:/{print $2}')
echo "${ok:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
[ "${fail:-0}" = 0 ] && [ "${ok:-0}" -gt 0 ]
