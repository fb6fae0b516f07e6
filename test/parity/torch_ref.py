"""PyTorch reference for Wiregrad's parity tests (test/parity/parity.test.ts).

Reads a JSON list of cases on stdin, each
    {"id", "op", "inputs": [{"data", "shape", "dtype", "requiresGrad"}], "attrs", "grad_weights"}
runs the op with PyTorch, and prints one JSON object {id: {"out", "outShape", "outDType", "grads"}}
(or {id: {"error": message}} when PyTorch rejects the case). Op names and attributes are
Wiregrad's; OPS below maps each to the PyTorch call with the same meaning. Gradients are those of
sum(out * grad_weights) with respect to every input that requires them (zeros where the output
does not depend on an input), computed by out.backward(grad_weights). Non-finite numbers are sent
as the strings "NaN", "Infinity" and "-Infinity", since JSON has no literal for them.

Run it with Debian's /usr/bin/python3 (python3-torch); one process serves every case, because
importing torch takes seconds.
"""

import json
import math
import sys

try:
    import torch
    import torch.nn.functional as F
    import torch.nn.grad
except ImportError as err:  # The test turns this exit code into a message saying what to install.
    sys.stderr.write(f"torch_ref.py: cannot import torch ({err}); install python3-torch\n")
    sys.exit(3)

torch.set_num_threads(1)

DTYPES = {
    "f32": torch.float32,
    "f64": torch.float64,
    "i32": torch.int32,
    "bool": torch.bool,
}


def dtype_name(dt):
    if dt in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        return "f64" if dt == torch.float64 else "f32"
    if dt == torch.bool:
        return "bool"
    return "i32"  # int32 and int64 (torch's index dtype) are both integers to the test


def axes_of(a, rank):
    return [ax + rank if ax < 0 else ax for ax in a["axes"]]


def reduce(fn):
    """sum/max/min over `axes`; an empty axis list reduces nothing (torch would reduce all)."""

    def run(xs, a):
        x = xs[0]
        axes = axes_of(a, x.dim())
        if not axes:
            return x.clone()
        return fn(x, dim=axes, keepdim=bool(a["keepDims"]))

    return run


def gathered_shape(x, idx, axis):
    return list(x.shape[:axis]) + list(idx.shape) + list(x.shape[axis + 1 :])


def gather(xs, a):
    """NumPy take: index_select generalised to index tensors of any shape."""
    x, idx = xs
    axis = a["axis"] % x.dim()
    picked = x.index_select(axis, idx.reshape(-1).long())
    return picked.reshape(gathered_shape(x, idx, axis))


def scatter_add(xs, a):
    """The adjoint of gather: index_add with the index tensor flattened."""
    x, idx, upd = xs
    axis = a["axis"] % x.dim()
    flat = list(x.shape[:axis]) + [idx.numel()] + list(x.shape[axis + 1 :])
    return x.index_add(axis, idx.reshape(-1).long(), upd.reshape(flat))


def one_hot(xs, a):
    idx = xs[0].long()
    hot = F.one_hot(idx, a["depth"]).to(torch.float64)
    on, off = a.get("onValue", 1), a.get("offValue", 0)
    return (hot * (on - off) + off).to(DTYPES[a.get("dtype", "f32")])


def slice_(xs, a):
    x = xs[0]
    return x[tuple(slice(b, b + s) for b, s in zip(a["begin"], a["size"]))]


def pad(xs, a):
    """Our pads are (before, after) per axis from the first; F.pad wants them from the last."""
    x = xs[0]
    p = a["pads"]
    pairs = [p[2 * d : 2 * d + 2] for d in range(x.dim())]
    flat = [v for pair in reversed(pairs) for v in pair]
    return F.pad(x, flat, mode="constant", value=a.get("value", 0))


def cast(xs, a):
    return xs[0].to(DTYPES[a["dtype"]])


def fill(_xs, a):
    return torch.full(a["shape"], a["value"], dtype=DTYPES[a["dtype"]])


