#!/usr/bin/env bash
# Builds what scripts/device_check.sh runs on a GPU machine, here: the device machines have
# nvcc, CUDA's libraries and PyTorch but not the Debian packages ftrun builds against, and
# nothing can be installed there. So ftrun is built on this machine (release, CUDA for
# Hopper, the plain C CPU kernels: oneDNN and OpenBLAS are too large to carry) and put with
# the small libraries it needs into device-bundle/ (git-ignored), which the device tool
# carries: run(command="scripts/device_check.sh $OUT", carry=["device-bundle"]).
set -euo pipefail
cd "$(dirname "$0")/.."
b=build-device-bundle
if [ ! -d $b ]; then
	meson setup $b -Dbuildtype=release -Dcuda=enabled -Dfast_cpu=disabled -Dmpi=disabled >/dev/null
fi
ninja -C $b ftrun tests/test_cuda_ops tests/bench_conv_layout >/dev/null
rm -rf device-bundle
mkdir -p device-bundle/lib
cp $b/ftrun $b/tests/test_cuda_ops $b/tests/bench_conv_layout device-bundle/
# the shared libraries that are neither the C library's nor CUDA's (those are there)
for lib in $(ldd $b/ftrun $b/tests/test_cuda_ops | awk '/=> \// {print $3}' | sort -u); do
	case $(basename "$lib") in
	libc.so* | libm.so* | libdl.so* | libpthread.so* | librt.so* | ld-linux* | libcuda*.so* | libcublas*.so* | \
		libcudnn*.so* | libcudart*.so* | libstdc++.so* | libgcc_s.so*) ;;
	*) cp -L "$lib" device-bundle/lib/ ;;
	esac
done
git rev-parse --short HEAD >device-bundle/COMMIT
du -sh device-bundle
ls device-bundle device-bundle/lib
