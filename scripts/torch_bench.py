"""PyTorch side of scripts/gpu-check.sh: the same measurements as dev.nabla.cuda.GpuBench and
dev.nabla.bench.suite.DeviceSteps (the training steps, eager and torch.compile'd), same key names.

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

# ---- the training steps of dev.nabla.bench.suite.DeviceSteps (same key names), eager and torch.compile'd -------
# W1 reads x once at the end of each batch; W5 and W7 read the loss every step, as Nabla's steps do. Each figure is
# the median of 5 timed batches after a warm-up. A failure in one prints its error and leaves the others.
import statistics


def per_step(warm, steps, step, sync=lambda: None):
    for _ in range(warm):
        step()
    sync()
    torch.cuda.synchronize()
    times = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t) / steps)
    return statistics.median(times)


def notebook():
    x = torch.tensor(3.0, device=dev, requires_grad=True)

    def step():
        y = x * x + x - 1
        y.backward()
        with torch.no_grad():
            x.sub_(0.1 * x.grad)
        x.grad = None

    return per_step(3000, 1000, step, lambda: x.item())


def training(model, opt, inputs, labels, warm, steps, compiled):
    forward = torch.compile(model) if compiled else model
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(forward(inputs), labels)
        loss.backward()
        opt.step()
        loss.item()

    return per_step(warm, steps, step)


def mlp():
    m = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10)).to(dev)
    return m, torch.optim.SGD(m.parameters(), lr=0.1), torch.rand(128, 784, device=dev), \
        torch.randint(0, 10, (128,), device=dev)


def cnn():
    nn = torch.nn
    m = nn.Sequential(nn.Conv2d(1, 16, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding="same"), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                      nn.Linear(32 * 7 * 7, 10)).to(dev)
    return m, torch.optim.Adam(m.parameters(), lr=1e-3), torch.rand(64, 1, 28, 28, device=dev), \
        torch.randint(0, 10, (64,), device=dev)


steps = {}
try:
    steps["w1_eager_us"] = f"{notebook() * 1e6:.3f}"
except Exception as e:
    steps["w1_eager_us"] = f"failed: {e!r}"
for name, make, warm, n in (("w5", mlp, 200, 50), ("w7", cnn, 50, 20)):
    for compiled in (False, True):
        key = f"{name}_{'compile' if compiled else 'eager'}_ms"
        try:
            model, opt, inputs, labels = make()
            steps[key] = f"{training(model, opt, inputs, labels, warm, n, compiled) * 1e3:.3f}"
        except Exception as e:
            steps[key] = f"failed: {e!r}"[:300]
for k, v in steps.items():
    print(f"{k}={v}")
