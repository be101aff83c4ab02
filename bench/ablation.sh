#!/usr/bin/env bash
# The GA / AMP / PM ablation (issue 6) for the three models of the project card, one
# `ftrun bench` per model, and a markdown table of the results.
#   bench/ablation.sh OUT_DIR [BATCH] [STEPS] [DEVICE]     (default 16, 3, cpu)
# FT_BUILD picks the build (default build-release). Synthetic data; the first 2 steps of every
# configuration are not timed. Writes OUT_DIR/MODEL/bench.{csv,png} and OUT_DIR/table.md.
set -euo pipefail
out=$1 batch=${2:-16} steps=${3:-3} device=${4:-cpu}
here=$(cd "$(dirname "$0")/.." && pwd)
ftrun=$here/${FT_BUILD:-build-release}/ftrun
models=${FT_MODELS:-$here/build-asan/models}
mkdir -p "$out"
{
	echo "| model | config | micro x accum | images/s | step ms | planned MiB | peak RSS MiB | copy GB/s | data wait % |"
	echo "|---|---|---|---|---|---|---|---|---|"
} >"$out/table.md"
for m in resnet50 efficientnet_b0 vit_b_16; do
	"$ftrun" bench "$models/$m.onnx" -b "$batch" --steps "$steps" --device "$device" --output-dir "$out/$m" \
		>"$out/$m.log" 2>&1 || { echo "$m failed: $(tail -2 "$out/$m.log")"; continue; }
	tail -n +2 "$out/$m/bench.csv" | while IFS=, read -r cfg micro accum ips ms plan rss gbs wait _ _; do
		printf '| %s | %s | %sx%s | %.1f | %.0f | %.0f | %.0f | %.2f | %.1f |\n' "$m" "$cfg" "$micro" "$accum" \
			"$ips" "$ms" "$plan" "$rss" "$gbs" "$(awk -v w="$wait" 'BEGIN { print 100 * w }')"
	done >>"$out/table.md"
	echo "$m done"
done
cat "$out/table.md"
