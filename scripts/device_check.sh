#!/usr/bin/env bash
# The one prepared run for a machine with a GPU (issue 5; the device tool's machines: H100/H200).
# Runs ftrun's CUDA backend (built here into device-bundle/), compares every CUDA op with the
# CPU kernels, checks the three models' logits and gradients against the CPU backend and
# against PyTorch on the same GPU, measures ftrun's and PyTorch's training throughput and
# memory on that GPU, and ends with one table (summary.txt).
#   here:   scripts/device_bundle.sh          (builds device-bundle/, about 7 MiB)
#   there:  scripts/device_check.sh [OUT_DIR]  (default $OUT, else device-out), with the device
#           tool: run(command="scripts/device_check.sh $OUT", carry=["device-bundle"], timeout_s=480)
# FT_CHECK_MODELS, FT_CHECK_PARITY, FT_CHECK_PROFILE, FT_CHECK_FIND (model lists), FT_CHECK_CPU_ORACLE=0 and
# FT_CHECK_STEPS narrow a rerun to what changed; FT_CHECK_CONFIGS sets ftrun bench's configurations and
# FT_CHECK_SKIP (a list of torch, torchprof, layout, eval, imagefolder, same, optin) leaves those steps out.
#   dry run on a machine without a GPU (checks this script, not CUDA):
#           FT_CHECK_DEVICE=devsim FT_CHECK_PYTHON=/usr/bin/python3 FT_CHECK_MODELS=resnet50 \
#           FT_CHECK_BATCH=4 FT_CHECK_STEPS=2 scripts/device_check.sh /tmp/dry
# FT_CHECK_BUDGET (seconds, default 400): a step that would start after its share of the budget
# is skipped and says so, so the run ends inside the device tool's limit with what it has.
# The order is the order of need: the kernel tests, ftrun's and PyTorch's training benches,
# PyTorch's step by kernel, the convolution layouts, GPU evaluation, a JPEG ImageFolder, the
# paths that must not change the numbers (NCCL of one, CUDA graphs), the opt-in settings'
# benches, parity, profiles, memcheck. With 15 minutes of device time a session (starts
# included), one run of about 480 s; for the lease after 2026-11-28's (the layouts measured,
# ViT's kernels and graph changed since):
#   FT_CHECK_CPU_ORACLE=0 FT_CHECK_PARITY=vit_b_16 FT_CHECK_FIND=vit_b_16 FT_CHECK_CONFIGS=baseline,amp,ga+amp+pm FT_CHECK_STEPS=10 FT_CHECK_SKIP=layout,eval FT_CHECK_BUDGET=480 scripts/device_check.sh $OUT
# with timeout_s 540 (the CPU oracles' figures are in docs/cuda.md already).
# Nothing here downloads anything: models are exported from torchvision with random weights.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-device-out}}
dev=${FT_CHECK_DEVICE:-cuda}
budget=${FT_CHECK_BUDGET:-400}
models_list=${FT_CHECK_MODELS:-resnet50,vit_b_16,efficientnet_b0}
parity=${FT_CHECK_PARITY:-$models_list}        # the models whose logits and gradients are checked
cpu_oracle=${FT_CHECK_CPU_ORACLE:-1}           # 0: no ftrun CPU gradients (the plain C kernels are slow)
profile=${FT_CHECK_PROFILE:-resnet50,vit_b_16,efficientnet_b0} # FT_PROFILE=1 AMP steps: time per op
find_models=${FT_CHECK_FIND-resnet50,efficientnet_b0} # also benched with FT_CUDNN_FIND=1
steps=${FT_CHECK_STEPS:-20}
configs=${FT_CHECK_CONFIGS:-baseline,pm,amp,ga+amp+pm}
skipped() { [[ ",${FT_CHECK_SKIP:-}," == *",$1,"* ]]; }
py=${FT_CHECK_PYTHON:-$(command -v python3)}
tdev=cpu # where PyTorch's same-device oracle runs: the GPU, except in a dry run
[ "$dev" = cuda ] && tdev=cuda
w=${FT_CHECK_WORK:-/tmp/ftcheck} # logs and models; $out gets summary.txt, torch_bench.csv and logs.tgz
rm -rf "$w"
mkdir -p "$out" "$w"
: >"$out/summary.txt"
t0=$SECONDS
# the logs and the small result files (no models) into $out, also when the run is cut short
pack() {
	tar czf "$out/logs.tgz" -C "$w" --exclude='*.onnx' --exclude='*.ref' --exclude='*.pb' --exclude='*.ftck' \
		--exclude='*.ftck.tmp' --exclude=tensorboard . 2>/dev/null
}
trap pack EXIT
trap 'pack; exit 124' TERM INT
log() { echo "== [$((SECONDS - t0))s] $*" | tee -a "$out/summary.txt"; }
# before_s N: true while at least N seconds of the budget remain
before_s() { [ $((budget - (SECONDS - t0))) -ge "$1" ]; }
log "date $(date -u +%Y-%m-%dT%H:%MZ), $(nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv,noheader 2>&1 | head -1)"

