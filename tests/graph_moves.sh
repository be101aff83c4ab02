#!/usr/bin/env bash
# Pointers into the graph's tensor and node tables held across a growth (issue 5: a ViT
# training graph crashed on a GPU, 2026-11-28, because a Reshape gradient read the dims of a
# tensor whose table had just moved; it fired only when the count hit 2048 at that moment).
# FT_DEBUG_MOVE_TABLES=1 moves both tables on every new tensor and node, so under
# AddressSanitizer any such read fails on every model: this builds the training graphs of
# the zoo in fp32, bf16 with accumulation and fp16 with AdamW, clipping and accumulation,
# and trains a few steps through the loader on the device simulator.
# usage: graph_moves.sh FTRUN MODELS_DIR
set -uo pipefail
ftrun=$1 dir=$2
. "$(dirname "$0")/expect.sh"
export FT_DEBUG_MOVE_TABLES=1
for m in resnet18_fmnist squeezenet1_0 shufflenet_v2_x0_5 mobilenet_v3_small efficientnet_b0 resnet50 convnext_tiny \
	vit_b_16; do
	[ -f "$dir/$m.onnx" ] || { bad "$dir/$m.onnx is missing (onnx_models/export.py)"; continue; }
	for cfg in "" "--amp bf16 --grad-accum-steps 2" "--amp fp16 --grad-accum-steps 2 --opt adamw --clip-grad-norm 1"; do
		# shellcheck disable=SC2086
		if "$ftrun" inspect "$dir/$m.onnx" --train -b 2 $cfg >"$work/o" 2>&1; then
			echo "ok: $m ${cfg:-fp32}"
		else
			bad "$m ${cfg:-fp32}: exit $?"
			grep -m3 -E "ERROR|#[0-9] " "$work/o"
		fi
	done
done
if "$ftrun" train "$dir/resnet18_fmnist.onnx" --data synthetic -b 8 --steps 3 --amp fp16 --grad-accum-steps 2 \
	--device devsim --no-eval --threads 2 --output-dir "$work/train" -o "$work/trained.onnx" >"$work/o" 2>&1; then
	echo "ok: training on devsim with the tables moving"
else
	bad "training on devsim: exit $?"
	grep -m3 -E "ERROR|#[0-9] " "$work/o"
fi
exit $fail
