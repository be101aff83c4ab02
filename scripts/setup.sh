#!/usr/bin/env bash
# Installs what ftrun needs on a fresh Debian 12 machine (as root, or with sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential meson ninja-build pkg-config cmake \
	protobuf-c-compiler libprotobuf-c-dev libonnx-dev libonnx-testdata \
	libdnnl-dev libopenblas-dev libturbojpeg0-dev libpng-dev zlib1g-dev \
	python3-torch python3-torchvision python3-onnx python3-numpy python3-pil python3-venv \
	dataset-fashion-mnist clang libclang-rt-14-dev libopenmpi-dev openmpi-bin >/dev/null