def arange(_xs, a):
    return torch.arange(a["start"], a["stop"], a["step"], dtype=DTYPES[a["dtype"]])


# ---- neural-network ops ---------------------------------------------------------------------


def matmul(xs, a):
    x, y = xs
    if a.get("transposeA") and x.dim() > 1:
        x = x.transpose(-1, -2)
    if a.get("transposeB") and y.dim() > 1:
        y = y.transpose(-1, -2)
    return torch.matmul(x, y)


def conv_padded(x, a):
    """Our padding is [top, left, bottom, right]; torch's conv2d pads symmetrically, so pad first."""
    top, left, bottom, right = a["padding"]
    return F.pad(x, [left, right, top, bottom]) if any(a["padding"]) else x


def conv_args(a):
    return {"stride": a["stride"], "dilation": a["dilation"], "groups": a["groups"]}


def conv2d(xs, a):
    x, w = xs
    return F.conv2d(conv_padded(x, a), w, **conv_args(a))


def symmetric(a):
    top, left, bottom, right = a["padding"]
    return top == bottom and left == right


def conv2d_backprop_input(xs, a):
    dy, w = xs
    if symmetric(a):
        pad = a["padding"][:2]
        return torch.nn.grad.conv2d_input(a["inputShape"], w, dy, padding=pad, **conv_args(a))
    # Asymmetric padding: the gradient of the padded convolution, kept differentiable.
    x = torch.zeros(a["inputShape"], dtype=dy.dtype, requires_grad=True)
    y = conv2d([x, w], a)
    return torch.autograd.grad(y, x, dy, create_graph=True)[0]


def conv2d_backprop_filter(xs, a):
    x, dy = xs
    if symmetric(a):
        pad = a["padding"][:2]
        return torch.nn.grad.conv2d_weight(x, a["filterShape"], dy, padding=pad, **conv_args(a))
    w = torch.zeros(a["filterShape"], dtype=x.dtype, requires_grad=True)
    y = conv2d([x, w], a)
    return torch.autograd.grad(y, w, dy, create_graph=True)[0]


def pool_args(a):
    return {"kernel_size": a["kernelSize"], "stride": a["stride"], "padding": a["padding"]}


def max_pool2d_grad(xs, a):
    """The gradient of max_pool2d at x for dy, kept differentiable in dy (x is a constant)."""
    x, dy = xs
    xd = x.detach().requires_grad_(True)
    y = F.max_pool2d(xd, **pool_args(a))
    return torch.autograd.grad(y, xd, dy, create_graph=True)[0]


def max_pool2d_gather(xs, a):
    """g at each window's argmax (the indices max_pool2d returns, flat over H·W)."""
    x, g = xs
    _, idx = F.max_pool2d(x.detach(), return_indices=True, **pool_args(a))
    n, c = idx.shape[:2]
    picked = g.reshape(n, c, -1).gather(2, idx.reshape(n, c, -1))
    return picked.reshape(idx.shape)


def avg_pool2d(xs, a):
    return F.avg_pool2d(xs[0], count_include_pad=a["countIncludePad"], **pool_args(a))


def avg_pool2d_grad(xs, a):
    dy = xs[0]
    x = torch.zeros(a["inputShape"], dtype=dy.dtype, requires_grad=True)
    y = avg_pool2d([x], a)
    return torch.autograd.grad(y, x, dy, create_graph=True)[0]


def cross_entropy(xs, a):
    logits, labels = xs
    return F.cross_entropy(
        logits,
        labels.long(),
        reduction=a.get("reduction", "mean"),
        label_smoothing=a.get("labelSmoothing", 0.0),
    )


