#!/usr/bin/env bash
# The GPU check, for a machine with an NVIDIA driver but no Java and no Maven:
#   scripts/gpu-check.sh OUT_DIR
# Needs .gpu/ from scripts/prepare-gpu-check.sh (run where JDK 25 and Maven are). Writes to OUT_DIR:
#   diagnose.txt      Device.diagnose(): driver, devices, cuBLAS, PTX load result
#   tests.txt, junit/ the whole conformance suite, after the benchmarks: on cuda:0 with NABLA_DEVICE=cuda when a
#                     GPU is usable, else on cpu (NABLA_GPU_TEST_DEVICES=cpu,cuda:0 for both)
#   nabla-bench.txt   add/sum of 2^26 float32 vs copy bandwidth, 4096^2 matmul, small-op overhead and where it goes
#                     (GPU only)
#   nabla-steps.txt   W1, W5 and W7 training steps, eager and traced (GPU only)
#   torch-bench.txt   the same measurements with PyTorch (the steps eager and torch.compile'd), when python3 can
#                     import torch and NABLA_GPU_TORCH is not 0
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

if [ ! -f "$gpu/jdk.tar.gz" ] || [ ! -f "$gpu/classpath" ]; then
  log "FAILED: $gpu is missing or incomplete: run scripts/prepare-gpu-check.sh on a machine with JDK 25 and Maven"
  exit 1
fi
# Unpack the runtime once per version, beside the bundle (a /tmp mounted noexec could not run it); where .gpu/ is
# not writable, under $TMPDIR. gzip through tar, or python3's tarfile where tar or gzip is missing.
if [ -n "${NABLA_GPU_JDK_DIR:-}" ]; then
  jdkdir="$NABLA_GPU_JDK_DIR"
elif [ -w "$gpu" ]; then
  jdkdir="$gpu/runtime"
else
  jdkdir="${TMPDIR:-/tmp}/nabla-gpu-jdk"
fi
stamp="$(cksum <"$gpu/jdk.tar.gz")"
if [ ! -x "$jdkdir/jdk/bin/java" ] || [ "$(cat "$jdkdir/stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -rf "$jdkdir" && mkdir -p "$jdkdir" || { log "FAILED: cannot create $jdkdir"; exit 1; }
  if command -v tar >/dev/null 2>&1 && command -v gzip >/dev/null 2>&1; then
    unpack=(tar -C "$jdkdir" -xzf "$gpu/jdk.tar.gz")
  elif command -v python3 >/dev/null 2>&1; then
    unpack=(python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$gpu/jdk.tar.gz" "$jdkdir")
  else
    log "FAILED: cannot unpack $gpu/jdk.tar.gz: neither tar with gzip nor python3 is installed"; exit 1
  fi
  if ! "${unpack[@]}"; then
    log "FAILED: unpacking $gpu/jdk.tar.gz into $jdkdir with ${unpack[0]} failed"; exit 1
  fi
  echo "$stamp" >"$jdkdir/stamp"
fi
java="$jdkdir/jdk/bin/java"
if ! "$java" -version >/dev/null 2>&1; then
  log "FAILED: $java does not run (unpacked incompletely, or $jdkdir is on a noexec mount: set NABLA_GPU_JDK_DIR)"
  exit 1
fi
# JCuda unpacks its JNI library into java.io.tmpdir: keep it beside the runtime, since /tmp may be noexec
mkdir -p "$jdkdir/tmp"
cp="$(sed "s|lib/|$gpu/lib/|g" "$gpu/classpath")"
jvm=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xmx8g -XX:+UseParallelGC
  "-Djava.io.tmpdir=$jdkdir/tmp")
# cuBLAS: where the system has none, PyTorch's wheel usually brings one (nvidia-cublas or torch/lib)
if [ -z "${NABLA_CUBLAS:-}" ] && ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.1[23]' && command -v python3 >/dev/null 2>&1; then
  torch_cublas="$(python3 - <<'PY' 2>/dev/null
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()]
for pattern in ("nvidia/cublas/lib/libcublas.so.13", "nvidia/cublas/lib/libcublas.so.12", "torch/lib/libcublas.so.1*"):
    for root in roots:
        hits = sorted(glob.glob(os.path.join(root, pattern)))
        if hits:
            print(hits[-1]); sys.exit(0)
