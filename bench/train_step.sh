#!/usr/bin/env bash
# One training step (forward, cross-entropy, backward, SGD update; fp32, CPU) of ftrun
# against PyTorch and onnxruntime-training, same machine, same run, same thread count.
# Rounds alternate the three (ftrun, PyTorch, ORT, ftrun, ...) so drift in the machine's
# speed hits all of them; each run reports the median of ITERS timed steps after two warm-up
# steps, and the table gives the median over the rounds. See docs/bench-train-cpu.md.
#
# usage: bench/train_step.sh [THREADS] [ITERS] [ROUNDS]
# env:   FT_MODELS     exported models (default /work/models; onnx_models/export.py)
#        FT_BUILD      meson build dir with tests/bench_train (default build)
#        ORT_TRAIN_PY  python of the onnxruntime-training venv
#                      (default /work/helpers/ort-train-venv/bin/python)
#        ORT_TRAIN_WORK  where the ORT training artifacts are cached (default $TMPDIR/ftrun-ort-train)
#        TRAIN_MODELS  "model:batch ..." (default "resnet50:8 efficientnet_b0:8 vit_b_16:4 resnet18_fmnist:64")
#        TRAIN_LOG     each run's command, stderr and output line (default /tmp/train_step.log)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}; iters=${2:-5}; rounds=${3:-3}
models=${FT_MODELS:-/work/models}
build=${FT_BUILD:-build}
py=/usr/bin/python3
ort_py=${ORT_TRAIN_PY:-/work/helpers/ort-train-venv/bin/python}
ort_work=${ORT_TRAIN_WORK:-${TMPDIR:-/tmp}/ftrun-ort-train}
list=${TRAIN_MODELS:-"resnet50:8 efficientnet_b0:8 vit_b_16:4 resnet18_fmnist:64"}
log=${TRAIN_LOG:-/tmp/train_step.log}
export OMP_NUM_THREADS=$threads
: > "$log"

# field NAME "OUTPUT": the value after NAME, empty if absent
field() { echo "$2" | awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) {print $(i + 1); exit}}'; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
ratio() { if [[ $1 =~ ^[0-9.]+$ && $2 =~ ^[0-9.]+$ ]]; then awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; else echo "-"; fi; }
# run NAME CMD...: prints the step median, or "n/a (reason)" (the reason from the output or stderr)
run() {
	local name=$1 out rc=0
	shift
	echo "== $name: $*" >> "$log"
	out=$("$@" 2>>"$log") || rc=$?
	echo "$out" >> "$log"
	local v; v=$(field step_ms_median "$out")
	if [[ -n $v ]]; then
		echo "$v"
	elif [[ $out == *"n/a ("* ]]; then
		echo "n/a (${out#*n/a (}"
	else
		echo "n/a (exit $rc: $(tail -n 1 "$log" | cut -c1-150))"
	fi
}

ort_ver=$("$ort_py" -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null || echo "not found at $ort_py")
torch_ver=$($py -c 'import torch; print(torch.__version__)')
echo "threads $threads, $iters timed steps per run after 2 warm-up steps, median of $rounds rounds;" \
     "PyTorch $torch_ver, onnxruntime-training $ort_ver, $(getconf _NPROCESSORS_ONLN) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo
echo "| model | batch | ftrun ms | PyTorch ms | ORT-training ms | ftrun / PyTorch | ftrun / ORT |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for mb in $list; do
	m=${mb%%:*}; b=${mb##*:}
	f=(); t=(); o=(); fbad=""; tbad=""; obad=""
	for r in $(seq "$rounds"); do
		if [[ -z $fbad ]]; then
			v=$(run "ftrun $m b$b r$r" "$build/tests/bench_train" "$models/$m.onnx" "$b" "$iters" "$threads")
			[[ $v == n/a* ]] && fbad=$v || f+=("$v")
		fi
		if [[ -z $tbad ]]; then
			v=$(run "torch $m b$b r$r" $py bench/torch_train_step.py "$m" "$b" "$iters" "$threads")
			[[ $v == n/a* ]] && tbad=$v || t+=("$v")
		fi
		if [[ -z $obad ]]; then
			v=$(run "ort $m b$b r$r" "$ort_py" bench/ort_train_step.py "$models/$m.onnx" "$b" "$iters" "$threads" "$ort_work")
			[[ $v == n/a* ]] && obad=$v || o+=("$v")
		fi
	done
	fm=${fbad:-$(med "${f[@]}")}; tm=${tbad:-$(med "${t[@]}")}; om=${obad:-$(med "${o[@]}")}
	echo "| $m | $b | $fm | $tm | $om | $(ratio "$fm" "$tm") | $(ratio "$fm" "$om") |"
done
