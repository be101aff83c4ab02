#!/usr/bin/env bash
# The input pipeline from the command line (issue 6): training gives the same losses
# whatever the worker count, ring depth and staging kind; the data-wait share is in
# metrics.csv and on the progress line; bad ImageFolder trees and damaged packs exit 2
# with a message naming the file; `ftrun pack` output trains and evaluates.
# One line per check (PASS/FAIL); exits 1 on any failure.
#
# usage: loader_cli.sh FTRUN MODELS_DIR WORK_DIR PYTHON
#   PYTHON   makes the ImageFolder trees (tests/make_imagefolder.py, PIL)
set -uo pipefail
[ $# -ge 4 ] || { echo "usage: $0 FTRUN MODELS_DIR WORK_DIR PYTHON" >&2; exit 2; }
ftrun=$1 models=$2 work=$3 py=$4
here=$(cd "$(dirname "$0")" && pwd)
model=$models/resnet18_fmnist.onnx
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
T="--threads 2" # the same thread count everywhere: losses are compared bit for bit

rm -rf "$work"
mkdir -p "$work" && cd "$work" || exit 1
[ -f "$model" ] || { echo "FAIL setup: no $model"; exit 1; }
"$py" "$here/make_imagefolder.py" tree tree || { echo "FAIL setup: make_imagefolder.py"; exit 1; }

. "$here/cli_checks.sh"
losses() { awk -F, 'NR > 1 { print $1, $3 }' "$1/metrics.csv" 2>/dev/null; }
same_losses() { # CHECK DIR_A DIR_B
	local a b
	a=$(losses "$2") b=$(losses "$3")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "$1"; else fail "$1" "$(echo $a) | $(echo $b)"; fi
}

# --- 1. the same losses whatever the loader's workers, depth and staging (ImageFolder, RRC)
run="train $model --data tree/good -b 4 --steps 4 --lr 0.01 --seed 3 --print-every 1 $T"
ft j1 $run -j 1 --output-dir j1
expect_rc "1 train -j 1" j1 0
ft j2 $run -j 2 --prefetch 1 --output-dir j2
expect_rc "1 train -j 2 --prefetch 1" j2 0
ft j3 $run -j 3 --prefetch 5 --no-pin-mem --output-dir j3
expect_rc "1 train -j 3 --prefetch 5 --no-pin-mem" j3 0
same_losses "1 losses: -j 1 = -j 2 --prefetch 1" j1 j2
same_losses "1 losses: -j 1 = -j 3 --prefetch 5 --no-pin-mem" j1 j3
ft na $run -j 2 --augment none --output-dir na
if [ "$rc" = 0 ] && [ "$(losses na)" != "$(losses j1)" ]; then pass "1 --augment none trains on other pixels than rrc"
else fail "1 --augment none" "exit $rc, losses $(losses na | tr '\n' ' ')" na.err; fi

# --- 2. the data-wait share
if [ "$(head -1 j1/metrics.csv)" = "step,epoch,loss,lr,images_per_s,seconds,data_pct" ] &&
	awk -F, 'NR > 1 && !($7 >= 0 && $7 <= 100) { bad = 1 } END { exit bad }' j1/metrics.csv; then
	pass "2 metrics.csv: data_pct column in [0, 100]"
else
	fail "2 metrics.csv: data_pct column" "$(head -3 j1/metrics.csv | tr '\n' ' ')"
fi
expect_grep "2 progress line shows data %" j1.err 'img/s data [0-9]+% ETA'

# --- 3. unreadable images: fatal, or skipped the same way for any worker count
ft bad train "$model" --data tree/bad_files -b 1 --steps 5 -j 2 --output-dir bad $T
expect_rc "3 truncated JPEG is fatal" bad 2
expect_grep "3 message names the file" bad.err 'tree/bad_files/train/a_cat/002\.jpg: truncated JPEG'
ft s1 train "$model" --data tree/bad_files -b 1 --steps 5 -j 1 --skip-bad-images --seed 5 --output-dir s1 $T
ft s2 train "$model" --data tree/bad_files -b 1 --steps 5 -j 2 --skip-bad-images --seed 5 --output-dir s2 $T
expect_grep "3 --skip-bad-images warns" s1.err 'warning: skipping .*train/a_cat/002\.jpg'
same_losses "3 --skip-bad-images: -j 1 = -j 2" s1 s2

ft ev eval "$model" --data tree/bad_files -b 2 -j 2 $T
expect_rc "3 eval: truncated JPEG header is fatal" ev 2
expect_grep "3 eval: message names the file" ev.err 'tree/bad_files/val/a_cat/001\.jpg: truncated JPEG'
ft evs eval "$model" --data tree/bad_files -b 2 -j 2 --skip-bad-images $T
expect_rc "3 eval --skip-bad-images" evs 0
expect_grep "3 eval --skip-bad-images: a text file is not an image" evs.err 'skipping .*tree/bad_files/val/b_dog/000\.png: not an image'

# --- 4. broken trees: exit 2 with the folder named
ft empty train "$model" --data tree/bad_empty -b 1 --steps 1 --output-dir e $T
expect_rc "4 empty class folder" empty 2
expect_grep "4 empty class folder: message" empty.err 'tree/bad_empty/train/b_dog: empty class folder'
ft valc eval "$model" --data tree/bad_valclass -b 1 $T
expect_rc "4 val class missing from train" valc 2
expect_grep "4 val class: message" valc.err 'tree/bad_valclass/val/zz_yak: class "zz_yak" is not a folder of'
ft noimg train "$model" --data tree/bad_noclass -b 1 --steps 1 --output-dir e $T
expect_rc "4 folder with no images" noimg 2
expect_grep "4 no images: message" noimg.err 'tree/bad_noclass/train: no class folders'
ft nodata train "$model" --data tree/not_data -b 1 --steps 1 --output-dir e $T
expect_rc "4 a folder with neither layout" nodata 2
expect_grep "4 neither layout: message" nodata.err 'tree/not_data: neither an IDX folder'

# --- 5. packs
ft pk pack tree/good good.ftpk --size 32 -j 2
expect_rc "5 pack an ImageFolder" pk 0
ft pt $run -j 2 --data good.ftpk --output-dir pt
expect_rc "5 train from the pack" pt 0
expect_grep "5 train from the pack prints top1" pt.out '^top1 [0-9.]+$'
ft pe eval "$model" --data good.ftpk -b 4 $T
expect_grep "5 eval from the pack" pe.out '^top1 [0-9.]+$'
head -c 5000 good.ftpk >cut.ftpk
ft cut train "$model" --data cut.ftpk -b 4 --steps 1 --output-dir e $T
expect_rc "5 truncated pack" cut 2
expect_grep "5 truncated pack: message" cut.err 'cut\.ftpk: truncated pack'
echo "not a pack" >junk.ftpk
ft junk eval "$model" --data junk.ftpk $T
expect_rc "5 not a pack" junk 2
expect_grep "5 not a pack: message" junk.err 'junk\.ftpk: not an ftrun pack'
cp good.ftpk flip.ftpk
printf '\x07' | dd of=flip.ftpk bs=1 seek=64 conv=notrunc 2>/dev/null # the first class name
ft flip train "$model" --data flip.ftpk -b 4 --steps 1 --output-dir e $T
expect_rc "5 damaged class names" flip 2
expect_grep "5 damaged pack: message" flip.err 'flip\.ftpk: corrupt pack'
ft pkbad pack tree/bad_files bad.ftpk --size 16
expect_rc "5 pack of a tree with a broken image" pkbad 2
expect_grep "5 pack: message names the image" pkbad.err 'bad_files/train/a_cat/002\.jpg'
ft pkskip pack tree/bad_files bad.ftpk --size 16 --skip-bad-images
expect_rc "5 pack --skip-bad-images" pkskip 0

# --- 6. flags
ft f1 train "$model" --data tree/good --augment bogus
expect_rc "6 --augment bogus" f1 2
ft f2 train "$model" --data tree/good --prefetch 0
expect_rc "6 --prefetch 0" f2 2
ft f3 pack tree/good
expect_rc "6 pack without OUT" f3 2

echo "$npass passed, $nfail failed"
# the work folder stays only when something failed (the disk of a CI machine is finite)
[ "$nfail" = 0 ] && cd / && rm -rf "$work"
