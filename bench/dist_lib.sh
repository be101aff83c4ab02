# Sourced by bench/dist_scaling.sh and bench/dist_overlap.sh: the settings and helpers they share.
set -euo pipefail
cd "$(dirname "$0")/.."
models=${FT_MODELS:-/work/models}
ftrun=$PWD/${FT_BUILD:-build-release}/ftrun
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# ips DIR GLOBAL_BATCH: images/s of steps 2..N from DIR/metrics.csv (step 1 warms up)
ips() {
	awk -F, -v b="$2" 'NR == 2 {t1 = $6} NR > 2 {tn = $6; n++} END {printf "%.2f", n * b / (tn - t1)}' \
		"$1/metrics.csv"
}
median() { tr ' ' '\n' | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
