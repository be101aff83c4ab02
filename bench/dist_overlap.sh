#!/usr/bin/env bash
# The gradient all-reduce overlapped with the backward pass, measured: images/s of 2 MPI ranks
# x 1 thread with --bucket-cap-mb 0 (one all-reduce after the backward: no overlap) against
# the default 25 MiB buckets (sent during the backward as their gradients become final), same
# global batch, rounds alternating the two so drift in the machine hits both; medians, each
# round in parentheses. Images/s from metrics.csv as in dist_scaling.sh (steps 2..N).
#
# usage: bench/dist_overlap.sh [STEPS] [ROUNDS]
# env:   FT_MODELS   exported models (default /work/models)
#        FT_BUILD    release build dir (default build-release)
#        DIST_MODELS "model:global_batch ..." (default "resnet18_fmnist:64 vit_b_16:8")
#        DIST_MPI    extra mpirun arguments (default: none; Open MPI picks shared memory)
#        DIST_CAPS   the bucket caps compared (default "0 25")
steps=${1:-6}; rounds=${2:-3}
. "$(dirname "$0")/dist_lib.sh"
list=${DIST_MODELS:-"resnet18_fmnist:64 vit_b_16:8"}
caps=${DIST_CAPS:-"0 25"}
export OMP_NUM_THREADS=1

printf "| model | global batch |"
for c in $caps; do printf " --bucket-cap-mb %s |" "$c"; done
printf "\n| --- | --- |"
for c in $caps; do printf " --- |"; done
printf "\n"
for mb in $list; do
	m=${mb%%:*} b=${mb##*:}
	A=(train "$models/$m.onnx" --data synthetic --steps "$steps" --lr 0.001 --sched none --no-eval
		--print-every 1000 -b $((b / 2)) --threads 1)
	declare -A got=()
	for r in $(seq "$rounds"); do
		for c in $caps; do
			mpirun --oversubscribe ${DIST_MPI:-} -np 2 "$ftrun" "${A[@]}" --bucket-cap-mb "$c" \
				--output-dir "$work/c$c" >/dev/null 2>&1
			got[$c]="${got[$c]:-} $(ips "$work/c$c" "$b")"
		done
	done
	printf "| %s | %s |" "$m" "$b"
	for c in $caps; do printf " %s (%s ) |" "$(echo ${got[$c]} | median)" "${got[$c]}"; done
	printf "\n"
	unset got
done