def batch_norm(xs, a):
    """Inputs: x, then gamma and beta when a["affine"], then running mean and variance when
    a["running"] (updated in place in training, as ours). The registered op (attrs without
    "affine") takes all five and is pure: torch updates copies of the running statistics."""
    if "affine" not in a and len(xs) == 5:
        x, gamma, beta, rm, rv = xs
        return F.batch_norm(
            x, rm.detach().clone(), rv.detach().clone(), gamma, beta, training=a["training"],
            momentum=a.get("momentum", 0.1), eps=a.get("eps", 1e-5),
        )
    x, rest = xs[0], list(xs[1:])
    gamma, beta = (rest.pop(0), rest.pop(0)) if a.get("affine") else (None, None)
    rm, rv = (rest.pop(0), rest.pop(0)) if a.get("running") else (None, None)
    y = F.batch_norm(
        x, rm, rv, gamma, beta, training=a["training"], momentum=a.get("momentum", 0.1),
        eps=a.get("eps", 1e-5),
    )
    if a.get("returnRunningStats"):
        return torch.cat([rm, rv])
    return y


def layer_norm(xs, a):
    x = xs[0]
    gamma, beta = (xs[1], xs[2]) if len(xs) == 3 else (None, None)
    return F.layer_norm(x, a["normalizedShape"], gamma, beta, eps=a.get("eps", 1e-5))


def dropout(xs, a):
    """With a mask input: the deterministic part, x · mask / (1 − p). Without: F.dropout, for
    the cases with no randomness (eval mode, p = 0, p = 1)."""
    p = a["p"]
    if len(xs) == 2:
        return xs[0] * xs[1] / (1 - p)
    return F.dropout(xs[0], p, training=a.get("training", True))


def linear(xs, a):
    return F.linear(xs[0], xs[1], xs[2] if len(xs) == 3 else None)


OPS = {
    # ---- elementwise unary
    "neg": lambda xs, a: torch.neg(xs[0]),
    "exp": lambda xs, a: torch.exp(xs[0]),
    "log": lambda xs, a: torch.log(xs[0]),
    "sqrt": lambda xs, a: torch.sqrt(xs[0]),
    "abs": lambda xs, a: torch.abs(xs[0]),
    "sign": lambda xs, a: torch.sign(xs[0]),
    "tanh": lambda xs, a: torch.tanh(xs[0]),
    "sigmoid": lambda xs, a: torch.sigmoid(xs[0]),
    "relu": lambda xs, a: torch.relu(xs[0]),
    "leakyRelu": lambda xs, a: F.leaky_relu(xs[0], a.get("alpha", 0.01)),
    "erf": lambda xs, a: torch.erf(xs[0]),
    "gelu": lambda xs, a: F.gelu(xs[0], approximate="none"),
    # ---- elementwise binary (broadcasting)
    "add": lambda xs, a: torch.add(xs[0], xs[1]),
    "sub": lambda xs, a: torch.sub(xs[0], xs[1]),
    "mul": lambda xs, a: torch.mul(xs[0], xs[1]),
    "div": lambda xs, a: torch.true_divide(xs[0], xs[1]),
    "pow": lambda xs, a: torch.pow(xs[0], xs[1]),
    "maximum": lambda xs, a: torch.maximum(xs[0], xs[1]),
    "minimum": lambda xs, a: torch.minimum(xs[0], xs[1]),
    "equal": lambda xs, a: torch.eq(xs[0], xs[1]),
    "greater": lambda xs, a: torch.gt(xs[0], xs[1]),
    "less": lambda xs, a: torch.lt(xs[0], xs[1]),
    "where": lambda xs, a: torch.where(xs[0], xs[1], xs[2]),
    "cast": cast,
    "identity": lambda xs, a: xs[0].clone(),
    "stopGradient": lambda xs, a: xs[0].detach(),
    # ---- creation
    "fill": fill,
    "arange": arange,
    # ---- reductions
    "sum": reduce(torch.sum),
    "max": reduce(torch.amax),
    "min": reduce(torch.amin),
    "mean": lambda xs, a: torch.mean(xs[0], dim=axes_of(a, xs[0].dim()), keepdim=a["keepDims"]),
    "argmax": lambda xs, a: torch.argmax(xs[0], dim=a["axis"], keepdim=a["keepDims"]),
    # ---- movement
    "reshape": lambda xs, a: xs[0].reshape(a["shape"]),
    "expand": lambda xs, a: xs[0].expand(a["shape"]),
    "transpose": lambda xs, a: xs[0].permute(a["perm"]),
    "slice": slice_,
    "pad": pad,
    "concat": lambda xs, a: torch.cat(xs, dim=a["axis"]),
    "stack": lambda xs, a: torch.stack(xs, dim=a["axis"]),
    "squeeze": lambda xs, a: xs[0].squeeze(a["axis"]) if "axis" in a else xs[0].squeeze(),
    "unsqueeze": lambda xs, a: xs[0].unsqueeze(a["axis"]),
    "flatten": lambda xs, a: torch.flatten(xs[0], start_dim=a["startAxis"]),
    "gather": gather,
    "scatterAdd": scatter_add,
    "oneHot": one_hot,
    # ---- neural-network ops
    "matmul": matmul,
    "linear": linear,
    "conv2d": conv2d,
    "conv2dBackpropInput": conv2d_backprop_input,
    "conv2dBackpropFilter": conv2d_backprop_filter,
    "maxPool2d": lambda xs, a: F.max_pool2d(xs[0], **pool_args(a)),
    "maxPool2dGrad": max_pool2d_grad,
    "maxPool2dGather": max_pool2d_gather,
    "avgPool2d": avg_pool2d,
    "avgPool2dGrad": avg_pool2d_grad,
    "softmax": lambda xs, a: F.softmax(xs[0], dim=a["axis"]),
    "logSoftmax": lambda xs, a: F.log_softmax(xs[0], dim=a["axis"]),
    "crossEntropy": cross_entropy,
    "mseLoss": lambda xs, a: F.mse_loss(xs[0], xs[1], reduction=a.get("reduction", "mean")),
    "batchNorm": batch_norm,
    "layerNorm": layer_norm,
    "dropout": dropout,
}