PY
)"
  if [ -n "$torch_cublas" ]; then
    export NABLA_CUBLAS="$torch_cublas"
    log "cuBLAS: none on the system; using PyTorch's $torch_cublas"
  fi
fi
log "runtime $("$java" -version 2>&1 | head -1)"

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi >"$out/nvidia-smi.txt" 2>&1
  log "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
else
  log "nvidia-smi: not found"
fi

timeout 120 "$java" "${jvm[@]}" -cp "$cp" dev.nabla.cuda.Diagnose 2>&1 | grep -v 'incubator modules' | tee "$out/diagnose.txt"
if grep -q '^ *cuda: available' "$out/diagnose.txt"; then
  have_gpu=1
  log "cuda: available"
else
  have_gpu=0
  log "cuda: unavailable: $(grep -m1 '^ *cuda:' "$out/diagnose.txt" | sed 's/^ *//'); GPU cases will be skipped, benchmarks skipped"
fi

if [ "$have_gpu" = 1 ]; then
  # not under JFR: its allocation events alone added 4 us to a small op, and its samples were too few to show the
  # rest; GpuBench's launch probe splits a small op's host time instead
  timeout 300 "$java" "${jvm[@]}" \
    -cp "$cp" dev.nabla.cuda.GpuBench "$out" cuda:0 2>&1 | grep -v 'incubator modules' | tee "$out/nabla-bench.log"
  log "nabla benchmarks: exit ${PIPESTATUS[0]} ($out/nabla-bench.txt)"
  timeout 300 "$java" "${jvm[@]}" -cp "$cp" dev.nabla.bench.suite.DeviceSteps "$out" cuda:0 2>&1 \
    | grep -v 'incubator modules' | tee "$out/nabla-steps.log"
  log "nabla training steps: exit ${PIPESTATUS[0]} ($out/nabla-steps.txt)"
  if [ "${NABLA_GPU_TORCH:-1}" = 0 ]; then
    log "torch benchmarks: skipped (NABLA_GPU_TORCH=0)"
  elif command -v python3 >/dev/null 2>&1; then
    timeout 400 python3 "$root/scripts/torch_bench.py" 2>&1 | tee "$out/torch-bench.txt"
    log "torch benchmarks: $(head -1 "$out/torch-bench.txt")"
  else
    log "torch benchmarks: skipped: python3 not found"
  fi
else
  log "benchmarks: skipped: no usable CUDA device"
fi
tests="$gpu/lib/$(cd "$gpu/lib" && ls nabla-core-*-tests.jar):$gpu/lib/nabla-cuda-tests.jar"
start=$(date +%s)
if [ "$have_gpu" = 1 ]; then export NABLA_DEVICE=cuda; fi
# the benchmarks ran first, so a suite that hangs on a new driver still leaves their numbers; it gets
# NABLA_GPU_SUITE_TIMEOUT seconds (default 300; it took 90 s on an H200), after which what it wrote so far is kept
# The CPU cases are CI's; on a GPU machine, whose minutes are few, the suite runs on the GPU alone by default.
if [ "$have_gpu" = 1 ]; then devices="${NABLA_GPU_TEST_DEVICES:-cuda:0}"; else devices="${NABLA_GPU_TEST_DEVICES:-cpu}"; fi
timeout "${NABLA_GPU_SUITE_TIMEOUT:-300}" "$java" "${jvm[@]}" -Dnabla.test.devices="$devices" -jar "$gpu/junit-platform-console-standalone.jar" execute \
  --class-path "$cp" --scan-class-path "$tests" --reports-dir "$out/junit" --details=tree --disable-banner \
  >"$out/tests.txt" 2>&1
suite=$?
unset NABLA_DEVICE
skipped_cuda=$(grep -c '^SKIPPED on cuda' "$out/tests.txt" || true)
log "test suite: exit $suite in $(( $(date +%s) - start )) s; $(grep -E '^\[ *[0-9]+ tests (successful|failed|skipped|aborted)' "$out/tests.txt" | tr -s ' []' ' ' | paste -sd, -); $skipped_cuda CUDA cases skipped"
if [ "$suite" != 0 ]; then
  grep -E 'MethodSource|=>' "$out/tests.txt" | head -40 >"$out/failures.txt"
  log "failures (first 40 lines): $out/failures.txt"
fi

exit "$suite"
