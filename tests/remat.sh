#!/usr/bin/env bash
# Activations recomputed in the backward instead of kept (runtime/remat.c): ReLU and SiLU
# outputs through ft.BatchNormalizationApply, GELU outputs, attention probabilities through
# their MatMul and Softmax, casts. The recompute must change no bit:
#   - ftrun grad --device cpu with every candidate recomputed (FT_REMAT=all, sizes down to 0)
#     against none (FT_REMAT=0, which must list none): resnet50, efficientnet_b0 and vit_b_16 in
#     fp32 and bf16, efficientnet_b0 in fp16 (loss scaling), byte for byte the same gradients;
#   - two training steps of two micro-batches each (the weight casts hoisted out of the
#     micro-batch loop, the accumulation moved early), with recomputes listed, give the same
#     trained model as without;
#   - with the GPU's default (FT_REMAT=1: tensors of 1 MiB and more) the planned step of each
#     model is smaller; `inspect --train --device cpu` plans the CPU's default (nothing
#     recomputed) and `--device cuda` the GPU's (no GPU needed).
# usage: remat.sh FTRUN MODELS_DIR
set -uo pipefail
ftrun=$1 dir=$2
. "$(dirname "$0")/expect.sh"

for case in resnet50: resnet50:bf16 efficientnet_b0: efficientnet_b0:bf16 efficientnet_b0:fp16 vit_b_16: vit_b_16:bf16; do
	m=${case%%:*} amp=${case#*:}
	args=("$dir/$m.onnx" --input "$dir/$m.ref/test_data_set_0/input_0.pb"
		--labels "$dir/$m.ref/test_data_set_0/labels_0.pb" --device cpu ${amp:+--amp "$amp"})
	k=$(FT_REMAT=0 FT_REMAT_DEBUG=1 "$ftrun" grad "${args[@]}" -o "$work/kept.onnx" 2>&1 | grep -c '^remat ')
	n=$(FT_REMAT=all FT_REMAT_DEBUG=1 "$ftrun" grad "${args[@]}" -o "$work/remat.onnx" 2>&1 | grep -c '^remat ')
	if [ "$k" = 0 ] && [ "$n" -gt 0 ] && [ -s "$work/kept.onnx" ] && cmp -s "$work/kept.onnx" "$work/remat.onnx"; then
		echo "ok: $m ${amp:-fp32}: $n activations recomputed, gradients bit for bit those kept ones give"
	else
		bad "$m ${amp:-fp32}: $n recomputed ($k with FT_REMAT=0); gradients differ from those with none (or a run failed)"
	fi
	rm -f "$work/kept.onnx" "$work/remat.onnx"
done
for m in efficientnet_b0 vit_b_16; do
	targs=(train "$dir/$m.onnx" --data synthetic -b 2 --grad-accum-steps 2 --steps 2 --amp bf16 --seed 3 --no-eval
		--device cpu)
	FT_REMAT=0 "$ftrun" "${targs[@]}" --output-dir "$work/kept" -o "$work/kept_trained.onnx" >/dev/null 2>&1
	n=$(FT_REMAT=all FT_REMAT_DEBUG=1 "$ftrun" "${targs[@]}" --output-dir "$work/remat" -o "$work/remat_trained.onnx" 2>&1 |
		grep -c '^remat ')
	if [ "$n" -gt 0 ] && [ -s "$work/kept_trained.onnx" ] && cmp -s "$work/kept_trained.onnx" "$work/remat_trained.onnx"; then
		echo "ok: $m trained 2 steps x 2 micro-batches (bf16), $n activations recomputed: the same model as without"
	else
		bad "$m trained with $n recomputed differs from without (or a run failed)"
	fi
	rm -rf "$work/kept" "$work/remat" "$work/kept_trained.onnx" "$work/remat_trained.onnx"
done
planned() {
	"$ftrun" inspect "$dir/${1%%:*}.onnx" --train -b "${1##*:}" --amp bf16 --device cpu 2>&1 |
		sed -nE 's/^train .*bf16\): planned peak [0-9.]+ MiB = ([0-9.]+) MiB activations.*/\1/p'
}
for m in resnet50:8 vit_b_16:8 efficientnet_b0:8; do
	on=$(FT_REMAT=1 planned $m) off=$(FT_REMAT=0 planned $m)
	if [ -n "$on" ] && [ -n "$off" ] && awk -v a="$on" -v b="$off" 'BEGIN { exit !(a < b) }'; then
		echo "ok: ${m%%:*} at batch ${m##*:}, bf16: planned activations $on MiB recomputing, $off MiB keeping all"
	else
		bad "${m%%:*}: recomputing does not lower the plan ($on against $off MiB)"
	fi
done
count() {
	env -u FT_REMAT "$ftrun" inspect "$dir/resnet50.onnx" --train -b 2 "$@" 2>&1 |
		sed -nE 's/.*, ([0-9]+) activations recomputed.*/\1/p' | head -1
}
cpu=$(count --device cpu) gpu=$(count --device cuda)
if [ "$cpu" = 0 ] && [ -n "$gpu" ] && [ "$gpu" -gt 0 ]; then
	echo "ok: resnet50's step as planned for the CPU recomputes nothing, for cuda $gpu activations"
else
	bad "defaults: the CPU's plan recomputes \"$cpu\" activations (want 0), cuda's \"$gpu\" (want some)"
fi
exit $fail
