#!/usr/bin/env bash
# Fashion-MNIST, ftrun against PyTorch with the same recipe (docs/fashion-mnist.md).
# usage: bench/fmnist_compare.sh OUT_DIR [EPOCHS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; epochs=${2:-3}; threads=${3:-2}
mkdir -p "$out"
models=${FT_MODELS:-$out/models}
[ -f "$models/resnet18_fmnist.onnx" ] || /usr/bin/python3 onnx_models/export.py --out "$models" --models resnet18_fmnist
export OMP_NUM_THREADS=$threads
recipe=(--epochs "$epochs" -b 64 --lr 0.05 --wd 5e-4 --warmup-steps 100 --momentum 0.9)
/usr/bin/time -v "${FT_BUILD:-build}"/ftrun train "$models/resnet18_fmnist.onnx" --data /usr/share/datasets/fashion-mnist \
	"${recipe[@]}" --threads "$threads" --eval-each-epoch --print-every 200 --output-dir "$out/ftrun" \
	>"$out/ftrun.log" 2>&1
/usr/bin/time -v /usr/bin/python3 bench/fmnist_torch.py "$out/torch_epochs.csv" "$epochs" 64 0.05 5e-4 100 "$threads" \
	>"$out/torch.log" 2>&1
echo "ftrun:"; cat "$out/ftrun/epochs.csv"
echo "PyTorch:"; cat "$out/torch_epochs.csv"