def decode(v):
    if isinstance(v, str):
        return float(v.replace("Infinity", "inf"))
    return v


def encode(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def flat_list(t):
    t = t.detach()
    if t.dtype == torch.bool:
        t = t.to(torch.int32)
    return [encode(v) for v in t.reshape(-1).tolist()]


def run_case(case):
    op = OPS.get(case["op"])
    if op is None:
        raise KeyError(f"torch_ref.py has no mapping for op '{case['op']}'; add one to OPS")
    xs = []
    for spec in case["inputs"]:
        data = [decode(v) for v in spec["data"]]
        t = torch.tensor(data, dtype=DTYPES[spec["dtype"]]).reshape(spec["shape"])
        if spec.get("requiresGrad"):
            t.requires_grad_(True)
        xs.append(t)
    out = op(xs, case.get("attrs") or {})
    result = {"out": flat_list(out), "outShape": list(out.shape), "outDType": dtype_name(out.dtype)}
    weights = case.get("grad_weights")
    wants_grad = [bool(spec.get("requiresGrad")) for spec in case["inputs"]]
    if weights is not None and any(wants_grad) and out.is_floating_point():
        w = torch.tensor([decode(v) for v in weights], dtype=out.dtype).reshape(out.shape)
        if out.requires_grad:
            out.backward(w)
        grads = []
        for t, wanted in zip(xs, wants_grad):
            if not wanted:
                grads.append(None)
            else:
                g = t.grad if t.grad is not None else torch.zeros_like(t)
                grads.append(flat_list(g))
        result["grads"] = grads
    return result


def main():
    cases = json.load(sys.stdin)
    results = {}
    for case in cases:
        try:
            results[case["id"]] = run_case(case)
        except Exception as err:  # noqa: BLE001 - every failure is reported against its case
            results[case["id"]] = {"error": f"{type(err).__name__}: {err}"}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
