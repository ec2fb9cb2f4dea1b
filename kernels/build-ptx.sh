#!/usr/bin/env bash
# Regenerates the committed PTX from the CUDA C sources:
#   kernels/build-ptx.sh [OUTPUT_DIR]     (default: src/main/resources/dev/nabla/kernels)
# One .ptx per .cu, for the virtual architecture compute_75 (see README.md for why). The output is deterministic
# (no timestamps or absolute paths), so CI can regenerate it and compare (check-ptx.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/src/main/cuda"
out="${1:-$here/src/main/resources/dev/nabla/kernels}"
NVCC="${NVCC:-nvcc}"
ARCH="compute_75"
if ! command -v "$NVCC" >/dev/null 2>&1; then
  echo "build-ptx: nvcc not found (set NVCC or put the CUDA toolkit on the PATH)" >&2
  exit 1
fi
mkdir -p "$out"
cd "$src"  # relative source names keep paths out of the PTX
for cu in *.cu; do
  # -lineinfo is left out on purpose: it would embed file paths. --std=c++17 for the templates.
  # fused_math.cu is a library of device functions without kernels: relocatable, so they stay (.visible .func).
  rdc=""
  [ "$cu" = fused_math.cu ] && rdc="-rdc=true"
  "$NVCC" -ptx -arch="$ARCH" --std=c++17 -O3 $rdc -o "$out/${cu%.cu}.ptx" "$cu"
done
echo "build-ptx: $(ls "$src"/*.cu | wc -l) modules -> $out ($("$NVCC" --version | sed -n 's/.*release \([0-9.]*\).*/CUDA \1/p'), $ARCH)"
