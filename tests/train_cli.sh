#!/usr/bin/env bash
# End-to-end tests of `ftrun train` and `ftrun eval` (issue 3): outputs of a run,
# resume equal to an uninterrupted run, SIGINT/SIGTERM, kill -9 during checkpoint
# writes, corrupt and truncated checkpoints, bad input, the exported model against
# onnxruntime, and options a command does not take. One line per check (PASS/FAIL/SKIP);
# exits 1 on any failure, 77 (meson's skip) when every check ran passed but some were skipped.
#
# usage: train_cli.sh FTRUN MODELS_DIR WORK_DIR [PYTHON [EXPORT_PYTHON]]
#   PYTHON         makes the small data sets and models (PIL, numpy, onnx); /usr/bin/python3
#   EXPORT_PYTHON  a python with onnxruntime (the venv tests/run.sh makes); without it the
#                  onnxruntime check prints SKIP with the reason
set -uo pipefail
[ $# -ge 3 ] || { echo "usage: $0 FTRUN MODELS_DIR WORK_DIR [PYTHON [EXPORT_PYTHON]]" >&2; exit 2; }
ftrun=$1 models=$2 work=$3 py=${4:-/usr/bin/python3} xpy=${5:-}
here=$(cd "$(dirname "$0")" && pwd)
model=$models/resnet18_fmnist.onnx
fmnist_src=${FT_FMNIST:-/usr/share/datasets/fashion-mnist}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
T="--threads 2" # the same thread count everywhere: losses are compared bit for bit

rm -rf "$work"
mkdir -p "$work" || exit 1
cd "$work" || exit 1
[ -f "$model" ] || { echo "FAIL setup: no $model"; exit 1; }

. "$here/cli_checks.sh" # npass nfail nskip, pass fail skip, ft, expect_rc, expect_grep
# wait_for FILE ERE PID SECONDS: until FILE has a line matching ERE (0), PID ended (1) or time ran out (2)
wait_for() {
	local end=$((SECONDS + $4))
	while [ $SECONDS -lt "$end" ]; do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { grep -Eq -- "$2" "$1" 2>/dev/null && return 0; return 1; }
		sleep 0.05
	done
	return 2
}
# the losses of steps FROM..TO in metrics.csv, "step loss" per line
losses() { awk -F, -v a="$2" -v b="$3" 'NR > 1 && $1 >= a && $1 <= b { print $1, $3 }' "$1"; }

# --- data: a slice of Fashion-MNIST (32 train, 16 held-out), ImageFolders, a non-classifier
"$py" "$here/train_cli_data.py" fmnist "$fmnist_src" fm 32 16 &&
	"$py" "$here/train_cli_data.py" folder classes12 12 1 &&
	"$py" "$here/train_cli_data.py" folder badimg 10 2 zz_broken.png &&
	"$py" "$here/train_cli_data.py" convmodel conv_only.onnx &&
	"$py" "$here/train_cli_data.py" constmodel const.onnx &&
	"$py" "$here/train_cli_data.py" biasmodel bias.onnx &&
	"$py" "$here/train_cli_data.py" biasmodel bias_nan.onnx nan ||
	{ echo "FAIL setup: $py $here/train_cli_data.py could not make the test data"; exit 1; }

# --- 1. a short run on Fashion-MNIST: 10 steps of 4 (8 per epoch, so one epoch ends)
ft c1 train "$model" --data fm -b 4 --steps 10 --lr 0.01 --eval-each-epoch --print-every 5 \
	--output-dir c1 -o c1/trained.onnx $T
expect_rc "1 train fmnist" c1 0
expect_grep "1 train prints top1" c1.out '^top1 [0-9]+\.[0-9]+$'
if [ "$(head -1 c1/metrics.csv 2>/dev/null)" = "step,epoch,loss,lr,images_per_s,seconds,data_pct" ] &&
	[ "$(awk -F, 'NR > 1 { printf "%s ", $1 }' c1/metrics.csv)" = "1 2 3 4 5 6 7 8 9 10 " ]; then
	pass "1 metrics.csv: header and steps 1..10"
else
	fail "1 metrics.csv: header and steps 1..10" "$(head -c 300 c1/metrics.csv 2>&1)"
fi
if [ "$(head -1 c1/epochs.csv 2>/dev/null)" = "epoch,train_loss,test_top1,seconds,test_top5" ] &&
	awk -F, 'NR == 2 && $1 == 0 && $3 >= 0 && $3 <= 1 { ok = 1 } END { exit !(ok && NR == 2) }' c1/epochs.csv; then
	pass "1 epochs.csv: header and epoch 0 with its top1"
else
	fail "1 epochs.csv: header and epoch 0 with its top1" "$(head -c 300 c1/epochs.csv 2>&1)"
fi
if [ "$(head -c 8 c1/checkpoint.ftck 2>/dev/null)" = FTCKPT01 ] && [ "$(tail -c 8 c1/checkpoint.ftck)" = FTCKEND1 ]; then
	pass "1 checkpoint.ftck written"
else
	fail "1 checkpoint.ftck written" "missing or without its header/end marker"
fi
ft c1eval eval c1/trained.onnx --data fm -b 4 $T
expect_rc "1 eval trained.onnx" c1eval 0
expect_grep "1 eval prints top1" c1eval.out '^top1 [0-9]+\.[0-9]+$'
# the trained values in memory and the exported model evaluate the same
if [ -s c1.out ] && [ "$(cat c1eval.out)" = "$(cat c1.out)" ]; then
	pass "1 eval of trained.onnx equals the run's final top1 ($(cat c1.out))"
else
	fail "1 eval of trained.onnx equals the run's final top1" "train: $(cat c1.out), eval: $(cat c1eval.out)"
fi

# --- 2. resume equals an uninterrupted run (bit for bit: same threads, deterministic data)
resume_case() { # resume_case TAG ARGS...
	local tag=$1
	shift
	ft "$tag-A" train "$model" "$@" --steps 6 --sched none --checkpoint-every 3 --output-dir "$tag-A" $T
	expect_rc "2 $tag uninterrupted 6 steps" "$tag-A" 0
	ft "$tag-B1" train "$model" "$@" --steps 3 --sched none --output-dir "$tag-B" $T
	expect_rc "2 $tag first 3 steps" "$tag-B1" 0
	ft "$tag-B2" train "$model" "$@" --resume "$tag-B/checkpoint.ftck" --steps 6 --sched none --output-dir "$tag-B" $T
	expect_rc "2 $tag resume to step 6" "$tag-B2" 0
	expect_grep "2 $tag resume message" "$tag-B2.err" "resumed from $tag-B/checkpoint.ftck at step 3"
	local a b
	a=$(losses "$tag-A/metrics.csv" 4 6) b=$(losses "$tag-B/metrics.csv" 4 6)
	if [ -n "$a" ] && [ "$(echo "$a" | wc -l)" = 3 ] && [ "$a" = "$b" ]; then
		pass "2 $tag losses of steps 4..6 equal: $(echo $a)"
	else
		fail "2 $tag losses of steps 4..6 equal" "uninterrupted [$(echo $a)] resumed [$(echo $b)]"
	fi
	if [ "$(awk -F, 'NR > 1 { printf "%s ", $1 }' "$tag-B/metrics.csv")" = "1 2 3 4 5 6 " ] &&
		[ "$(grep -c '^step,' "$tag-B/metrics.csv")" = 1 ]; then
		pass "2 $tag resumed metrics.csv: one header, steps 1..6"
	else
		fail "2 $tag resumed metrics.csv: one header, steps 1..6" "$(tr '\n' ' ' <"$tag-B/metrics.csv")"
	fi
	# the epochs' rows (the mean train loss of an epoch the resume cut through), less the time
	a=$(cut -d, -f1-3 "$tag-A/epochs.csv") b=$(cut -d, -f1-3 "$tag-B/epochs.csv")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then
		pass "2 $tag epochs.csv equal: $(echo $a)"
	else
		fail "2 $tag epochs.csv equal" "uninterrupted [$(echo $a)] resumed [$(echo $b)]"
	fi
	if cmp -s "$tag-A/checkpoint.ftck" "$tag-B/checkpoint.ftck"; then
		pass "2 $tag final checkpoints identical"
	else
		fail "2 $tag final checkpoints identical" "$tag-A/checkpoint.ftck and $tag-B/checkpoint.ftck differ"
	fi
}
resume_case synthetic --data synthetic -b 4 --lr 0.01
# accumulation on Fashion-MNIST: 4 steps per epoch, so the resumed part crosses an epoch
resume_case fmnist-accum2 --data fm -b 4 --grad-accum-steps 2 --lr 0.01

# --- 3. SIGINT / SIGTERM: exit 128 + signal (130, 143), the checkpoint named, and it resumes
for sig in INT TERM; do
	want=130
	[ $sig = TERM ] && want=143
	d=sig$sig
	"$ftrun" train "$model" --data fm -b 4 --steps 100000 --lr 0.01 --print-every 1 --checkpoint-every 2 \
		--output-dir $d $T >$d.out 2>$d.err &
	pid=$!
	if wait_for $d.err 'step 1/' $pid 300; then
		kill -$sig $pid
		wait $pid
		rc=$?
		expect_rc "3 SIG$sig stops the run" $d $want
		expect_grep "3 SIG$sig message names the checkpoint" $d.err "stopped by signal .* checkpoint in $d/checkpoint.ftck"
		step=$(sed -n 's/.*stopped by signal [0-9]* at step \([0-9]*\);.*/\1/p' $d.err)
		ft $d-resume train "$model" --data fm -b 4 --steps $((${step:-0} + 1)) --lr 0.01 --resume $d/checkpoint.ftck \
			--output-dir $d $T
		expect_rc "3 SIG$sig checkpoint resumes" $d-resume 0
		expect_grep "3 SIG$sig resumes at the step it stopped" $d-resume.err "resumed from $d/checkpoint.ftck at step ${step:-x} "
	else
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
		fail "3 SIG$sig: the run never printed its first step" "" $d.err
	fi
done

# --- 4. kill -9 while checkpoints are written: the last complete checkpoint stays loadable
# Each round starts the run (resuming from checkpoint.ftck after round 1), lets it take
# 1..3 steps past where it began (2..4 in round 1; a checkpoint every step), then kills
# it: in odd rounds while its next checkpoint is being written (its temp file exists)
# plus 0..40 ms, in even rounds after a random 0..0.9 s. Stale temp files stay behind
# and must not matter.
d=kill9
ck=$d/checkpoint.ftck
step=0 # the step checkpoint.ftck holds: the first meta value, "step", at byte 20 (checkpoint.h)
ck_step() { od -An -t d8 -j 20 -N 8 $ck 2>/dev/null | tr -d ' '; }
for round in 1 2 3 4 5 6; do
	args=(train "$model" --data fm -b 4 --steps 100000 --lr 0.01 --checkpoint-every 1 --print-every 1
	      --output-dir $d $T)
	[ $round -gt 1 ] && args+=(--resume $ck)
	"$ftrun" "${args[@]}" >$d-$round.out 2>$d-$round.err &
	pid=$!
	what="round $round"
	[ $round -gt 1 ] && what="$what (resumed at step $step)"
	# round 1 goes past step 1, so a complete checkpoint exists before the first kill
	target=$((step + 1 + RANDOM % 3 + (round == 1)))
	if ! wait_for $d-$round.err "step $target/" $pid 300; then
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
		fail "4 kill -9 $what: the run reaches step $target" "" $d-$round.err
		break
	fi
	if [ $((round % 2)) = 1 ]; then
		end=$((SECONDS + 120))
		while [ $SECONDS -lt $end ] && kill -0 $pid 2>/dev/null && [ ! -e $ck.tmp.$pid ]; do
			sleep 0.005
		done
		sleep "0.0$((RANDOM % 5))"
		what="$what, during a checkpoint write"
	else
		sleep "0.$((RANDOM % 10))"
		what="$what, at a random moment"
	fi
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	rc=$?
	prev=$step
	step=$(ck_step)
	if [ $round -gt 1 ] && ! grep -q "resumed from $ck at step $prev " $d-$round.err; then
		fail "4 kill -9 $what" "no 'resumed from $ck at step $prev'" $d-$round.err
	elif [ $rc = 137 ] && [ -n "$step" ] && [ "$step" -ge $((target - 1)) ]; then
		pass "4 kill -9 $what: checkpoint.ftck at step $step"
	else
		fail "4 kill -9 $what" "exit $rc (want 137), checkpoint step '$step' (want >= $((target - 1)))" $d-$round.err
		step=${step:-$prev}
	fi
done
step=$(ck_step)
ft $d-final train "$model" --data fm -b 4 --steps $((${step:-0} + 2)) --lr 0.01 --checkpoint-every 1 --resume $ck \
	--output-dir $d $T
expect_rc "4 after the kills ($(ls $d | grep -c '\.tmp\.') stale temp files) the run resumes and finishes" $d-final 0
expect_grep "4 the last checkpoint resumes at its step" $d-final.err "resumed from $ck at step ${step:-x} "
# the rows past a checkpoint that a killed run left are dropped on resume: one row per step
want=$(seq 1 $((${step:-0} + 2)) | tr '\n' ' ')
if [ "$(grep -c '^step,' $d/metrics.csv)" = 1 ] && [ "$(awk -F, 'NR > 1 { printf "%s ", $1 }' $d/metrics.csv)" = "$want" ]; then
	pass "4 metrics.csv after the kills: one header, steps 1..$((${step:-0} + 2)) once each"
else
	fail "4 metrics.csv after the kills: one header, steps 1..$((${step:-0} + 2)) once each" \
		"$(awk -F, '{ printf "%s ", $1 }' $d/metrics.csv)"
fi
want=$(seq 0 $(((${step:-0} + 2) / 8 - 1)) | tr '\n' ' ') # 8 steps per epoch
if [ "$(awk -F, 'NR > 1 { printf "%s ", $1 }' $d/epochs.csv)" = "$want" ]; then
	pass "4 epochs.csv after the kills: epochs ${want}once each"
else
	fail "4 epochs.csv after the kills: epochs ${want}once each" "$(awk -F, '{ printf "%s ", $1 }' $d/epochs.csv)"
fi

# --- 5. corrupt and truncated checkpoints: exit 2, named, the file untouched
cp c1/checkpoint.ftck corrupt.ftck
size=$(stat -c %s corrupt.ftck)
"$py" -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(int(sys.argv[2]) // 2); b = f.read(1); f.seek(-1, 1); f.write(bytes([b[0] ^ 0x10]))' \
	corrupt.ftck "$size"
head -c $((size / 2)) c1/checkpoint.ftck >truncated.ftck
for kind in corrupt truncated; do
	sum=$(sha256sum <$kind.ftck)
	ft c5-$kind train "$model" --data fm -b 4 --steps 12 --resume $kind.ftck --output-dir c5 $T
	expect_rc "5 $kind checkpoint refused" c5-$kind 2
	expect_grep "5 $kind checkpoint: message names the file and says $kind" c5-$kind.err "$kind\.ftck.*$kind"
	if [ "$(sha256sum <$kind.ftck)" = "$sum" ]; then
		pass "5 $kind checkpoint untouched"
	else
		fail "5 $kind checkpoint untouched" "its sha256 changed"
	fi
done

# --- 6. bad input
ft c6-classes train "$model" --data classes12 -b 4 --steps 1 --output-dir c6 $T
expect_rc "6 12 classes for a 10-class model" c6-classes 2
expect_grep "6 12 classes: message has both counts" c6-classes.err 'classes12 has 12 classes, the model.s output has 10'
ft c6-conv train conv_only.onnx --data synthetic -b 4 --steps 1 --output-dir c6 $T
expect_rc "6 model whose first output is 4-D" c6-conv 2
expect_grep "6 4-D output: message says (N, classes)" c6-conv.err 'conv_only\.onnx.*\(N, classes\)'
# 21 train images, batch 4: the 5 steps of the epoch read every image but one
ft c6-badimg train "$model" --data badimg -b 4 --steps 5 --output-dir c6 $T
expect_rc "6 unreadable image is fatal" c6-badimg 2
expect_grep "6 unreadable image: message names the file" c6-badimg.err 'badimg/train/class00/zz_broken\.png'
ft c6-skip train "$model" --data badimg -b 4 --steps 5 --skip-bad-images --output-dir c6 $T
expect_rc "6 --skip-bad-images" c6-skip 0
expect_grep "6 --skip-bad-images: warning names the file" c6-skip.err 'warning: skipping badimg/train/class00/zz_broken\.png'
ft c6-nan train "$model" --data synthetic -b 4 --steps 20 --lr 1e6 --sched none --output-dir c6 $T
expect_rc "6 NaN loss (--lr 1e6)" c6-nan 1
expect_grep "6 NaN loss: message names the node" c6-nan.err 'first non-finite value comes from node "[^"]+"'
for flags in "--opt foo" "--lr x" "--grad-accum-steps 0" "--bucket-cap-mb -1" "--bucket-cap-mb x" "--device auto:x"; do
	ft c6-flag train "$model" --data synthetic $flags
	expect_rc "6 bad flag $flags" c6-flag 2
done

# --- 7. the exported model against onnxruntime (same input, 1e-5 relative L2)
if [ -z "$xpy" ]; then
	skip "7 export vs onnxruntime" "no python with onnxruntime given (tests/run.sh makes a venv with it)"
elif [ ! -x "$xpy" ]; then
	skip "7 export vs onnxruntime" "$xpy does not exist (tests/run.sh could not make the venv: no network?)"
elif ! "$xpy" -c 'import onnxruntime' 2>c7-import.err; then
	skip "7 export vs onnxruntime" "$xpy cannot import onnxruntime: $(tail -1 c7-import.err)"
elif [ ! -f c1/trained.onnx ]; then
	fail "7 export vs onnxruntime" "no c1/trained.onnx (case 1 failed)"
else
	"$xpy" "$here/check_export.py" "$ftrun" c1/trained.onnx "$model" c7 >c7.out 2>&1
	rc=$?
	sed 's/^/    /' c7.out
	if [ $rc = 0 ]; then pass "7 export vs onnxruntime"; else fail "7 export vs onnxruntime" "check_export.py exit $rc"; fi
fi

# --- 8. options: one a command would ignore is refused, not dropped (eval --resume evaluating
# the model file instead of the checkpoint would be a wrong answer given quietly)
opt_case() { # CHECK WANT_RC ERE ARGS...: exit WANT_RC, stderr matching ERE
	local check=$1 want=$2 ere=$3
	shift 3
	ft c8 "$@"
	expect_rc "8 $check" c8 "$want"
	[ -z "$ere" ] || expect_grep "8 $check: the message" c8.err "$ere"
}
opt_case "inspect --train --opt bogus" 2 'use sgd or adamw' inspect "$model" --train --opt bogus
opt_case "inspect --opt without --train" 2 'inspect takes it with --train' inspect "$model" --opt adamw
opt_case "inspect --train with train's options" 0 '' inspect "$model" --train --opt adamw --data synthetic \
	--lr 0.1 --sched none --epochs 2 -j 2 --no-eval
opt_case "run --opt" 2 'is not an option of .ftrun run' run "$model" --input x.pb --output-dir c8 --opt sgd
opt_case "eval --resume" 2 'resume is not an option of .ftrun eval' eval "$model" --data synthetic --resume c1/checkpoint.ftck
opt_case "eval --amp" 2 'amp is not an option of .ftrun eval' eval "$model" --data synthetic --amp fp16
opt_case "grad -b" 2 'is not an option of .ftrun grad' grad "$model" -b 2
opt_case "--epochs with --steps" 2 '--epochs and --steps both given' train "$model" --data synthetic --epochs 1 --steps 1
opt_case "--output (timm's folder, ftrun's -o file)" 2 '-o FILE.onnx names the trained model' \
	train "$model" --data synthetic --steps 1 --output c8out
mkdir -p c8dir
opt_case "-o naming a folder, refused before training" 2 'c8dir is a folder' train "$model" --data synthetic \
	--steps 1 --output-dir c8 -o c8dir $T
if grep -q 'step 1/' c8.err; then fail "8 -o naming a folder: refused before the first step" "" c8.err; else
	pass "8 -o naming a folder: refused before the first step"; fi
opt_case "-o in a folder that does not exist" 2 'its folder no/such does not exist' train "$model" \
	--data synthetic --steps 1 --output-dir c8 -o no/such/m.onnx $T
opt_case "train --help" 0 '' train --help
expect_grep "8 --help says what this build has" c8.out '^This build: the CPU backend'
opt_case "bench -b 6 with no ga row (6 is not a multiple of 4)" 0 '' bench "$model" -b 6 --configs baseline \
	--steps 1 --output-dir c8bench $T
# what trains: a module's tensor of 4 values ("pos", an embedding feeding Add) with W and b, and
# the exporter's own values ("onnx::Mul_1", "/Mul_output_0": a folded slice of a parameter or a
# folded constant, which ONNX does not tell apart) with a warning that names them and --freeze
opt_case "parameters of a model with exporter-made values" 0 '' inspect const.onnx
expect_grep "8 const.onnx: 5 parameters, 62 values" c8.out 'params +62 in 5 tensors'
expect_grep "8 const.onnx: inspect's warning names the exporter's values" c8.out \
	"^warning 2 float initializers the exporter made \(e.g. \"onnx::Mul_1\"\).*--freeze 'onnx::\*'"
opt_case "train const.onnx with --freeze 'onnx::*,/*'" 0 \
	'--freeze onnx::\*,/\*: 2 parameter tensors kept as they are, 3 trained' \
	train const.onnx --data synthetic -b 4 --steps 1 --no-eval --freeze 'onnx::*,/*' --output-dir c8c $T
expect_grep "8 train prints the import's warning" c8.err '^ftrun: warning: 2 float initializers the exporter made'
opt_case "inspect --params" 0 '' inspect "$model" --params
expect_grep "8 inspect --params lists each parameter with its shape" c8.out '^param +fc\.weight \(10, 512\)$'
# --freeze (requires_grad=False): what a glob matches, less what a !glob matches, comes back
# bit for bit; every other parameter moved after 2 steps at lr 0.1
opt_case "--freeze 'layer*,!layer4.1.*'" 0 '^--freeze layer\*,!layer4\.1\.\*: [0-9]+ parameter tensors kept as they are' \
	train "$model" --data synthetic -b 4 --steps 2 --lr 0.1 --freeze 'layer*,!layer4.1.*' --no-eval \
	--output-dir c8f -o c8f.onnx $T
"$py" - "$model" c8f.onnx >c8f.log 2>&1 <<'EOF'
import fnmatch, sys
import numpy as np, onnx
from onnx import numpy_helper as nh
a, b = ({i.name: nh.to_array(i) for i in onnx.load(p).graph.initializer} for p in sys.argv[1:3])
wrong, n_kept, n_moved = [], 0, 0
for name, x in a.items():
    if x.dtype != np.float32 or x.size <= 1 or "running_" in name:
        continue  # constants and BatchNorm's running statistics (updated by the forward)
    frozen = fnmatch.fnmatchcase(name, "layer*") and not fnmatch.fnmatchcase(name, "layer4.1.*")
    same = np.array_equal(x, b[name])
    n_kept += same
    n_moved += not same
    if frozen != same:
        wrong.append(name)
print(f"{n_kept} kept, {n_moved} moved; against the globs: {wrong[:5]}")
sys.exit(1 if wrong or not n_kept or not n_moved else 0)
EOF
if [ $? = 0 ]; then pass "8 --freeze: the frozen parameters kept bit for bit, the others trained ($(cat c8f.log))"; else
	fail "8 --freeze: the frozen parameters kept bit for bit, the others trained" "" c8f.log; fi
opt_case "--freeze with a glob that matches nothing" 2 '"layers\*" matches none of the model.s 62 parameters' \
	train "$model" --data synthetic --steps 1 --freeze 'layer1.*,layers*' --output-dir c8 $T
opt_case "--freeze of every parameter" 2 'freezes all 62 parameters' \
	train "$model" --data synthetic --steps 1 --freeze '*' --output-dir c8 $T
# --sched step, by torchvision's names (StepLR): fm has 32 training images, 8 steps of 4 an epoch,
# and the lr halves after each epoch: 0.4 for steps 1-8, 0.2 for 9-10 (metrics.csv: each step's lr)
opt_case "--lr-scheduler steplr --lr-step-size 1 --lr-gamma 0.5" 0 '' train "$model" --data fm -b 4 --steps 10 \
	--lr 0.4 --lr-scheduler steplr --lr-step-size 1 --lr-gamma 0.5 --no-eval --print-every 1 --output-dir c8s $T
got=$(awk -F, 'NR > 1 { printf "%s%g", (NR > 2 ? " " : ""), $4 }' c8s/metrics.csv 2>/dev/null)
if [ "$got" = "0.4 0.4 0.4 0.4 0.4 0.4 0.4 0.4 0.2 0.2" ]; then pass "8 --sched step: the lr of each step ($got)"; else
	fail "8 --sched step: the lr of each step" "got \"$got\"" c8.err; fi
opt_case "--sched step with --lr-gamma 0" 2 'bad --lr-gamma' train "$model" --data fm --sched step --lr-gamma 0
# one epoch of warmup (8 steps: lr x 1/8 .. 8/8), then cosine from 0.4 to --min-lr 0.1 over the 2 steps left:
# 0.4 at step 9, 0.1 + 0.3 x (1 + cos(pi/2)) / 2 = 0.25 at step 10
opt_case "--lr-warmup-epochs 1 --lr-min 0.1" 0 '' train "$model" --data fm -b 4 --steps 10 --lr 0.4 \
	--lr-warmup-epochs 1 --lr-min 0.1 --no-eval --print-every 1 --output-dir c8w $T
got=$(awk -F, 'NR > 1 { printf "%s%g", (NR > 2 ? " " : ""), $4 }' c8w/metrics.csv 2>/dev/null)
if [ "$got" = "0.05 0.1 0.15 0.2 0.25 0.3 0.35 0.4 0.4 0.25" ]; then pass "8 warmup epochs and --min-lr: the lr of each step ($got)"; else
	fail "8 warmup epochs and --min-lr: the lr of each step" "got \"$got\"" c8.err; fi
opt_case "--min-lr with --sched step" 2 'min-lr is where --sched cosine ends' train "$model" --data fm --sched step --min-lr 0.1
opt_case "--warmup-epochs with --warmup-steps" 2 'one or the other' train "$model" --data fm --warmup-epochs 1 --warmup-steps 5
# top-1 and top-5 by hand: a model whose logits are its bias b = 0 11 1 10 2 9 3 8 4 7 5 6 for every
# image, on the 12 held-out images of classes12 (one a class): top-1 is right for class 1 alone
# (1/12), top-5 for classes 1 3 5 7 9 (5/12)
opt_case "eval of a model whose logits are its bias" 0 '' eval bias.onnx --data classes12 -b 5 $T
expect_grep "8 top1 = 1/12" c8.out '^top1 0\.0833$'
expect_grep "8 top5 = 5/12" c8.out '^top5 0\.4167$'
# a NaN logit at the label is no answer: with b[1] NaN, top-1 is class 3 (1/12), top-5 classes 3 5 7 9 11
# (5/12); counting the NaN as a hit would give 2/12 and 6/12
opt_case "eval of a model with a NaN logit" 0 '' eval bias_nan.onnx --data classes12 -b 5 $T
expect_grep "8 NaN logit: top1 = 1/12" c8.out '^top1 0\.0833$'
expect_grep "8 NaN logit: top5 = 5/12" c8.out '^top5 0\.4167$'
opt_case "eval of 12 classes with a 10-class model" 2 'classes12 has 12 classes, the model.s output has 10' \
	eval "$model" --data classes12 -b 4 $T

echo "train_cli: $npass passed, $nfail failed, $nskip skipped (${SECONDS}s)"
# the work folder stays only when something failed (the disk of a CI machine is finite)
[ $nfail != 0 ] || { cd / && rm -rf "$work"; }
[ $nfail = 0 ] || exit 1
[ $nskip = 0 ] || exit 77
exit 0
