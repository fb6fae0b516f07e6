"""PyTorch anchor for the CPU benchmark: one thread, f32, median milliseconds.

Reads a JSON spec on stdin ({"matmul": [n, ...], "mlp": {"batch", "sizes"}, "small_op":
{"size", "ops"}}) and prints JSON timings ("small_op": milliseconds per eager add of two tiny
tensors). Run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (they force a slower kernel).
"""
import json
import sys
import time

import torch

torch.set_num_threads(1)
spec = json.load(sys.stdin)


def median_ms(fn, warmup=3, runs=15, min_s=0.3):
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < runs or (time.perf_counter() - start < min_s and len(times) < 200):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


out = {"matmul": {}, "mlp": None, "small_op": None, "torch": torch.__version__}
g = torch.Generator().manual_seed(0)
for n in spec.get("matmul", []):
    a = torch.rand(n, n, generator=g)
    b = torch.rand(n, n, generator=g)
    out["matmul"][str(n)] = median_ms(lambda: torch.mm(a, b))

mlp = spec.get("mlp")
if mlp:
    sizes = mlp["sizes"]
    batch = mlp["batch"]
    layers = [torch.nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)]
    params = [p for l in layers for p in l.parameters()]
    opt = torch.optim.SGD(params, lr=0.01)
    x = torch.rand(batch, sizes[0], generator=g)
    y = torch.randint(0, sizes[-1], (batch,), generator=g)

    def step():
        h = x
        for i, l in enumerate(layers):
            h = l(h)
            if i < len(layers) - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    out["mlp"] = median_ms(step)

small = spec.get("small_op")
if small:
    a = torch.rand(small["size"], generator=g)
    b = torch.rand(small["size"], generator=g)
    ops = small["ops"]

    def chain():
        h = a
        for _ in range(ops):
            h = h + b

    out["small_op"] = median_ms(chain) / ops
print(json.dumps(out))