# 1. the binaries: device-bundle/ made here by scripts/device_bundle.sh (the device machines
#    cannot install ftrun's build dependencies), run against this machine's CUDA libraries
#    (the toolkit's and the ones PyTorch's wheels bring, cuDNN among them)
if [ ! -x device-bundle/ftrun ]; then
	log "no device-bundle/: run scripts/device_bundle.sh on the build machine and carry device-bundle"
	exit 1
fi
nv=$($py -c "import os, nvidia; print(' '.join(os.path.join(p, d, 'lib') for p in nvidia.__path__ for d in os.listdir(p)))" 2>/dev/null)
libs=$PWD/device-bundle/lib:/usr/local/cuda/lib64
for d in $nv; do [ -d "$d" ] && libs=$libs:$d; done
export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ftrun=$PWD/device-bundle/ftrun
log "bundle of commit $(cat device-bundle/COMMIT); $($ftrun --version 2>&1 | head -1); device $dev"

# 2. in the background, on the CPU: export the models with PyTorch's logits, then the CPU
#    oracles per model: PyTorch's gradients with its two convolution algorithms (their
#    distance is the float32 noise floor of the model at this batch, tests/compare_grads.py)
#    and ftrun's CPU backend
models=$w/models
mkdir -p "$models"
(
	export OMP_NUM_THREADS=4 # the CPU oracles leave most cores to the benchmarks' loaders
	$py onnx_models/export.py --out "$models" --models "$models_list" --ref --batch "${FT_CHECK_GRAD_BATCH:-2}" ||
		echo "export failed"
	touch "$models/exported"
	for m in ${parity//,/ }; do
		ref=$models/$m.ref
		# the labels are written by the first PyTorch gradient run, in the foreground
		while [ ! -f "$ref/test_data_set_0/labels_0.pb" ]; do sleep 1; done
		$py tests/torch_grads.py $m "$models/$m.onnx" "$ref" "$models/$m.torch.onnx"
		$py tests/torch_grads.py $m "$models/$m.onnx" "$ref" "$models/$m.torch2.onnx" --no-mkldnn
		[ "$cpu_oracle" = 0 ] || "$ftrun" grad "$models/$m.onnx" --input "$ref/test_data_set_0/input_0.pb" \
			--labels "$ref/test_data_set_0/labels_0.pb" -o "$models/$m.cpu.onnx" --device cpu
		touch "$models/$m.oracle"
	done
) >"$w/oracle.log" 2>&1 &
oracle=$!

# 3. every CUDA op against the CPU kernels (while the CPU exports)
if [ "$dev" = cuda ]; then
	timeout 150 device-bundle/test_cuda_ops >"$w/cuda_ops.txt" 2>&1
	log "kernel test (exit $?): $(tail -1 "$w/cuda_ops.txt")"
	grep -E "FAIL|error" "$w/cuda_ops.txt" | head -30 | tee -a "$out/summary.txt"
	# the convolutions again with ftrun's depthwise kernels (kernels/cuda/depthwise.cu, opt-in)
	for op in Conv ft.ConvGradInput ft.ConvGradWeight; do
		FT_CUDA_DEPTHWISE=1 timeout 60 device-bundle/test_cuda_ops --op $op >"$w/cuda_dw_$op.txt" 2>&1
		log "kernel test, $op with FT_CUDA_DEPTHWISE=1 (exit $?): $(tail -1 "$w/cuda_dw_$op.txt")"
		grep -E "FAIL|error" "$w/cuda_dw_$op.txt" | head -10 | tee -a "$out/summary.txt"
	done
	# the products again through cuBLAS alone (FT_CUBLASLT=0: its paths, the bias written first),
	# and the convolutions with the 1 x 1 ones on cuDNN (FT_CONV_GEMM=0)
	for v in FT_CUBLASLT=0:Gemm FT_CUBLASLT=0:MatMul FT_CUBLASLT=0:ft.MatMulT FT_CONV_GEMM=0:Conv \
		FT_CONV_GEMM=0:ft.ConvGradInput FT_CONV_GEMM=0:ft.ConvGradWeight; do
		op=${v#*:}
		env ${v%%:*} timeout 60 device-bundle/test_cuda_ops --op $op >"$w/cuda_alt_$op.txt" 2>&1
		log "kernel test, $op with ${v%%:*} (exit $?): $(tail -1 "$w/cuda_alt_$op.txt")"
		grep -E "FAIL|error" "$w/cuda_alt_$op.txt" | head -10 | tee -a "$out/summary.txt"
	done
fi
while [ ! -f "$models/exported" ] && before_s 200; do sleep 2; done

# 4. training throughput and memory: ftrun bench (fp32, AMP bf16, GA+AMP+pinned) and PyTorch
#    (fp32 with TF32 off, TF32, bf16 autocast channels-last: its best eager configuration) at
#    the same batch, synthetic data through each one's own input path
declare -A batch=([resnet50]=128 [vit_b_16]=64 [efficientnet_b0]=128)
for m in ${models_list//,/ }; do
	before_s 60 || { log "$m: ftrun bench skipped, out of time"; continue; }
	b=${FT_CHECK_BATCH:-${batch[$m]}}
	timeout 120 "$ftrun" bench "$models/$m.onnx" --device $dev -b $b --steps $steps --configs $configs \
		--output-dir "$w/$m.bench" >"$w/$m.bench.log" 2>&1 &&
		log "$m: ftrun $dev training:$(printf '\n%s' "$(grep -E '^ *(config|baseline|pm|amp|ga)' "$w/$m.bench.log")")" ||
		log "$m: ftrun bench on $dev failed:$(printf '\n%s' "$(grep -vE '^(/|.*\(\+0x)' "$w/$m.bench.log" | tail -8 | cut -c1-300)")
$(grep -A24 'crashed' "$w/$m.bench.log" | head -60)"
done
# PyTorch on the same GPU, right after ftrun's rows: the bar for issue 5's targets
if [ "$dev" = cuda ] && ! skipped torch && before_s 45; then
	FT_BATCHES="resnet50:${batch[resnet50]},vit_b_16:${batch[vit_b_16]},efficientnet_b0:${batch[efficientnet_b0]}" \
		timeout $(((budget - (SECONDS - t0) - 10) < 150 ? budget - (SECONDS - t0) - 10 : 150)) $py - "$out/torch_bench.csv" "$models_list" "$steps" <<'PY' 2>&1 | tee -a "$out/summary.txt"
import os, sys, time, torch
sys.path.insert(0, "scripts")
from torch_step import make_step
rows = ["model,mode,batch,images_per_s,peak_mib"]
torch.backends.cudnn.benchmark = True
batches = dict(kv.split(":") for kv in os.environ["FT_BATCHES"].split(","))
for name in sys.argv[2].split(","):
    batch = int(batches[name])
    for mode in ("fp32", "tf32", "amp_bf16"):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = mode != "fp32"
        step, m, opt = make_step(name, batch, mode == "amp_bf16")
        torch.cuda.reset_peak_memory_stats()
        for _ in range(3):
            step()
        torch.cuda.synchronize()
        t0, n = time.time(), int(sys.argv[3])
        for _ in range(n):
            step()
        torch.cuda.synchronize()
        ips = n * batch / (time.time() - t0)
        peak = torch.cuda.max_memory_allocated() / 2**20
        rows.append(f"{name},{mode},{batch},{ips:.0f},{peak:.0f}")
        print(f"torch {name:16s} {mode:9s} batch {batch:4d}: {ips:8.0f} images/s, peak {peak:7.0f} MiB", flush=True)
        del step, m, opt
        torch.cuda.empty_cache()
        open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
fi
# where PyTorch's resnet50 AMP step spends its GPU time, kernel by kernel (torch.profiler): the
# bar for ftrun's convolutions (its cuDNN legacy-API convolutions alone took longer than
# PyTorch's whole step on 2026-11-28, docs/cuda.md)
if [ "$dev" = cuda ] && ! skipped torchprof && before_s 60; then
	timeout 60 $py - "${batch[resnet50]}" <<'PY' >"$w/torch_profile.txt" 2>&1
import sys, torch
from torch.profiler import profile, ProfilerActivity
sys.path.insert(0, "scripts")
from torch_step import make_step
torch.backends.cudnn.benchmark = True
b = int(sys.argv[1])
step, _, _ = make_step("resnet50", b, True)
for _ in range(5):
    step()
torch.cuda.synchronize()
with profile(activities=[ProfilerActivity.CUDA]) as prof:
    for _ in range(3):
        step()
    torch.cuda.synchronize()
def dt(e):  # (self_cuda_time_total before torch 2.4)
    return getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0)
ev = [e for e in prof.key_averages() if dt(e) > 0]
total = sum(dt(e) for e in ev) / 3e3
conv = sum(dt(e) for e in ev if any(k in e.key.lower() for k in ("conv", "xmma", "dgrad", "wgrad", "fprop", "implicit", "cudnn", "sm90"))) / 3e3
print(f"PyTorch resnet50 AMP bf16 channels-last batch {b}: {total:.1f} ms of kernels a step, convolution-like kernels {conv:.1f} ms")
for e in sorted(ev, key=lambda e: -dt(e))[:15]:
    print(f"  {dt(e) / 3e3:7.2f} ms {e.count // 3:5d}x  {e.key[:110]}")
PY
	log "PyTorch's resnet50 AMP step by kernel (exit $?):$(printf '\n%s' "$(cat "$w/torch_profile.txt" | tail -17)")"
fi
# what a channels-last layout pass would buy: cuDNN's best times in NCHW against NHWC
if [ "$dev" = cuda ] && [ -x device-bundle/bench_conv_layout ] && ! skipped layout && before_s 60; then
	timeout 60 device-bundle/bench_conv_layout 128 >"$w/conv_layout.txt" 2>&1
	log "convolution layouts (exit $?):$(printf '\n%s' "$(cat "$w/conv_layout.txt")")"
fi
# the evaluation on the GPU (cli_train.c's evaluate: the trainer's device memory read in place):
# a short training run evaluates on cuda, and `ftrun eval --device cuda` of the exported model
# must give the same top-1 (the same kernels on the same values); --sync-bn is refused on cuda
if [ "$dev" = cuda ] && ! skipped eval && before_s 60; then
	m=resnet50
	timeout 60 "$ftrun" train "$models/$m.onnx" --data synthetic --device cuda -b 32 --steps 2 \
		--output-dir "$w/evaltrain" -o "$w/evaltrain.onnx" >"$w/evaltrain.log" 2>&1
	rc=$?
	timeout 40 "$ftrun" eval "$w/evaltrain.onnx" --data synthetic -b 32 --device cuda >"$w/evaltrain.eval" \
		2>"$w/evaltrain.eval.log"
	log "$m: GPU evaluation (train exit $rc, eval exit $?): training run $(grep -h '^top1\|evaluated on' \
		"$w/evaltrain.log" | tr '\n' ' '); ftrun eval $(cat "$w/evaltrain.eval" "$w/evaltrain.eval.log" | tr '\n' ' ')"
	timeout 30 "$ftrun" train "$models/$m.onnx" --data synthetic --device cuda -b 8 --steps 1 --sync-bn \
		--output-dir "$w/syncbn" >"$w/syncbn.log" 2>&1
	log "--sync-bn on cuda (expect exit 2): exit $?: $(grep -m1 'ftrun:' "$w/syncbn.log" | cut -c1-200)"
fi
# issue 6's goal on a GPU: resnet50 with AMP on a JPEG ImageFolder (decoded and augmented by the
# loader's workers, defaults), data wait under 5% of the step; 3000 photos of 256 x 256 made here
if [ "$dev" = cuda ] && [ -f "$models/resnet50.onnx" ] && ! skipped imagefolder && before_s 100; then
	timeout 60 $py tests/make_imagefolder.py bench "$w/jpeg" 3000 256 >"$w/jpeg.log" 2>&1
	timeout 80 "$ftrun" train "$models/resnet50.onnx" --data "$w/jpeg" --device cuda --amp bf16 -b 128 --steps 20 \
		--no-eval --output-dir "$w/jpegtrain" >"$w/jpegtrain.log" 2>&1
	rc=$?
	log "resnet50 AMP bf16 on a JPEG ImageFolder, default loader (exit $rc): $($py - "$w/jpegtrain/metrics.csv" <<'PY' 2>&1
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))  # "seconds": since the start; data_pct: of the step
dt = [float(b["seconds"]) - float(a["seconds"]) for a, b in zip(rows[1:], rows[2:])]  # steps 3 on
if dt and sum(dt) > 0:
    ips = sum(float(r["images_per_s"]) * d for r, d in zip(rows[2:], dt)) / sum(dt)
    wait = sum(float(r["data_pct"]) * d for r, d in zip(rows[2:], dt)) / sum(dt)
    print(f"steps 3-{len(rows)}: {ips:.0f} images/s, data wait {wait:.1f}% of the time (goal under 5%)")
