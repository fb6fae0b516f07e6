"""Runs exported PyTorch modules for test/export/pytorch.test.ts, in one process (importing torch
takes seconds). Reads JSON on stdin:

    {"models": [{"name", "dir", "inputs"}], "datasets": {"dir", "n", "seed"}}

For each model: imports DIR/model.py, loads DIR/weights.safetensors with load_state_dict (strict),
puts the module in train() or eval() mode ("mode", default train), feeds the inputs (a safetensors file keyed by input name) in INPUTS order, backpropagates the
'loss' output, and reports every output, every parameter's gradient and every float buffer after
the step (BatchNorm's running statistics) by state-dict name. For
the datasets: the synthetic sets as DIR/train.py draws them. Prints JSON on stdout.
"""

import importlib.util
import json
import sys

import torch


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def flat(t):
    return t.detach().to(torch.float64).reshape(-1).tolist()


def run_model(job):
    sys.path.insert(0, job['dir'])
    try:
        mod = load('exported_' + job['name'].replace('-', '_').replace('.', '_'), job['dir'] + '/model.py')
    finally:
        sys.path.pop(0)
    model = mod.Model()
    keys = model.load_state_dict(mod.load_safetensors(job['dir'] + '/weights.safetensors'))
    model.train(job.get('mode', 'train') == 'train')
    tensors = mod.load_safetensors(job['inputs'])
    args = [tensors[spec['name']] for spec in mod.INPUTS]
    out = model(*args)
    out['loss'].backward()
    grads = {}
    for key, p in model.named_parameters():
        grads[key] = flat(p.grad) if p.grad is not None else [0.0] * p.numel()
    return {
        'outputs': {k: flat(v) for k, v in out.items()},
        'grads': grads,
        'buffers': {k: flat(b) for k, b in model.named_buffers() if b.is_floating_point()},
        'missing': list(keys.missing_keys),
        'unexpected': list(keys.unexpected_keys),
    }


def main():
    request = json.load(sys.stdin)
    result = {'models': {job['name']: run_model(job) for job in request['models']}}
    d = request.get('datasets')
    if d:
        train = load('exported_train', d['dir'] + '/train.py')
        result['datasets'] = {}
        for name, make in train.SYNTHETIC.items():
            x, y = make(d['n'], d['seed'])
            result['datasets'][name] = {'x': flat(x), 'y': flat(y) if y.is_floating_point() else y.tolist()}
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
