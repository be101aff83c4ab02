#!/usr/bin/env bash
# The device-memory paths without a GPU (issue 5): `--device devsim` runs the CPU kernels
# behind a device boundary: constants uploaded into memory of the backend's own, mapped
# PROT_NONE except while nodes run or a copy is made, so host code that touches a tensor's
# memory directly (as it may on the CPU and must not on a GPU) faults. Per-step scalars, the
# loss, gradients, checkpoints, resume, export, the fp16 scaler and the evaluation must work
# through upload/download and the host view (the evaluation runs on the device itself, reading
# the trainer's device memory), and come out bit-identical to --device cpu (a
# host write never uploaded, or a stale host copy read, changes the numbers). A deliberate
# direct write in the trainer's per-step scalar update made the run fault (exit 139). With
# FT_CUDA_GRAPHS=1 devsim also simulates recorded ranges (CUDA graphs).
# usage: devsim.sh FTRUN MODELS_DIR
set -uo pipefail
ftrun=$1 dir=$2
. "$(dirname "$0")/expect.sh"
m=$dir/resnet18_fmnist.onnx
same() { # what, file a, file b
	if cmp -s "$2" "$3"; then echo "ok: $1"; else bad "$1: $2 and $3 differ"; fi
}
run() { # name, device, args...
	local name=$1 dev=$2
	shift 2
	"$ftrun" train "$m" --data synthetic -b 8 --lr 0.05 --threads 2 --device "$dev" \
		--output-dir "$work/$name.$dev" -o "$work/$name.$dev.onnx" "$@" >"$work/$name.$dev.log" 2>&1 ||
		{ bad "$name on $dev exited $?"; tail -3 "$work/$name.$dev.log"; }
}
for dev in cpu devsim; do
	run sgd $dev --steps 6 --momentum 0.9 --wd 5e-4 --eval-each-epoch
	run adamw_fp16 $dev --steps 5 --opt adamw --lr 0.001 --amp fp16 --amp-growth-interval 2 --grad-accum-steps 2 \
		--no-eval
	run resume $dev --steps 3 --momentum 0.9 --checkpoint-every 3 --no-eval
	"$ftrun" train "$m" --data synthetic -b 8 --lr 0.05 --threads 2 --device "$dev" \
		--output-dir "$work/resume.$dev" -o "$work/resumed.$dev.onnx" --steps 6 --momentum 0.9 \
		--resume "$work/resume.$dev/checkpoint.ftck" --no-eval >"$work/resumed.$dev.log" 2>&1 ||
		bad "resume on $dev failed"
	"$ftrun" grad "$m" --input "$dir/resnet18_fmnist.ref/test_data_set_0/input_0.pb" \
		--labels "$dir/resnet18_fmnist.ref/test_data_set_0/labels_0.pb" -o "$work/grads.$dev.onnx" --device "$dev" \
		--threads 2 >"$work/grad.$dev.log" 2>&1 || bad "grad on $dev failed"
done
# recorded ranges (exec.c, FT_CUDA_GRAPHS=1): devsim records a range's nodes instead of running
# them and replays them, and a replay whose tensors moved since the recording (the input's two
# buffers, wrongly keyed) ends the run; with fp16 scaling and accumulation
run graphs cpu --steps 6 --opt adamw --lr 0.001 --amp fp16 --amp-growth-interval 2 --grad-accum-steps 2 --no-eval
FT_CUDA_GRAPHS=1 run graphs devsim --steps 6 --opt adamw --lr 0.001 --amp fp16 --amp-growth-interval 2 \
	--grad-accum-steps 2 --no-eval
for name in sgd adamw_fp16 resumed graphs; do
	same "$name: the exported model" "$work/$name.cpu.onnx" "$work/$name.devsim.onnx"
done
same "sgd: the checkpoint" "$work/sgd.cpu/checkpoint.ftck" "$work/sgd.devsim/checkpoint.ftck"
same "adamw fp16: the checkpoint (scaler state included)" "$work/adamw_fp16.cpu/checkpoint.ftck" \
	"$work/adamw_fp16.devsim/checkpoint.ftck"
same "grad: the gradients" "$work/grads.cpu.onnx" "$work/grads.devsim.onnx"
for name in sgd adamw_fp16; do
	cut -d, -f1-4 "$work/$name.cpu/metrics.csv" >"$work/a" && cut -d, -f1-4 "$work/$name.devsim/metrics.csv" >"$work/b"
	same "$name: the losses of every step" "$work/a" "$work/b"
done
grep '^top1' "$work/sgd.cpu.log" >"$work/a"
grep '^top1' "$work/sgd.devsim.log" >"$work/b"
if [ -s "$work/a" ]; then same "sgd: the held-out top-1 (evaluated on the device, in the trainer's memory)" "$work/a" "$work/b"; else
	bad "sgd: no top-1 printed"; fi
grep -q 'evaluated on devsim' "$work/sgd.devsim.log" && echo "ok: the training run evaluated on devsim" ||
	bad "the devsim run did not evaluate on devsim"
for dev in cpu devsim; do
	"$ftrun" eval "$work/sgd.cpu.onnx" --data synthetic -b 8 --threads 2 --device "$dev" >"$work/eval.$dev" \
		2>"$work/eval.$dev.log" || bad "ftrun eval --device $dev exited $?"
done
same "ftrun eval: top-1 on devsim equals the CPU's" "$work/eval.cpu" "$work/eval.devsim"
grep -q 'evaluated on devsim' "$work/eval.devsim.log" && echo "ok: ftrun eval --device devsim evaluated there" ||
	bad "ftrun eval --device devsim did not evaluate on devsim"
grep -q "skipped" "$work/adamw_fp16.devsim.log" && echo "ok: the fp16 scaler's state is on the progress line" ||
	bad "no scaler state on devsim's progress line"
exit $fail
