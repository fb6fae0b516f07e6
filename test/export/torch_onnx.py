"""Writes ONNX files with PyTorch's own exporter (torch.onnx.export, opset 17, batch dimension
dynamic) for test/export/onnx.test.ts: an MLP, a CNN, a residual block and a BatchNorm2d that
stays a BatchNormalization node, in eval mode, with
the layers and idioms real models use (BatchNorm, GELU, view(x.size(0), -1) flattening, adaptive
average pooling). Reads {"dir"} as JSON on stdin; writes DIR/<name>.onnx and prints, per model,
its inputs and PyTorch's outputs at two batch sizes.
"""

import json
import sys

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 32)
        self.bn = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 32)
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 4)

    def forward(self, x):
        h = F.relu(self.bn(self.fc1(x)))
        h = F.dropout(torch.tanh(self.fc2(h)), 0.5, self.training)
        return F.log_softmax(self.head(self.norm(h)), dim=1)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, 3, stride=2)
        self.fc = nn.Linear(8 * 3 * 3, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.gelu(self.conv2(x))
        x = x.view(x.size(0), -1)
        return self.fc(x)


class Residual(nn.Module):
    """A ResNet basic block with a projection shortcut, then a pooled linear head."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.shortcut = nn.Conv2d(3, 8, 1, stride=2, bias=False)
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        h = F.relu(h + self.shortcut(x))
        h = F.adaptive_avg_pool2d(h, 1).flatten(1)
        return self.head(h)


class BatchNormNet(nn.Module):
    """BatchNorm2d on the input, where the exporter cannot fold it into a convolution."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(3, eps=1e-3, momentum=0.2)
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        h = F.relu(self.conv(self.bn(x)))
        return self.head(F.adaptive_avg_pool2d(h, 1).flatten(1))


def randomise_batchnorm(model):
    # Fresh BatchNorm layers hold mean 0 and variance 1; make the running statistics count.
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.2)


def main():
    out_dir = json.load(sys.stdin)['dir']
    torch.manual_seed(0)
    models = {'mlp': (MLP(), [6]), 'cnn': (CNN(), [1, 14, 14]), 'residual': (Residual(), [3, 10, 10]),
              'batchnorm': (BatchNormNet(), [3, 8, 8])}
    result = {}
    for name, (model, shape) in models.items():
        randomise_batchnorm(model)
        model.eval()
        x = torch.randn([5] + shape)
        path = f'{out_dir}/{name}.onnx'
        torch.onnx.export(model, (x,), path, input_names=['x'], output_names=['y'],
                          dynamic_axes={'x': {0: 'batch'}, 'y': {0: 'batch'}}, opset_version=17)
        with torch.no_grad():
            result[name] = {
                'path': path,
                'runs': [{'shape': list(t.shape), 'x': t.reshape(-1).tolist(),
                          'y': model(t).reshape(-1).tolist()} for t in (x, x[:2])],
            }
    json.dump(result, sys.stdout)


if __name__ == '__main__':
    main()