PY
) $(grep -m1 -E 'workers|loader' "$w/jpegtrain.log" | cut -c1-160)"
fi
# paths that must not change the numbers, each against a plain run after 3 steps, next to two
# plain runs' own distance: NCCL over a communicator of one (FT_NCCL_WORLD1=1: the bucket
# packing, NCCL's stream, the unpacking; runtime/nccl_grads.c), recorded ranges
# (FT_CUDA_GRAPHS=1, exec.c), every activation kept (FT_REMAT=0: none recomputed in the
# backward, runtime/remat.c; on the CPU the two give the same bits) and the products through
# cuBLAS instead of cuBLASLt with its bias epilogue (FT_CUBLASLT=0, runtime/cuda_gemm.c) and the
# patch embedding's convolution channels last (FT_CHANNELS_LAST=1, runtime/layout.c). On vit_b_16 (no BatchNorm, float32 noise stays at 1e-6) at lr 1e-3:
# resnet50 with random weights and batch-16 BatchNorm turns the GPU's reduction-order noise into
# 8e-2 in 3 steps (2026-11-28), as far apart as anything could be.
if [ "$dev" = cuda ] && [ -f "$models/vit_b_16.onnx" ] && ! skipped same && before_s 100; then
	m=vit_b_16
	for v in plain plain2 FT_NCCL_WORLD1 FT_CUDA_GRAPHS FT_REMAT FT_CUBLASLT FT_CHANNELS_LAST; do
		val=1
		[ $v = FT_REMAT ] || [ $v = FT_CUBLASLT ] && val=0
		env ${v/plain*/FT_NONE}=$val timeout 50 "$ftrun" train "$models/$m.onnx" --data synthetic --device cuda -b 8 \
			--steps 3 --lr 1e-3 --no-eval --sched none --output-dir "$w/same.$v" -o "$w/same.$v.onnx" >"$w/same.$v.log" 2>&1 ||
			log "$v run failed: $(grep -m2 'ftrun:' "$w/same.$v.log")"
	done
	for v in plain2 FT_NCCL_WORLD1 FT_CUDA_GRAPHS FT_REMAT FT_CUBLASLT FT_CHANNELS_LAST; do
		log "$m, $v against plain: $($py tests/compare_params.py "$w/same.$v.onnx" "$w/same.plain.onnx" 1 --rel 2>&1 | tail -1)"
	done
