#!/usr/bin/env bash
# Scaling of data-parallel training on this machine's CPUs: images/s of `ftrun train` with
# 1 rank x 2 threads against 2 MPI ranks x 1 thread, the same global batch (the 2-rank run
# has half the micro-batch per rank), and 1 rank x 1 thread at the per-rank batch (what one
# rank does alone: 2 ranks / (2 x that) is the efficiency of the data parallelism itself). Images/s is measured from metrics.csv: the global
# images of steps 2..N over the seconds between step 1 and step N (step 1 warms up).
# Rounds alternate the two configurations so drift in the machine hits both; the table
# gives the median over the rounds. See docs/distributed.md.
#
# usage: bench/dist_scaling.sh [STEPS] [ROUNDS]
# env:   FT_MODELS   exported models (default /work/models)
#        FT_BUILD    release build dir (default build-release)
#        DIST_MODELS "model:global_batch ..." (default "vit_b_16:8 resnet18_fmnist:64")
#        DIST_MPI    extra mpirun arguments (default: none; Open MPI picks shared memory)
steps=${1:-6}; rounds=${2:-3}
. "$(dirname "$0")/dist_lib.sh"
list=${DIST_MODELS:-"vit_b_16:8 resnet18_fmnist:64"}

echo "| model | global batch | 1 rank x 2 threads | 2 ranks x 1 thread | 2 ranks / (1 rank x 2 threads) | 1 rank x 1 thread, half batch | 2 ranks / (2 x 1 rank x 1 thread) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for mb in $list; do
	m=${mb%%:*} b=${mb##*:}
	A=(train "$models/$m.onnx" --data synthetic --steps "$steps" --lr 0.001 --sched none --no-eval
		--print-every 1000)
	one="" two="" half=""
	for r in $(seq "$rounds"); do
		OMP_NUM_THREADS=2 "$ftrun" "${A[@]}" -b "$b" --threads 2 --output-dir "$work/one" >/dev/null 2>&1
		one="$one $(ips "$work/one" "$b")"
		OMP_NUM_THREADS=1 mpirun --oversubscribe ${DIST_MPI:-} -np 2 "$ftrun" "${A[@]}" -b $((b / 2)) \
			--threads 1 --output-dir "$work/two" >/dev/null 2>&1
		two="$two $(ips "$work/two" "$b")"
		OMP_NUM_THREADS=1 "$ftrun" "${A[@]}" -b $((b / 2)) --threads 1 --output-dir "$work/half" >/dev/null 2>&1
		half="$half $(ips "$work/half" $((b / 2)))"
	done
	o=$(echo $one | median) t=$(echo $two | median) h=$(echo $half | median)
	echo "| $m | $b | $o ($one ) | $t ($two ) | $(awk -v a="$o" -v b="$t" 'BEGIN {printf "%.2f", b / a}') |" \
		"$h ($half ) | $(awk -v a="$h" -v b="$t" 'BEGIN {printf "%.2f", b / (2 * a)}') |"
done
