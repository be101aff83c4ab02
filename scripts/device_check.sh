#!/usr/bin/env bash
# The one prepared run for a machine with a GPU (issue 5; the device tool's machines: H100/H200).
# Runs ftrun's CUDA backend (built here into device-bundle/), compares every CUDA op with the CPU kernels, tries the
# three models on the CUDA backend, measures PyTorch's training throughput on the same GPU
# (the figures ftrun's CUDA backend is to be held against), and writes one table.
#   here:   scripts/device_bundle.sh          (builds device-bundle/, about 7 MiB)
#   there:  scripts/device_check.sh [OUT_DIR]  (default $OUT, else device-out); about 5 minutes,
#           with the device tool: run(command="scripts/device_check.sh $OUT", carry=["device-bundle"])
# Nothing here downloads anything: models are exported from torchvision with random weights.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-device-out}}
mkdir -p "$out"
log() { echo "== $*" | tee -a "$out/summary.txt"; }
: >"$out/summary.txt"
log "date $(date -u +%Y-%m-%dT%H:%MZ), $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"
py=$(command -v python3)

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
log "bundle of commit $(cat device-bundle/COMMIT); $($ftrun --version)"

# 2. every CUDA op against the CPU kernels
timeout 120 device-bundle/test_cuda_ops >"$out/cuda_ops.txt" 2>&1
log "kernel test (exit $?): $(tail -1 "$out/cuda_ops.txt")"
grep FAIL "$out/cuda_ops.txt" | head -20 | tee -a "$out/summary.txt"

# 3. the models on the CUDA backend: logits and gradients against the CPU backend (issue 5:
#    1e-3 relative L2 in fp32) where the backend runs them all, else the nodes it lacks
models=$out/models
$py onnx_models/export.py --out "$models" --models resnet50,vit_b_16,efficientnet_b0 --ref \
	>"$out/export.log" 2>&1 || log "export failed: see export.log"
for m in resnet50 vit_b_16 efficientnet_b0; do
	ref=$models/$m.ref/test_data_set_0
	[ -f "$ref/input_0.pb" ] || continue
	$py -c "import numpy as np, onnx; from onnx import numpy_helper as h
onnx.save_tensor(h.from_array(np.array([3, 917], dtype=np.int64), 'labels'), '$ref/labels_0.pb')"
	if timeout 120 "$ftrun" run "$models/$m.onnx" --input "$ref/input_0.pb" --output-dir "$out/$m.cuda" \
		--device cuda >"$out/$m.cuda.log" 2>&1; then
		timeout 120 "$ftrun" run "$models/$m.onnx" --input "$ref/input_0.pb" --output-dir "$out/$m.cpu" \
			--device cpu >>"$out/$m.cuda.log" 2>&1
		log "$m: logits cuda vs cpu: $($py - "$out/$m.cuda/output_0.pb" "$out/$m.cpu/output_0.pb" <<'PY'
import sys, numpy as np, onnx
from onnx import numpy_helper
a, b = (numpy_helper.to_array(onnx.load_tensor(p)) for p in sys.argv[1:3])
print(f"relative L2 {np.linalg.norm(a - b) / np.linalg.norm(b):.3g}")
PY
)"
	else
		log "$m: inference not on cuda yet: $(grep -o 'does not run.*' "$out/$m.cuda.log" | cut -c1-400)"
	fi
	for d in cuda cpu; do
		timeout 150 "$ftrun" grad "$models/$m.onnx" --input "$ref/input_0.pb" --labels "$ref/labels_0.pb" \
			-o "$out/$m.grads.$d.onnx" --device $d >"$out/$m.grad.$d.log" 2>&1 ||
			{ log "$m: grad on $d failed: $(tail -1 "$out/$m.grad.$d.log" | cut -c1-400)"; continue 2; }
	done
	log "$m: gradients cuda vs cpu (1e-3 per tensor; resnet50 at batch 2 is chaotic, docs/training.md):"
	$py tests/compare_grads.py "$out/$m.grads.cuda.onnx" "$out/$m.grads.cpu.onnx" 1e-3 2>&1 | tail -4 |
		tee -a "$out/summary.txt"
	# training throughput on the GPU (fp32 SGD), ftrun's bench
	timeout 150 "$ftrun" bench "$models/$m.onnx" --device cuda -b 64 --steps 20 --configs baseline,amp,ga+amp+pm \
		--output-dir "$out/$m.bench" >"$out/$m.bench.log" 2>&1 &&
		log "$m: ftrun cuda training:$(printf '\n%s' "$(grep -E '^(config|baseline|amp|ga)' "$out/$m.bench.log")")" ||
		log "$m: ftrun bench on cuda failed: $(tail -2 "$out/$m.bench.log" | cut -c1-300)"
done

# 4. PyTorch on this GPU: training images/s and peak memory, fp32 (TF32 off), TF32, and AMP
#    (bf16 autocast, channels-last): the bar for ftrun's CUDA backend (1.2x images/s, 0.8x memory)
$py - "$out/torch_bench.csv" <<'PY' 2>&1 | tee -a "$out/summary.txt"
import sys, time, torch, torchvision
rows = ["model,mode,batch,images_per_s,peak_mib"]
torch.backends.cudnn.benchmark = True
for name, batch in (("resnet50", 128), ("vit_b_16", 64), ("efficientnet_b0", 128)):
    for mode in ("fp32", "tf32", "amp_bf16"):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = mode != "fp32"
        m = getattr(torchvision.models, name)(weights=None).cuda()
        if mode == "amp_bf16":
            m = m.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        x = torch.randn(batch, 3, 224, 224, device="cuda")
        if mode == "amp_bf16":
            x = x.to(memory_format=torch.channels_last)
        y = torch.randint(0, 1000, (batch,), device="cuda")
        torch.cuda.reset_peak_memory_stats()
        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=mode == "amp_bf16"):
                loss = torch.nn.functional.cross_entropy(m(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        for _ in range(5):
            step()
        torch.cuda.synchronize()
        t0, n = time.time(), 20
        for _ in range(n):
            step()
        torch.cuda.synchronize()
        ips = n * batch / (time.time() - t0)
        peak = torch.cuda.max_memory_allocated() / 2**20
        rows.append(f"{name},{mode},{batch},{ips:.0f},{peak:.0f}")
        print(f"torch {name:16s} {mode:9s} batch {batch:4d}: {ips:8.0f} images/s, peak {peak:7.0f} MiB", flush=True)
        del m, opt
        torch.cuda.empty_cache()
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
log "done; results in $out"
