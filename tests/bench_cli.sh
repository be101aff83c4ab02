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

expect2 "batch not a multiple of the accumulation" "$ftrun" bench "$model" -b 6 --grad-accum-steps 4
expect2 "unknown configuration" "$ftrun" bench "$model" --configs baseline,fast
expect2 "missing model" "$ftrun" bench "$work/nothing.onnx" --configs baseline
exit $fail
