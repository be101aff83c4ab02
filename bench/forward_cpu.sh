#!/usr/bin/env bash
# Forward time and model load time, ftrun against PyTorch, same machine, same run,
# same thread count. Rounds alternate the two (ftrun, torch, ftrun, torch ...) so drift
# in the machine's speed hits both; each round reports its median over ITERS forwards.
#
# usage: bench/forward_cpu.sh [THREADS] [BATCH] [ITERS] [ROUNDS]
# needs: build/ (meson), models in $FT_MODELS (default /work/models; onnx_models/export.py)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}; batch=${2:-8}; iters=${3:-5}; rounds=${4:-3}
models=${FT_MODELS:-/work/models}
py=/usr/bin/python3
export OMP_NUM_THREADS=$threads
echo "| model | batch | ftrun forward ms (median of rounds) | PyTorch forward ms | ftrun / PyTorch | ftrun import ms | onnx.load ms |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for m in resnet50 vit_b_16 efficientnet_b0; do
	f=(); t=(); fi=(); tl=()
	for r in $(seq "$rounds"); do
		out=$("${FT_BUILD:-build}"/tests/bench_forward "$models/$m.onnx" "$batch" "$iters")
		f+=("$(echo "$out" | awk '{print $6}')"); fi+=("$(echo "$out" | awk '{print $4}')")
		out=$($py bench/torch_forward.py "$m" "$batch" "$iters" "$threads" "$models/$m.onnx")
		t+=("$(echo "$out" | awk '{print $2}')"); tl+=("$(echo "$out" | awk '{print $6}')")
	done
	med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
	fm=$(med "${f[@]}"); tm=$(med "${t[@]}")
	echo "| $m | $batch | $fm | $tm | $(awk -v a="$fm" -v b="$tm" 'BEGIN{printf "%.2f", a/b}') | $(med "${fi[@]}") | $(med "${tl[@]}") |"
done
