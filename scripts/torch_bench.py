"""PyTorch side of scripts/gpu-check.sh: the same measurements as dev.nabla.cuda.GpuBench, same key names.

TF32 follows NABLA_CUDA_TF32 (off by default, as in Nabla and in PyTorch's own default for matmul).
"""
import os
import sys
import time

try:
    import torch
except Exception as e:  # torch missing or broken: say so, do not fail the check
    print(f"skipped: torch not importable ({e})")
    sys.exit(0)
if not torch.cuda.is_available():
    print("skipped: torch sees no CUDA device")
    sys.exit(0)

tf32 = os.environ.get("NABLA_CUDA_TF32", "0").lower() in ("1", "true")
torch.backends.cuda.matmul.allow_tf32 = tf32
dev = "cuda"
N = 1 << 26


def bench(fn, reps):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / reps


r = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "cuda": torch.version.cuda}
a = torch.rand(N, device=dev)
b = torch.rand(N, device=dev)
c = torch.empty_like(a)
copy = bench(lambda: c.copy_(a), 20)
copy_gbps = 2 * 4 * N / copy / 1e9
r["copy_d2d_GBps"] = f"{copy_gbps:.3f}"
add = bench(lambda: torch.add(a, b), 20)
r["add_2^26_f32_ms"] = f"{add * 1e3:.3f}"
r["add_GBps"] = f"{3 * 4 * N / add / 1e9:.3f}"
r["add_vs_copy"] = f"{3 * 4 * N / add / 1e9 / copy_gbps:.3f}"
s = bench(lambda: a.sum(), 20)
r["sum_2^26_f32_ms"] = f"{s * 1e3:.3f}"
r["sum_GBps"] = f"{4 * N / s / 1e9:.3f}"
r["sum_vs_copy"] = f"{4 * N / s / 1e9 / copy_gbps:.3f}"
x = torch.randn(4096, 4096, device=dev)
y = torch.randn(4096, 4096, device=dev)
mm = bench(lambda: x @ y, 10)
r["matmul_4096_f32_ms"] = f"{mm * 1e3:.3f}"
r["matmul_TFLOPs"] = f"{2 * 4096 ** 3 / mm / 1e12:.3f}"
r["tf32"] = str(tf32).lower()
p = torch.ones(16, device=dev)
q = torch.ones(16, device=dev)
for _ in range(2000):
    p + q
torch.cuda.synchronize()
ops = 20000
t0 = time.perf_counter()
for _ in range(ops):
    p + q
t1 = time.perf_counter()
torch.cuda.synchronize()
t2 = time.perf_counter()
r["small_add_host_us_per_op"] = f"{(t1 - t0) * 1e6 / ops:.3f}"
r["small_add_total_us_per_op"] = f"{(t2 - t0) * 1e6 / ops:.3f}"
for k, v in r.items():
    print(f"{k}={v}")
