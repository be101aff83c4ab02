#!/usr/bin/env bash
# What the importer's specialisation and the AMP pass make of the exported models, and the
# planned-peak report (`inspect --train --peak`):
#   - vit_b_16's twelve GELUs (Div, Erf, Add, Mul, Mul as PyTorch exports nn.GELU) are twelve
#     ft.Gelu nodes and no Erf is left; its Linear layers on 3-D inputs are Gemms; efficientnet_b0's 49 SiLUs (Sigmoid, Mul) are ft.Silu
#     and its 16 squeeze-excitation gates, Sigmoid times another tensor, are not;
#   - under --amp bf16 a Linear layer's bias Add (MatMul + 1-D parameter) runs in bf16, as
#     autocast runs the Linear, and the residual Add (float32 + bf16) stays float32;
#   - --peak names a node and what is live there, no more than the planned block holds;
#     without --train it is refused (tests/remat.sh checks the recomputed activations);
#   - the optimizer's multi-tensor steps train the same model as one step node a parameter;
#   - a training BatchNorm's lone ReLU is fused into it, the gradients the pair's.
# usage: fusion.sh FTRUN MODELS_DIR
set -uo pipefail
ftrun=$1 dir=$2
. "$(dirname "$0")/expect.sh"

ops() { "$ftrun" inspect "$dir/$1.onnx" -b 2 2>&1 | grep '^ops '; }
line=$(ops vit_b_16)
if echo "$line" | grep -q ' ft.Gelu 12 ' && ! echo "$line" | grep -q ' Erf '; then
	echo "ok: vit_b_16: 12 ft.Gelu, no Erf left"
else
	bad "vit_b_16's GELUs not fused: $line"
fi
# its 48 Linear layers: 36 on 3-D inputs exported as Add(MatMul(x, Transpose(W)), b) are Gemms
# now, with the 12 attention output projections (2-D, Gemm already) and the head: 49 Gemms, the
# 24 attention products left as MatMul, 36 fewer Transposes
if echo "$line" | grep -q ' Gemm 49 ' && echo "$line" | grep -q ' MatMul 24 ' && echo "$line" | grep -q ' Transpose 73 '; then
	echo "ok: vit_b_16: 49 Gemm, 24 MatMul, 73 Transpose"
else
	bad "vit_b_16's Linear layers not fused: $line"
fi
line=$(ops efficientnet_b0)
if echo "$line" | grep -q ' ft.Silu 49 ' && echo "$line" | grep -q ' Sigmoid 16 '; then
	echo "ok: efficientnet_b0: 49 ft.Silu; the 16 squeeze-excitation gates (Sigmoid times another tensor) stay"
else
	bad "efficientnet_b0's SiLUs not fused: $line"
fi

"$ftrun" inspect "$dir/vit_b_16.onnx" -b 2 --amp bf16 >"$work/amp" 2>&1
if grep -Eq '^amp +bf16 +Reshape +/encoder/layers/encoder_layer_0/mlp/mlp.0/Add$' "$work/amp" &&
	grep -Eq '^amp +fp32 +Add +/encoder/layers/encoder_layer_0/Add$' "$work/amp"; then
	echo "ok: --amp bf16: the Linear's output (its bias inside the Gemm) in bf16, the residual Add in fp32"
else
	bad "--amp bf16 types of vit_b_16's Adds:"
	grep -E 'encoder_layer_0/(mlp/mlp.0/)?Add$' "$work/amp"
fi

# a Linear whose weight is stored already transposed, Add(MatMul(x, W), b): no Gemm to make, and
# autocast's rule for the bias Add applies (amp.c)
/usr/bin/python3 - "$work/linear.onnx" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
w = numpy_helper.from_array(np.ones((4, 5), np.float32), "W")
b = numpy_helper.from_array(np.ones(5, np.float32), "b")
nodes = [helper.make_node("MatMul", ["x", "W"], ["m"], name="mm"),
         helper.make_node("Add", ["m", "b"], ["y"], name="bias")]
