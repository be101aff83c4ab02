#!/usr/bin/env bash
# ftrun grad against PyTorch's autograd on one exported model (see tests/torch_grads.py).
# usage: grad_parity.sh FTRUN PYTHON MODELS_DIR MODEL [fp16|bf16]
# With an AMP type: `ftrun grad --amp TYPE` against PyTorch's float32 gradients within 5e-2
# relative L2 (issue 4), and for bf16 against PyTorch's CPU autocast within the same bound:
# per tensor, except for the models trained by tests/pretrain.py (*_trained), judged as one
# vector with bf16's bound widened to 1.5x PyTorch's own autocast error (compare_grads.py).
set -euo pipefail
ftrun=$1 py=$2 dir=$3 m=$4 amp=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$ftrun" grad "$dir/$m.onnx" --input "$dir/$m.ref/test_data_set_0/input_0.pb" \
	--labels "$dir/$m.ref/test_data_set_0/labels_0.pb" -o "$out/grads.onnx" ${amp:+--amp "$amp"}
if [ -n "$amp" ]; then
	cmp="$py $here/compare_grads.py $out/grads.onnx"
	case $m in
	*_trained)
		if [ "$amp" = bf16 ]; then
			$cmp "$dir/$m.torch_grads.onnx" 5e-2 --whole --self "$dir/$m.torch_grads_bf16.onnx" --factor 1.5
			echo "against PyTorch's autocast (bf16):"
			$cmp "$dir/$m.torch_grads_bf16.onnx" 5e-2 --whole --self "$dir/$m.torch_grads.onnx" --factor 1.5
		else
			$cmp "$dir/$m.torch_grads.onnx" 5e-2 --whole
		fi ;;
	*)
		$cmp "$dir/$m.torch_grads.onnx" 5e-2
		if [ "$amp" = bf16 ]; then
			echo "against PyTorch's autocast (bf16):"
			$cmp "$dir/$m.torch_grads_bf16.onnx" 5e-2
		fi ;;
	esac
	exit 0
fi
"$py" "$here/compare_grads.py" "$out/grads.onnx" "$dir/$m.torch_grads.onnx" 1e-4 --self "$dir/$m.torch_grads2.onnx"
