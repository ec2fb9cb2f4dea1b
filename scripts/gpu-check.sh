#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA driver but no Java and no Maven:
#   scripts/gpu-check.sh OUT_DIR
# Needs .gpu/ from scripts/prepare-gpu-check.sh (run where JDK 25 and Maven are). Writes to OUT_DIR:
#   diagnose.txt      Device.diagnose(): driver, devices, cuBLAS, PTX load result
#   tests.txt, junit/ the whole conformance suite on cpu and cuda:0 (NABLA_DEVICE=cuda when a GPU is usable)
#   nabla-bench.txt   add/sum of 2^26 float32 vs copy bandwidth, 4096^2 matmul, small-op overhead (GPU only)
#   torch-bench.txt   the same measurements with PyTorch, when python3 can import torch
#   summary.txt       one line per step
# Without a usable GPU it still runs the suite (CUDA cases skip with their reason) and skips the benchmarks.
# Exit status: the test suite's.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
gpu="$root/.gpu"
out="${1:?usage: scripts/gpu-check.sh OUT_DIR}"
mkdir -p "$out" && out="$(cd "$out" && pwd)"
: >"$out/summary.txt"
log() { echo "gpu-check: $*" | tee -a "$out/summary.txt"; }

if [ ! -f "$gpu/jdk.tar.xz" ] || [ ! -f "$gpu/classpath" ]; then
  log "FAILED: $gpu is missing or incomplete: run scripts/prepare-gpu-check.sh on a machine with JDK 25 and Maven"
  exit 1
fi
# unpack the runtime once per version, outside the repository (which may be read-only or carried back)
jdkdir="${NABLA_GPU_JDK_DIR:-${TMPDIR:-/tmp}/nabla-gpu-jdk}"
stamp="$(cksum <"$gpu/jdk.tar.xz")"
if [ ! -x "$jdkdir/jdk/bin/java" ] || [ "$(cat "$jdkdir/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$jdkdir" && mkdir -p "$jdkdir" && tar -C "$jdkdir" -xJf "$gpu/jdk.tar.xz" && echo "$stamp" >"$jdkdir/stamp"
fi
java="$jdkdir/jdk/bin/java"
cp="$(sed "s|lib/|$gpu/lib/|g" "$gpu/classpath")"
jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -XX:+UseParallelGC)
log "runtime $("$java" -version 2>&1 | head -1)"

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi >"$out/nvidia-smi.txt" 2>&1
  log "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
else
  log "nvidia-smi: not found"
fi

"$java" "${jvm[@]}" -cp "$cp" dev.nabla.cuda.Diagnose 2>&1 | grep -v 'incubator modules' | tee "$out/diagnose.txt"
if grep -q '^ *cuda: available' "$out/diagnose.txt"; then
  have_gpu=1
  log "cuda: available"
else
  have_gpu=0
  log "cuda: unavailable: $(grep -m1 '^ *cuda:' "$out/diagnose.txt" | sed 's/^ *//'); GPU cases will be skipped, benchmarks skipped"
fi

tests="$gpu/lib/$(cd "$gpu/lib" && ls nabla-core-*-tests.jar):$gpu/lib/nabla-cuda-tests.jar"
start=$(date +%s)
if [ "$have_gpu" = 1 ]; then export NABLA_DEVICE=cuda; fi
"$java" "${jvm[@]}" -Dnabla.test.devices=cpu,cuda:0 -jar "$gpu/junit-platform-console-standalone.jar" execute \
  --class-path "$cp" --scan-class-path "$tests" --reports-dir "$out/junit" --details=summary --disable-banner \
  >"$out/tests.txt" 2>&1
suite=$?
unset NABLA_DEVICE
skipped_cuda=$(grep -c '^SKIPPED on cuda' "$out/tests.txt" || true)
log "test suite: exit $suite in $(( $(date +%s) - start )) s; $(grep -E '^\[ *[0-9]+ tests (successful|failed|skipped|aborted)' "$out/tests.txt" | tr -s ' []' ' ' | paste -sd, -); $skipped_cuda CUDA cases skipped"
if [ "$suite" != 0 ]; then
  grep -E 'MethodSource|=>' "$out/tests.txt" | head -40 >"$out/failures.txt"
  log "failures (first 40 lines): $out/failures.txt"
fi

if [ "$have_gpu" = 1 ]; then
  "$java" "${jvm[@]}" -cp "$cp" dev.nabla.cuda.GpuBench "$out" cuda:0 2>&1 | grep -v 'incubator modules' | tee "$out/nabla-bench.log"
  log "nabla benchmarks: exit ${PIPESTATUS[0]} ($out/nabla-bench.txt)"
  if command -v python3 >/dev/null 2>&1; then
    python3 "$root/scripts/torch_bench.py" 2>&1 | tee "$out/torch-bench.txt"
    log "torch benchmarks: $(head -1 "$out/torch-bench.txt")"
  else
    log "torch benchmarks: skipped: python3 not found"
  fi
else
  log "benchmarks: skipped: no usable CUDA device"
fi
exit "$suite"