fi
# opt-in settings against the defaults, on the convolution networks: whether they become the
# default. FT_CUDA_GRAPHS=1: recorded ranges (exec.c); FT_CUDNN_FIND=1: cuDNN's timed choice of
# algorithms against its heuristics' first; FT_CUDA_DEPTHWISE=1: depthwise.cu, not cuDNN
# (efficientnet_b0's depthwise convolutions; resnet50 has none); and the one opt-out,
# FT_REMAT=0: every activation the backward reads kept instead of the cheap ones recomputed
# (runtime/remat.c), on all three: what the recomputing costs in images/s and saves in memory;
# FT_CHANNELS_LAST=1 (the convolutions channels last, runtime/layout.c) on resnet50 (the pass
# leaves efficientnet_b0, with its depthwise convolutions, as it is);
# FT_FUSE_BN_RELU=0 (BatchNorm and ReLU as two ops, runtime/train.c) on resnet50;
# FT_CONV_GEMM=0 (cuDNN for the 1 x 1 convolutions that run as matrix products, cuda_conv.c)
# on the two convolution networks; FT_CUBLASLT=0 (cuBLAS, the bias a pass of its own) on
# vit_b_16, whose Linear layers it serves
for v in FT_CHANNELS_LAST=1 FT_CONV_GEMM=0 FT_FUSE_BN_RELU=0 FT_REMAT=0 FT_CUBLASLT=0 FT_CUDA_GRAPHS=1 \
	FT_CUDNN_FIND=1 FT_CUDA_DEPTHWISE=1; do
	ms=$find_models
	[ $v = FT_REMAT=0 ] && ms=resnet50,efficientnet_b0,vit_b_16
	[ $v = FT_CHANNELS_LAST=1 ] && ms=resnet50
	[ $v = FT_FUSE_BN_RELU=0 ] && ms=resnet50
	[ $v = FT_CONV_GEMM=0 ] && ms=resnet50,efficientnet_b0
	[ $v = FT_CUBLASLT=0 ] && ms=vit_b_16
	for m in ${ms//,/ }; do
		[ "$dev" = cuda ] && [ -f "$models/$m.onnx" ] && ! skipped optin || continue
		# (FT_REMAT=0 runs before the parity checks: it leaves them and the GPU recompute check 200 s)
		before_s $([ $v = FT_REMAT=0 ] && echo 290 || echo 90) || { log "$m with $v: skipped, out of time"; continue; }
		[ $v = FT_CUDA_DEPTHWISE=1 ] && [ $m != efficientnet_b0 ] && continue # (the others have no depthwise ones)
		env $v timeout 90 "$ftrun" bench "$models/$m.onnx" --device $dev -b ${FT_CHECK_BATCH:-${batch[$m]}} \
			--steps $steps --configs baseline,amp --output-dir "$w/$m.${v%=*}" >"$w/$m.${v%=*}.log" 2>&1
		log "$m: with $v (exit $?):$(printf '\n%s' "$(grep -E '^ *(config|baseline|amp)' "$w/$m.${v%=*}.log")")"
	done
done

# 5. per model on the GPU: logits against PyTorch's (eval mode), gradients in fp32, bf16 and
#    fp16, and PyTorch's gradients on the same GPU (fp32 with TF32 off, and its autocast)
for m in ${parity//,/ }; do
	before_s 100 || { log "$m: parity skipped, out of time"; continue; }
	set0=$models/$m.ref/test_data_set_0
	[ -f "$set0/input_0.pb" ] || { log "$m: no export (oracle.log)"; continue; }
	# PyTorch's gradients on this GPU first (fp32, TF32 off): its run writes the labels everyone uses
	timeout 90 $py tests/torch_grads.py $m "$models/$m.onnx" "$models/$m.ref" "$models/$m.torchgpu.fp32.onnx" \
		--device $tdev >>"$w/$m.torchgpu.log" 2>&1 || log "$m: PyTorch $tdev fp32 gradients failed"
	if timeout 90 "$ftrun" run "$models/$m.onnx" --input "$set0/input_0.pb" --output-dir "$w/$m.run" \
		--device $dev >"$w/$m.run.log" 2>&1; then
		log "$m: logits $dev vs PyTorch (eval): $($py - "$w/$m.run/output_0.pb" "$set0/output_0.pb" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
a, b = (numpy_helper.to_array(onnx.load_tensor(p)) for p in sys.argv[1:3])
print(f"relative L2 {np.linalg.norm(a - b) / np.linalg.norm(b):.3g}, argmax equal {bool((a.argmax(1) == b.argmax(1)).all())}")
PY
)"
	else
		log "$m: ftrun run --device $dev failed: $(tail -3 "$w/$m.run.log" | cut -c1-600)"
	fi
	for amp in fp32 bf16 fp16; do
		a=()
		[ $amp = fp32 ] || a=(--amp $amp)
		timeout 90 "$ftrun" grad "$models/$m.onnx" --input "$set0/input_0.pb" --labels "$set0/labels_0.pb" \
			-o "$models/$m.$dev.$amp.onnx" --device $dev "${a[@]}" >"$w/$m.grad.$amp.log" 2>&1 ||
			log "$m: grad --device $dev $amp failed: $(tail -3 "$w/$m.grad.$amp.log" | cut -c1-600)"
		if [ "$dev" = cuda ] && [ $amp != fp32 ]; then
			a=(--autocast $amp)
			timeout 90 $py tests/torch_grads.py $m "$models/$m.onnx" "$models/$m.ref" "$models/$m.torchgpu.$amp.onnx" \
				--device cuda "${a[@]}" >>"$w/$m.torchgpu.log" 2>&1 || log "$m: PyTorch GPU $amp gradients failed"
		fi
	done
done

# 6. the comparisons, once the CPU oracles are there (fp32: 1e-3 relative L2 per tensor, or twice
#    PyTorch's own CPU-vs-GPU distance where the model's float32 noise is larger; AMP: the whole
#    gradient within 5e-2, or 1.5x PyTorch's own autocast distance, docs/amp.md)
cmp() { # label, then compare_grads arguments
	local label=$1
	shift
	[ -f "$1" ] && [ -f "$2" ] || { log "$label: missing $(basename "$1") or $(basename "$2")"; return; }
	local r
	r=$($py tests/compare_grads.py "$@" 2>&1)
	log "$label (exit $?): $(echo "$r" | tail -2 | tr '\n' ' ' | cut -c1-400)"
	echo "$r" >>"$w/compare.txt"
}
for m in ${parity//,/ }; do
	while [ ! -f "$models/$m.oracle" ] && kill -0 $oracle 2>/dev/null && before_s 120; do sleep 2; done
	g=$models/$m
	if [ "$cpu_oracle" != 0 ]; then
		cmp "$m fp32 $dev vs ftrun cpu" "$g.$dev.fp32.onnx" "$g.cpu.onnx" 1e-3
		cmp "$m fp32 ftrun cpu vs PyTorch cpu" "$g.cpu.onnx" "$g.torch.onnx" 1e-4 --self "$g.torch2.onnx"
	fi
	if [ "$dev" = cuda ]; then
		cmp "$m fp32 cuda vs PyTorch gpu" "$g.cuda.fp32.onnx" "$g.torchgpu.fp32.onnx" 1e-3 --self "$g.torch.onnx"
		for amp in bf16 fp16; do
			cmp "$m $amp cuda vs PyTorch gpu fp32" "$g.cuda.$amp.onnx" "$g.torchgpu.fp32.onnx" 5e-2 --whole \
				--self "$g.torchgpu.$amp.onnx" --factor 1.5
		done
	else
		cmp "$m bf16 $dev vs PyTorch cpu fp32" "$g.$dev.bf16.onnx" "$g.torch.onnx" 5e-2 --whole
	fi
done

# recomputed activations on the GPU (runtime/remat.c): resnet50's ReLU outputs remade through
# ft_cu_batch_norm_apply must be the forward's bits, so gradients with every candidate
# recomputed (FT_REMAT=all) and with none (FT_REMAT=0) differ only as two identical runs do
# (cuDNN's backward algorithms may add in any order): same bytes, or the distance next to a rerun's
m=resnet50
if [ "$dev" = cuda ] && [ -f "$models/$m.ref/test_data_set_0/input_0.pb" ] && before_s 60; then
	s=$models/$m.ref/test_data_set_0
	[ -f "$s/labels_0.pb" ] || $py - "$s" <<'PY' # (tests/torch_grads.py writes them when resnet50's parity runs)
import sys, numpy as np, onnx
from onnx import numpy_helper
n = onnx.load_tensor(sys.argv[1] + "/input_0.pb").dims[0]
onnx.save_tensor(numpy_helper.from_array((np.arange(n) * 7 % 1000).astype(np.int64)), sys.argv[1] + "/labels_0.pb")
PY
	for v in all all2 0; do
		FT_REMAT=${v%2} timeout 40 "$ftrun" grad "$models/$m.onnx" --input "$s/input_0.pb" --labels "$s/labels_0.pb" \
			--amp bf16 --device cuda -o "$w/remat.$v.onnx" >"$w/remat.$v.log" 2>&1 || log "$m FT_REMAT=${v%2} grad failed"
	done
	for v in all2 0; do
		same=different
		command cmp -s "$w/remat.all.onnx" "$w/remat.$v.onnx" && same=identical
		what="FT_REMAT=0"
		[ $v = all2 ] && what="a rerun of itself"
		log "$m bf16 cuda gradients, FT_REMAT=all against $what: $same bytes; $($py tests/compare_grads.py \
			"$w/remat.$v.onnx" "$w/remat.all.onnx" 1e-2 --whole 2>&1 | tail -1 | cut -c1-200)"
	done
else
	log "$m: the GPU recompute check skipped (no GPU, no $m.ref input or out of time)"
fi

# 7. where a step's time goes: a few AMP training steps with every node waited for (FT_PROFILE=1)
for m in ${profile//,/ }; do
	[ "$dev" = cuda ] && [ -f "$models/$m.onnx" ] && before_s 40 || continue
	FT_PROFILE=1 timeout 60 "$ftrun" train "$models/$m.onnx" --data synthetic -b ${FT_CHECK_BATCH:-${batch[$m]}} \
		--steps 6 --amp bf16 --no-eval --device $dev --output-dir "$w/$m.prof" >"$w/$m.prof.log" 2>&1
	log "$m: per-op time of 6 AMP steps (exit $?):$(printf '\n%s' "$(grep -A14 'ftrun profile' "$w/$m.prof.log")")"
done

# 8. with what time is left: the kernel test under compute-sanitizer's memcheck (stray
#    device writes the sentinels cannot see: reads of unwritten memory, out-of-bounds loads)
if [ "$dev" = cuda ] && command -v compute-sanitizer >/dev/null && before_s 30; then
	timeout $((budget - (SECONDS - t0) - 5)) compute-sanitizer --tool memcheck --print-limit 20 \
		device-bundle/test_cuda_ops >"$w/memcheck.txt" 2>&1
	log "memcheck (exit $?; 124 = cut at the budget): $(grep -cE '^=========.*(Invalid|Error)' "$w/memcheck.txt") errors; $(grep -E '^[0-9]+ cases' "$w/memcheck.txt" | tail -1)"
	grep -E "Invalid|Error" "$w/memcheck.txt" | head -10 | tee -a "$out/summary.txt"
fi
kill $oracle 2>/dev/null
log "done; results in $out"
