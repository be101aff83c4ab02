#!/bin/sh
# `ftrun train --tensorboard` writes an event file that reads back: every record's
# CRCs hold and train/loss has one scalar per step (test_tensorboard's checker).
# usage: tensorboard_cli.sh FTRUN TEST_TENSORBOARD MODELS_DIR WORK
set -eu
ftrun=$1 checker=$2 models=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
"$ftrun" train "$models/resnet18_fmnist.onnx" --data synthetic -b 4 --steps 6 --lr 0.01 \
	--output-dir "$work/out" --tensorboard --threads 2 >"$work/log" 2>&1 || { cat "$work/log"; exit 1; }
"$checker" "$work/out/tensorboard" train/loss 6
rm -rf "$work"
