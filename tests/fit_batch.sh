#!/usr/bin/env bash
# --global-batch G --max-memory SIZE (issue 6): ftrun's choice against a scan of every
# micro-batch, then a training run and the memory check of the chosen configuration.
# usage: fit_batch.sh FTRUN TEST_MEMPLAN MODEL.onnx
#
# 1. For every divisor b of G, `ftrun inspect --train -b b --grad-accum-steps G/b` gives the
#    planned peak; the expected choice is the largest b whose plan is <= SIZE (a linear scan,
#    against ftrun's bisection). SIZE is set between two of those plans, from the plans
#    themselves, so the test does not depend on today's figures.
# 2. `ftrun train --global-batch G --max-memory SIZE` picks that micro-batch and trains.
# 3. test_memplan on the chosen configuration: what the process allocates stays within the
#    plan (under AddressSanitizer; it skips without, and this script then says so).
# 4. Bad combinations exit 2 with a message.
set -uo pipefail
ftrun=$1 memplan=$2 model=$3
. "$(dirname "$0")/expect.sh"

G=256
plan_of() { # micro accum -> planned peak in bytes (from MiB with one decimal)
	"$ftrun" inspect "$model" --train -b "$1" --grad-accum-steps "$2" --threads 1 |
		sed -n 's/^train   one step .*planned peak \([0-9.]*\) MiB = .*/\1/p'
}
divs=() plans=()
for ((b = 1; b <= G; b++)); do
	((G % b)) && continue
	p=$(plan_of $b $((G / b)))
	[ -n "$p" ] || { bad "no plan for micro-batch $b"; exit 1; }
	divs+=($b) plans+=($p)
	echo "micro-batch $b x $((G / b)): planned $p MiB"
done
n=${#divs[@]}
# SIZE halfway between the plans of the third- and second-largest micro-batches (MiB): below
# the whole batch in one micro-batch too here, so the bisection decides
i=$((n - 3))
size=$(awk -v a="${plans[$i]}" -v b="${plans[$((i + 1))]}" 'BEGIN { printf "%.1f", (a + b) / 2 }')
want=0
for ((k = 0; k < n; k++)); do
	awk -v p="${plans[$k]}" -v s="$size" 'BEGIN { exit !(p <= s) }' && want=${divs[$k]}
done
echo "SIZE ${size}M: a scan of the plans expects micro-batch $want"

out=$("$ftrun" inspect "$model" --train --global-batch $G --max-memory "${size}M" --threads 1 2>&1)
echo "$out" | grep "^global batch"
echo "$out" | grep -q "^global batch $G within --max-memory .*: micro-batch $want x $((G / want)) accumulation" ||
	bad "inspect chose otherwise (expected micro-batch $want)"

"$ftrun" train "$model" --data synthetic --global-batch $G --max-memory "${size}M" \
	--steps 2 --threads 1 --output-dir "$work/run" >"$work/train.log" 2>&1
rc=$?
grep -E "^global batch|^training" "$work/train.log"
[ $rc = 0 ] || { bad "train exited $rc"; tail -5 "$work/train.log"; }
grep -q "batch $want x $((G / want)) accumulation" "$work/train.log" || bad "train did not run micro-batch $want"

"$memplan" "$model" $want $((G / want)) sgd 2 >"$work/memplan.log" 2>&1
rc=$?
tail -3 "$work/memplan.log"
case $rc in
0) ;;
77) echo "memory check skipped: test_memplan needs AddressSanitizer's allocator hooks (tests/run.sh builds with them)" ;;
*) bad "the chosen configuration allocates beyond its plan (test_memplan exit $rc)" ;;
esac

expect2 "-b with both" "$ftrun" train "$model" --data synthetic --global-batch $G --max-memory 1G -b 8
expect2 "nothing fits" "$ftrun" inspect "$model" --train --global-batch $G --max-memory 1M
expect2 "--max-memory alone, too small" "$ftrun" train "$model" --data synthetic -b 64 --max-memory 10M
expect2 "global batch not a multiple of -b" "$ftrun" train "$model" --data synthetic --global-batch 100 -b 64
expect2 "a size that is not one" "$ftrun" train "$model" --data synthetic --global-batch $G --max-memory 3X
expect2 "--global-batch with --grad-accum-steps" "$ftrun" train "$model" --data synthetic --global-batch $G \
	--grad-accum-steps 2
expect2 "--max-memory on inspect without --train" "$ftrun" inspect "$model" --max-memory 1G
exit $fail
