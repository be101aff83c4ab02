#!/usr/bin/env bash
# `ftrun bench` (issue 6): every configuration runs and reports, the CSV and the PNG are
# written and readable, and the configurations differ only where they should.
# usage: bench_cli.sh FTRUN PYTHON MODEL.onnx
set -uo pipefail
ftrun=$1 py=$2 model=$3
. "$(dirname "$0")/expect.sh"

"$ftrun" bench "$model" -b 8 --steps 2 --grad-accum-steps 2 --threads 2 --output-dir "$work/b" >"$work/out" 2>&1 ||
	bad "bench exited $?"
cat "$work/out"
"$py" - "$work/b/bench.csv" "$work/b/bench.png" <<'PY' || fail=1
import csv, math, sys
from PIL import Image
rows = {r["config"]: r for r in csv.DictReader(open(sys.argv[1]))}
bad = []
want = ["baseline", "ga", "amp", "pm", "ga+amp+pm"]
if list(rows) != want:
    bad.append(f"rows {list(rows)}, expected {want}")
for name, r in rows.items():
    for k in ("images_per_s", "step_ms", "planned_mib", "peak_rss_mib", "copy_gb_per_s"):
        if not float(r[k]) > 0:
            bad.append(f"{name}: {k} = {r[k]}")
    if not 0 <= float(r["wait_share"]) < 1:
        bad.append(f"{name}: wait_share {r['wait_share']}")
    if not all(math.isfinite(float(r[k])) for k in ("loss_first", "loss_last")):
        bad.append(f"{name}: non-finite loss")
    ga = name in ("ga", "ga+amp+pm")
    if (int(r["micro_batch"]), int(r["accum"])) != ((4, 2) if ga else (8, 1)):
        bad.append(f"{name}: batch {r['micro_batch']}x{r['accum']}")
b, pm = rows["baseline"], rows["pm"]
# staging changes where the bytes wait, not what they are: the same losses to the bit
if (b["loss_first"], b["loss_last"]) != (pm["loss_first"], pm["loss_last"]):
    bad.append(f"pm losses {pm['loss_first']} {pm['loss_last']} differ from baseline's")
# bf16 rounding moves the first loss (the same weights and data) by far less than 5%
if abs(float(rows["amp"]["loss_first"]) - float(b["loss_first"])) > 0.05 * float(b["loss_first"]):
    bad.append(f"amp first loss {rows['amp']['loss_first']} vs baseline {b['loss_first']}")
# gradient accumulation adds the accumulated-gradient buffers and shrinks the activations:
# its plan must differ from the baseline's (the planner sees the configuration)
if rows["ga"]["planned_mib"] == b["planned_mib"]:
    bad.append("ga plans the same memory as the baseline")
im = Image.open(sys.argv[2])
im.load()
if im.format != "PNG" or im.size[0] < 200 or im.size[1] < 200:
    bad.append(f"bench.png: {im.format} {im.size}")
for m in bad:
    print("FAIL:", m)
print("csv and png: " + ("FAIL" if bad else "ok"))
sys.exit(1 if bad else 0)
PY

# the device memory ftrun holds (bench's "device MiB"): on --device devsim, whose memory comes only
# through the backend's alloc, the most held at once must be what inspect plans for the device:
# activations and gradients + parameters and state + kernel workspace (not the CPU kernels' own
# state or allowance, which live in host memory). Within 0.3 MiB: inspect prints each figure to
# 0.1 MiB (3 x 0.05) and devsim rounds each mapping up to a page (a few dozen allocations).
# On the CPU backend the columns are -1 (not a device). The same --threads everywhere: the
# kernels' workspace grows with the thread count.
"$ftrun" bench "$model" -b 8 --steps 1 --threads 2 --configs baseline,ga --device devsim --output-dir "$work/d" \
	>"$work/dout" 2>&1 || bad "bench on devsim exited $?"
"$ftrun" inspect "$model" --train -b 8 --threads 2 --device devsim >"$work/plan8" 2>&1 || bad "inspect -b 8 exited $?"
"$ftrun" inspect "$model" --train -b 2 --grad-accum-steps 4 --threads 2 --device devsim >"$work/plan2" 2>&1 ||
	bad "inspect -b 2 exited $?"
"$py" - "$work/d/bench.csv" "$work/plan8" "$work/plan2" "$work/b/bench.csv" <<'PY' || fail=1
import csv, re, sys
rows = {r["config"]: r for r in csv.DictReader(open(sys.argv[1]))}
bad = []
for name, plan in (("baseline", sys.argv[2]), ("ga", sys.argv[3])):
    text = open(plan).read()
    m = re.search(r"= ([\d.]+) MiB activations and gradients .*? \+ ([\d.]+) MiB parameters, state and "
                  r"optimizer buffers \+ ([\d.]+) MiB kernel workspace", text)
    if not m:
        bad.append(f"{name}: no plan line in inspect's output")
        continue
    want = sum(float(x) for x in m.groups())
    got = float(rows[name]["device_peak_mib"])
    print(f"{name}: device peak {got} MiB, planned for the device {want:.1f} MiB")
    if abs(got - want) > 0.3:
        bad.append(f"{name}: device peak {got} MiB, planned {want:.1f} MiB")
    if float(rows[name]["device_in_use_mib"]) < got - 0.3:
        bad.append(f"{name}: in use {rows[name]['device_in_use_mib']} below the peak held")
for r in csv.DictReader(open(sys.argv[4])):
    if float(r["device_peak_mib"]) != -1:
        bad.append(f"cpu {r['config']}: device_peak_mib {r['device_peak_mib']}, expected -1")
for m in bad:
    print("FAIL:", m)
print("device memory: " + ("FAIL" if bad else "ok"))
sys.exit(1 if bad else 0)
PY

expect2 "batch not a multiple of the accumulation" "$ftrun" bench "$model" -b 6 --grad-accum-steps 4
expect2 "unknown configuration" "$ftrun" bench "$model" --configs baseline,fast
expect2 "missing model" "$ftrun" bench "$work/nothing.onnx" --configs baseline
exit $fail
