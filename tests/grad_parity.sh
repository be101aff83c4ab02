#!/usr/bin/env bash
# ftrun grad against PyTorch's autograd on one exported model (see tests/torch_grads.py).
# usage: grad_parity.sh FTRUN PYTHON MODELS_DIR MODEL
set -euo pipefail
ftrun=$1 py=$2 dir=$3 m=$4
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$ftrun" grad "$dir/$m.onnx" --input "$dir/$m.ref/test_data_set_0/input_0.pb" \
	--labels "$dir/$m.ref/test_data_set_0/labels_0.pb" -o "$out/grads.onnx"
"$py" "$here/compare_grads.py" "$out/grads.onnx" "$dir/$m.torch_grads.onnx" 1e-4 --self "$dir/$m.torch_grads2.onnx"
