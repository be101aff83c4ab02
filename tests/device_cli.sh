#!/usr/bin/env bash
# --device (issue 5): on a machine without a usable GPU `--device cuda` is refused with the
# reason (exit 2) and `auto` runs on the CPU; unknown devices are refused. On a machine with
# a GPU the cuda cases are checked by scripts/device_check.sh instead.
# usage: device_cli.sh FTRUN MODELS_DIR
set -uo pipefail
ftrun=$1 dir=$2
. "$(dirname "$0")/expect.sh"
m=$dir/squeezenet1_0.onnx
in=$dir/squeezenet1_0.ref/test_data_set_0/input_0.pb
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q GPU; then
	echo "SKIP: this machine has a GPU; --device cuda is exercised by scripts/device_check.sh"
	exit 77
fi
expect2 "--device cuda without a GPU" "$ftrun" run "$m" --input "$in" --output-dir "$work/o" --device cuda
expect2 "--device cuda:x" "$ftrun" run "$m" --input "$in" --output-dir "$work/o" --device cuda:x
expect2 "--device tpu" "$ftrun" run "$m" --input "$in" --output-dir "$work/o" --device tpu
expect2 "train --device cuda without a GPU" "$ftrun" train "$m" --data synthetic --steps 1 -b 2 --device cuda \
	--output-dir "$work/t"
if "$ftrun" run "$m" --input "$in" --output-dir "$work/auto" --device auto >"$work/o" 2>&1 &&
	[ -f "$work/auto/output_0.pb" ]; then
	echo "ok: --device auto runs on the CPU"
else
	bad "--device auto did not run"
	cat "$work/o"
fi
# which nodes of a training step the CUDA backend runs: asked without a GPU
for model in resnet18_fmnist squeezenet1_0; do
	line=$("$ftrun" inspect "$dir/$model.onnx" --train -b 2 --device cuda --amp fp16 2>&1 | grep '^cuda ' | tail -1)
	case $line in
	*"no CUDA backend"*) echo "skip: $line" ;;
	*) if echo "$line" | grep -Eq '^cuda +([0-9]+) of \1 nodes'; then
		echo "ok: $model: $line"
	else
		bad "$model: the CUDA backend should run every node of its fp16 AMP training step: $line"
	fi ;;
	esac
done
exit $fail