g = helper.make_graph(nodes, "linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 5])], [w, b])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
PY
"$ftrun" inspect "$work/linear.onnx" -b 2 --amp bf16 >"$work/lin" 2>&1
if grep -Eq '^amp +bf16 +Add +bias$' "$work/lin"; then
	echo "ok: --amp bf16: Add(MatMul(x, W), b) runs in bf16"
else
	bad "--amp bf16 of Add(MatMul(x, W), b):"
	cat "$work/lin"
fi

"$ftrun" inspect "$dir/vit_b_16.onnx" --train --peak -b 2 >"$work/peak" 2>&1
block=$(sed -nE 's/^train .*fp32\): planned peak [0-9.]+ MiB = ([0-9.]+) MiB activations.*/\1/p' "$work/peak")
live=$(sed -nE 's/^peak +([0-9.]+) MiB live at node [0-9]+ of [0-9]+ .*: [0-9]+ tensors$/\1/p' "$work/peak")
if [ -n "$block" ] && [ -n "$live" ] && awk -v l="$live" -v b="$block" 'BEGIN { exit !(l > 0 && l <= b) }' &&
	grep -Eq '^peak +[0-9.]+ MiB in +[0-9]+ tensors made by ' "$work/peak"; then
	echo "ok: --peak: $live MiB live at the busiest node, within the $block MiB block"
else
	bad "--peak report (block \"$block\", live \"$live\"):"
	cat "$work/peak"
fi
expect2 "--peak without --train" "$ftrun" inspect "$dir/vit_b_16.onnx" --peak
# the optimizer step of every parameter in one multi-tensor node per weight-decay group
# (train.c): trained models and checkpoints byte for byte those of one step node a parameter
# (FT_MULTI_TENSOR=0), with momentum and weight decay, AdamW with fp16 loss scaling and
# clipping, Nesterov with bf16 and accumulation; and 1 node (2 with weight decay: BatchNorm's
# parameters and the biases take none) against 62 in the profile, 3 steps each
# (the nodes a step: 2 weight-decay groups with --wd, 1 without)
for cfg in "2 --opt sgd --momentum 0.9 --wd 1e-4" "2 --opt adamw --wd 0.05 --amp fp16 --amp-init-scale 64 --clip-grad-norm 1" \
	"1 --opt sgd --nesterov --momentum 0.9 --amp bf16 --grad-accum-steps 2"; do
	groups=${cfg%% *} cfg=${cfg#* }
	for mt in 0 1; do
		# shellcheck disable=SC2086
		FT_PROFILE=1 FT_MULTI_TENSOR=$mt "$ftrun" train "$dir/resnet18_fmnist.onnx" --data synthetic -b 4 --steps 3 \
			$cfg --seed 5 --no-eval --output-dir "$work/mt$mt" -o "$work/mt$mt.onnx" >"$work/mt$mt.log" 2>&1
	done
	n0=$(grep -cE '^  ft\.(SGD|AdamW)Step +' "$work/mt0.log") n1=$(grep -cE '^  ft\.(SGD|AdamW)StepMulti +' "$work/mt1.log")
	c0=$(sed -nE 's/^  ft\.(SGD|AdamW)Step +([0-9]+) .*/\2/p' "$work/mt0.log")
	c1=$(sed -nE 's/^  ft\.(SGD|AdamW)StepMulti +([0-9]+) .*/\2/p' "$work/mt1.log")
	if [ -s "$work/mt0.onnx" ] && cmp -s "$work/mt0.onnx" "$work/mt1.onnx" &&
		cmp -s "$work/mt0/checkpoint.ftck" "$work/mt1/checkpoint.ftck" && [ "$n0" = 1 ] && [ "$n1" = 1 ] &&
		[ "$c0" = $((62 * 3)) ] && [ "$c1" = $((groups * 3)) ]; then
		echo "ok: $cfg: multi-tensor steps ($c1 calls, $c0 one a parameter) give the same model and checkpoint"
	else
		bad "$cfg: multi-tensor steps (calls \"$c1\" against \"$c0\") differ from one node a parameter"
		tail -n 3 "$work/mt0.log" "$work/mt1.log"
	fi
done

# a ReLU that alone reads a training BatchNorm's output is fused into it (train.c): resnet50's 33
# of 49 (16 follow residual Adds and stay), with gradients byte for byte the pair's in fp32,
# bf16 and fp16, also when the fused side recomputes every candidate in the backward
# (FT_REMAT=all: the fused output remade by BatchNormApply with its ReLU); and a bf16 training
# run with accumulation so on devsim the same model as the pair's on the CPU
for amp in "" bf16 fp16; do
	args=("$dir/resnet50.onnx" --input "$dir/resnet50.ref/test_data_set_0/input_0.pb"
		--labels "$dir/resnet50.ref/test_data_set_0/labels_0.pb" --device cpu ${amp:+--amp "$amp"})
	FT_PROFILE=1 FT_REMAT=0 FT_FUSE_BN_RELU=0 "$ftrun" grad "${args[@]}" -o "$work/pair.onnx" >"$work/pair.log" 2>&1
	FT_PROFILE=1 FT_REMAT=0 "$ftrun" grad "${args[@]}" -o "$work/fused.onnx" >"$work/fused.log" 2>&1
	FT_REMAT=all "$ftrun" grad "${args[@]}" -o "$work/remade.onnx" >/dev/null 2>&1
	r0=$(sed -nE 's/^  Relu +([0-9]+) .*/\1/p' "$work/pair.log") r1=$(sed -nE 's/^  Relu +([0-9]+) .*/\1/p' "$work/fused.log")
	if [ -s "$work/pair.onnx" ] && cmp -s "$work/pair.onnx" "$work/fused.onnx" &&
		cmp -s "$work/pair.onnx" "$work/remade.onnx" && [ -n "$r0" ] && [ -n "$r1" ] &&
		[ $((r0 * 16)) = $((r1 * 49)) ]; then
		echo "ok: resnet50 ${amp:-fp32}: BatchNorm+ReLU fused ($r1 Relu calls left of $r0), the pair's gradients, recomputing too"
	else
		bad "resnet50 ${amp:-fp32}: fused BatchNorm+ReLU (Relu calls $r1 of $r0) differs from the pair"
		tail -n 3 "$work/pair.log" "$work/fused.log"
	fi
done
targs=(train "$dir/resnet18_fmnist.onnx" --data synthetic -b 4 --grad-accum-steps 2 --steps 2 --amp bf16 --seed 3
	--no-eval)
FT_REMAT=0 FT_FUSE_BN_RELU=0 "$ftrun" "${targs[@]}" --device cpu --output-dir "$work/p0" -o "$work/pair_t.onnx" \
	>/dev/null 2>&1
FT_REMAT=all "$ftrun" "${targs[@]}" --device devsim --output-dir "$work/p1" -o "$work/fused_t.onnx" >/dev/null 2>&1
if [ -s "$work/pair_t.onnx" ] && cmp -s "$work/pair_t.onnx" "$work/fused_t.onnx"; then
	echo "ok: resnet18_fmnist bf16 2 x 2 on devsim, BatchNorm+ReLU fused and recomputed: the pair's model on the CPU"
else
	bad "resnet18_fmnist trained with BatchNorm+ReLU fused on devsim differs from the pair on the CPU"
fi
exit $fail
