#!/usr/bin/env bash
# The channels-last pass (runtime/layout.c, FT_CHANNELS_LAST=1). On the CPU a channels-last
# node runs its NCHW kernel between transposes (backend_cpu.c), so the pass must change no bit:
#   - ftrun grad of resnet50 in fp32, bf16 and fp16 (loss scaling): the same gradients, byte
#     for byte, with the pass, whose Transposes (FT_PROFILE counts them; none without) are
#     only those at the region's edges and the weights';
#   - efficientnet_b0 (depthwise convolutions): left NCHW, no Transpose, the same gradients;
#   - two training steps of two micro-batches (bf16; the weights' transposes hoisted out of
#     the micro-batch loop with their casts) on the CPU and on devsim (recomputes on, the
#     device boundary): the same trained model as the plain CPU run;
#   - the training graphs of resnet50, squeezenet1_0 and vit_b_16 built with the tables moving.
# What it buys is for a GPU to measure (docs/cuda.md); tests/test_cuda_ops.c has the CUDA cases.
# usage: layout.sh FTRUN MODELS_DIR
set -uo pipefail
ftrun=$1 dir=$2
. "$(dirname "$0")/expect.sh"

transposes() { sed -nE 's/^  Transpose +([0-9]+) .*/\1/p' "$1" | head -1; }
for case in resnet50: resnet50:bf16 resnet50:fp16 efficientnet_b0:bf16; do
	m=${case%%:*} amp=${case#*:}
	args=("$dir/$m.onnx" --input "$dir/$m.ref/test_data_set_0/input_0.pb"
		--labels "$dir/$m.ref/test_data_set_0/labels_0.pb" --device cpu ${amp:+--amp "$amp"})
	FT_PROFILE=1 FT_CHANNELS_LAST=0 "$ftrun" grad "${args[@]}" -o "$work/first.onnx" >"$work/first.log" 2>&1
	FT_PROFILE=1 FT_CHANNELS_LAST=1 "$ftrun" grad "${args[@]}" -o "$work/last.onnx" >"$work/last.log" 2>&1
	t0=$(transposes "$work/first.log") t1=$(transposes "$work/last.log")
	# resnet50 channels last transposes its 53 weights, their 53 gradients, the image, and around
	# the MaxPool (2, and 2 in the backward) and the GlobalAveragePool (1 and 1): 113 a run
	# (fp16's ftrun grad runs several); more means the layout flips inside the network
	moved=yes
	if [ $m = efficientnet_b0 ]; then [ -z "$t1" ] || moved=no; else [ -n "$t1" ] && [ $((t1 % 113)) = 0 ] || moved=no; fi
	if [ -s "$work/first.onnx" ] && cmp -s "$work/first.onnx" "$work/last.onnx" && [ -z "$t0" ] && [ $moved = yes ]; then
		echo "ok: $m ${amp:-fp32}: ${t1:-no} Transposes channels last, gradients bit for bit the NCHW ones"
	else
		bad "$m ${amp:-fp32}: Transposes ${t0:-none} / ${t1:-none} (NCHW / channels last), or gradients differ"
		tail -n 3 "$work/first.log" "$work/last.log"
	fi
	rm -f "$work/first.onnx" "$work/last.onnx"
done
targs=(train "$dir/resnet18_fmnist.onnx" --data synthetic -b 4 --grad-accum-steps 2 --steps 2 --amp bf16 --seed 3
	--no-eval)
FT_CHANNELS_LAST=0 "$ftrun" "${targs[@]}" --device cpu --output-dir "$work/p" -o "$work/plain.onnx" >/dev/null 2>&1
for dev in cpu devsim; do
	FT_CHANNELS_LAST=1 "$ftrun" "${targs[@]}" --device $dev --output-dir "$work/$dev" -o "$work/$dev.onnx" \
		>"$work/$dev.log" 2>&1
	if [ -s "$work/plain.onnx" ] && cmp -s "$work/plain.onnx" "$work/$dev.onnx"; then
		echo "ok: resnet18_fmnist trained 2 steps x 2 micro-batches (bf16) channels last on $dev: the NCHW model"
	else
		bad "resnet18_fmnist channels last on $dev differs from NCHW (or a run failed)"
		tail -n 3 "$work/$dev.log"
	fi
done
# the pass under FT_DEBUG_MOVE_TABLES=1 (tests/graph_moves.sh: both tables move at every addition,
# so a pointer held across one fails under AddressSanitizer): the training graphs of models with
# plain convolutions (squeezenet1_0's Concats, vit_b_16's single patch convolution)
for m in resnet50 squeezenet1_0 vit_b_16; do
	if FT_DEBUG_MOVE_TABLES=1 FT_CHANNELS_LAST=1 "$ftrun" inspect "$dir/$m.onnx" --train -b 2 --amp bf16 \
		>"$work/o" 2>&1; then
		echo "ok: $m's training graph channels last with the tables moving"
	else
		bad "$m channels last with the tables moving: exit $?"
		grep -m3 -E "ERROR|#[0-9] |ftrun:" "$work/o"
	fi
done
exit $fail
