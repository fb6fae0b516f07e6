/**
 * The training script exported next to model.py (`train.py`): the graph's own training
 * settings (`meta.training`: optimiser, learning-rate schedule, batch size, epochs, seed) as
 * argparse defaults, its loss (the module's `loss` output), and its data: the synthetic 2-D
 * sets ported from engine/data/synthetic.ts with Wiregrad's seeded generator (so the points
 * are the engine's), MNIST and Fashion-MNIST from IDX files, or random tensors of the input
 * shapes. It runs as one process or under `torchrun` with DistributedDataParallel (gloo on
 * CPU, nccl on GPUs), and inside Ray Train, whose workers already hold a process group.
 * `--batch-size` is the global batch, split across processes, so N processes take the same
 * optimisation steps as one. Rank 0 logs, evaluates and writes checkpoints and weights.
 */

import type { Graph } from '../graph/graph.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../train/trainer.js';
import type { PyTorchModule } from './pytorch.js';
import { pyLiteral, pyString } from './python.js';

/** The datasets train.py knows. */
export const SCRIPT_DATASETS = [
  'spiral',
  'moons',
  'circles',
  'xor',
  'gaussians',
  'sine',
  'mnist',
  'fashion-mnist',
  'random',
] as const;

export type ScriptDataset = (typeof SCRIPT_DATASETS)[number];

/** The graph's training config over the engine's defaults (as `trainConfigOf`, unvalidated). */
export function trainingSettings(graph: Graph): TrainConfig {
  const meta = (graph.meta?.['training'] ?? {}) as Partial<TrainConfig>;
  return {
    ...DEFAULT_TRAIN_CONFIG,
    ...meta,
    optimizer: { ...DEFAULT_TRAIN_CONFIG.optimizer, ...meta.optimizer },
  };
}

/**
 * The dataset the script trains on by default: `meta.training.dataset` when the graph names
 * one, else a guess from the inputs (2-D points: spiral; 28×28 images: MNIST; one number in
 * and an f32 label: the sine regression), else random tensors of the input shapes.
 */
export function defaultDataset(graph: Graph, module: PyTorchModule): ScriptDataset {
  const named = (graph.meta?.['training'] as { dataset?: unknown } | undefined)?.dataset;
  if (typeof named === 'string' && (SCRIPT_DATASETS as readonly string[]).includes(named))
    return named as ScriptDataset;
  const data = module.inputs.filter((i) => i.role === 'data');
  const labels = module.inputs.filter((i) => i.role === 'label');
  if (data.length !== 1 || labels.length !== 1) return 'random';
  const shape = data[0]!.shape.slice(1).join(',');
  // One number in, one number out (f32 labels [N, 1] or [N]): the sine regression set.
  if (
    labels[0]!.dtype === 'f32' &&
    shape === '1' &&
    ['', '1'].includes(labels[0]!.shape.slice(1).join(','))
  )
    return 'sine';
  if (labels[0]!.dtype !== 'i32') return 'random';
  if (shape === '2') return 'spiral';
  if (shape === '784' || shape === '1,28,28') {
    const text = `${graph.name ?? ''} ${String(graph.meta?.['description'] ?? '')}`;
    return /fashion/i.test(text) ? 'fashion-mnist' : 'mnist';
  }
  return 'random';
}

function describe(c: TrainConfig, dataset: string): string {
  const o = c.optimizer;
  const schedule =
    c.schedule && c.schedule.type !== 'constant' ? `, ${c.schedule.type} schedule` : '';
  return `${o.type} (lr ${o.lr})${schedule}, batch ${c.batchSize}, ${c.epochs} epochs, seed ${c.seed}, dataset '${dataset}'`;
}

export interface TrainingScriptOptions {
  readonly dataset?: ScriptDataset;
  /** Parameters the loss does not reach: DDP must be told to expect them unused. */
  readonly unusedParameters?: boolean;
}

/** Generates train.py for a module made by `pytorchModule`. */
export function trainingScript(
  graph: Graph,
  module: PyTorchModule,
  options: TrainingScriptOptions = {},
): string {
  const config = trainingSettings(graph);
  const dataset = options.dataset ?? defaultDataset(graph, module);
  const accuracyOutput = module.outputs.find((o) => o === 'logits' || o === 'output') ?? null;
  const label = module.inputs.findIndex((i) => i.role === 'label' && i.classes !== undefined);
  // A regression (an f32 label) is measured by the RMSE of that output against the label.
  const target = module.inputs.findIndex((i) => i.role === 'label' && i.dtype === 'f32');
  const rmseOutput = target >= 0 ? (module.outputs.find((o) => o === 'output') ?? null) : null;
  const title = (graph.name ?? 'a Wiregrad graph').replace(/\\/g, '\\\\').replace(/"""/g, "'''");
  const training = {
    epochs: config.epochs,
    batchSize: config.batchSize,
    optimizer: config.optimizer,
    schedule: config.schedule ?? { type: 'constant' },
    seed: config.seed,
  };
  return `"""Trains ${title} with PyTorch: one process, or data-parallel under torchrun.

Exported by Wiregrad with the graph's training settings: ${describe(config, dataset)}.

    python train.py                                # one process (the GPU when there is one)
    torchrun --nproc_per_node 4 train.py           # DistributedDataParallel: gloo on CPU, nccl on GPU
    python train.py --epochs 3 --lr 0.001 --out runs/1

--batch-size is the global batch: each of N processes takes batch/N examples per step, so N
processes take the same optimisation steps as one. Rank 0 logs, evaluates after each epoch and
writes OUT/checkpoint.pt, then OUT/weights.safetensors (PyTorch's names) and
OUT/weights.wiregrad.safetensors (the graph's node ids, for \`wiregrad export --weights\`).
"""

import argparse
import gzip
import json
import math
import os
import sys

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import GRAPH_NODES, INPUTS, ${module.className}, load_safetensors, save_safetensors  # noqa: E402

# The graph's meta.training (over Wiregrad's defaults).
TRAINING = ${pyLiteral(training)}
DATASETS = ${pyLiteral([...SCRIPT_DATASETS])}
DATASET = ${pyString(dataset)}
# The output whose argmax is compared with the labels, and which input holds those labels.
ACCURACY_OUTPUT = ${pyLiteral(accuracyOutput)}
LABEL_INPUT = ${label >= 0 ? label : 'None'}
# For a regression: the output compared with the f32 label input, by RMSE.
RMSE_OUTPUT = ${pyLiteral(rmseOutput)}
TARGET_INPUT = ${target >= 0 ? target : 'None'}
FIND_UNUSED_PARAMETERS = ${options.unusedParameters ? 'True' : 'False'}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Trains the exported model (see the top of train.py).')
    p.add_argument('--epochs', type=int, default=TRAINING['epochs'])
    p.add_argument('--batch-size', type=int, default=TRAINING['batchSize'],
                   help='the global batch, split across processes')
    p.add_argument('--lr', type=float, default=TRAINING['optimizer']['lr'])
    p.add_argument('--optimizer', choices=['sgd', 'adam', 'adamw'],
                   default=TRAINING['optimizer']['type'])
    p.add_argument('--seed', type=int, default=TRAINING['seed'])
    p.add_argument('--dataset', choices=DATASETS, default=DATASET)
    p.add_argument('--data-dir', default=None,
                   help='folder with the MNIST or Fashion-MNIST IDX files (*-ubyte or *-ubyte.gz)')
    p.add_argument('--train-limit', type=int, default=None, help='use at most this many examples')
    p.add_argument('--test-limit', type=int, default=None)
    p.add_argument('--max-steps', type=int, default=None, help='stop after this many steps')
    p.add_argument('--weights', default=os.path.join(HERE, 'weights.safetensors'),
                   help="initial weights, or 'none' for PyTorch's own initialisation")
    p.add_argument('--out', default=os.path.join(HERE, 'runs'),
                   help='folder for the checkpoint, the trained weights and metrics.json')
    p.add_argument('--resume', action='store_true', help='continue from OUT/checkpoint.pt')
    p.add_argument('--device', default='auto', help="'auto' (a GPU when there is one), 'cpu', 'cuda'")
    p.add_argument('--log-every', type=int, default=50, help='log every this many steps')
    p.add_argument('--save-every-rank', action='store_true',
                   help="also write each process's weights, to check that the replicas agree")
    return p.parse_args(argv)


# ---- data -------------------------------------------------------------------------------------

def _hash32(x):
    """Wiregrad's 32-bit integer finaliser (engine/core/random.ts)."""
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    return x ^ (x >> 16)


class HostRandom:
    """Wiregrad's seeded host stream (engine/data/host-random.ts): the same seed draws the same
    numbers as the engine, so the synthetic sets below hold the engine's points."""

    def __init__(self, seed):
        self.seed = seed & 0xFFFFFFFF
        self.key = _hash32((self.seed ^ 0x9E3779B9) & 0xFFFFFFFF)
        self.counter = 0

    def uniform(self):
        bits = _hash32(_hash32((self.counter + self.key) & 0xFFFFFFFF) ^ self.seed)
        self.counter += 1
        return bits * 2.0 ** -32

    def range(self, lo, hi):
        return lo + (hi - lo) * self.uniform()

    def normal(self):
        u1 = 1 - self.uniform()
        u2 = self.uniform()
        return math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2)


def _share(n, classes, j):
    return n // classes + (1 if j < n % classes else 0)


def _linspace(start, stop, count, i):
    return start if count == 1 else start + ((stop - start) * i) / (count - 1)


def _points(points, labels):
    return (torch.tensor(points, dtype=torch.float32).reshape(-1, 2),
            torch.tensor(labels, dtype=torch.int32))


def spiral(n, seed, classes=3, noise=0.2):
    rng, points, labels = HostRandom(seed), [], []
    for j in range(classes):
        count = _share(n, classes, j)
        for i in range(count):
            r = _linspace(0, 1, count, i)
            t = _linspace(4 * j, 4 * (j + 1), count, i) + noise * rng.normal()
            points.append((r * math.sin(t), r * math.cos(t)))
            labels.append(j)
    return _points(points, labels)


def moons(n, seed, noise=0.1):
    rng, points, labels = HostRandom(seed), [], []
    outer = n // 2
    inner = n - outer
    for i in range(outer):
        t = _linspace(0, math.pi, outer, i)
        points.append((math.cos(t) + noise * rng.normal(), math.sin(t) + noise * rng.normal()))
        labels.append(0)
    for i in range(inner):
        t = _linspace(0, math.pi, inner, i)
        points.append((1 - math.cos(t) + noise * rng.normal(), 0.5 - math.sin(t) + noise * rng.normal()))
        labels.append(1)
    return _points(points, labels)


def circles(n, seed, noise=0.05, factor=0.5):
    rng, points, labels = HostRandom(seed), [], []
    outer = n // 2
    for count, radius, label in ((outer, 1, 0), (n - outer, factor, 1)):
        for i in range(count):
            t = (2 * math.pi * i) / count
            points.append((radius * math.cos(t) + noise * rng.normal(),
                           radius * math.sin(t) + noise * rng.normal()))
            labels.append(label)
    return _points(points, labels)


def xor(n, seed, noise=0.0):
    rng, points, labels = HostRandom(seed), [], []
    for _ in range(n):
        a = rng.range(-1, 1)
        b = rng.range(-1, 1)
        points.append((a + noise * rng.normal(), b + noise * rng.normal()))
        labels.append(1 if (a > 0) != (b > 0) else 0)
    return _points(points, labels)


def gaussians(n, seed, classes=3, std=0.5, radius=2):
    rng, points, labels = HostRandom(seed), [], []
    for j in range(classes):
        angle = (2 * math.pi * j) / classes
        cx, cy = radius * math.cos(angle), radius * math.sin(angle)
        for _ in range(_share(n, classes, j)):
            points.append((cx + std * rng.normal(), cy + std * rng.normal()))
            labels.append(j)
    return _points(points, labels)


def sine(n, seed, noise=0.1, amplitude=1, range_=3):
    """A regression: x uniform in [-range_, range_], y = amplitude·sin(x) + noise, both [n, 1]."""
    rng, xs, ys = HostRandom(seed), [], []
    for _ in range(n):
        x = rng.range(-range_, range_)
        xs.append(x)
        ys.append(amplitude * math.sin(x) + noise * rng.normal())
    return (torch.tensor(xs, dtype=torch.float32).reshape(-1, 1),
            torch.tensor(ys, dtype=torch.float32).reshape(-1, 1))


SYNTHETIC = {'spiral': spiral, 'moons': moons, 'circles': circles, 'xor': xor, 'gaussians': gaussians,
             'sine': sine}


def read_idx(path):
    """An IDX file (the MNIST format), gzipped or not, as a uint8 tensor."""
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(rank)]
    return torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8).reshape(dims)


def idx_split(folder, prefix):
    def find(kind):
        for name in (f'{prefix}-{kind}', f'{prefix}-{kind}.gz'):
            if os.path.exists(os.path.join(folder, name)):
                return os.path.join(folder, name)
        raise SystemExit(f'no {prefix}-{kind}[.gz] in {folder}; pass --data-dir with the four '
                         'MNIST-format IDX files')
    images = read_idx(find('images-idx3-ubyte')).to(torch.float32) / 255
    labels = read_idx(find('labels-idx1-ubyte')).to(torch.int32)
    return images.reshape(-1, 1, 28, 28), labels


def random_split(n, seed):
    """Random tensors of the input shapes (labels in range), for graphs without a built-in set."""
    g = torch.Generator().manual_seed(seed)
    tensors = []
    for spec in INPUTS:
        shape = [n if d == -1 else d for d in spec['shape']]
        if spec['dtype'].is_floating_point:
            tensors.append(torch.randn(shape, generator=g).to(spec['dtype']))
        else:
            high = spec.get('classes', 2)
            tensors.append(torch.randint(0, high, shape, generator=g).to(spec['dtype']))
    return tensors


def to_inputs(x, y):
    """(data, labels) arranged as forward()'s inputs, the data reshaped to the declared shape."""
    data = [i for i, s in enumerate(INPUTS) if s['role'] == 'data']
    labels = [i for i, s in enumerate(INPUTS) if s['role'] == 'label']
    if len(data) != 1 or len(labels) != 1:
        raise SystemExit('this dataset gives one data and one label tensor, but the model takes '
                         f'{len(data)} data and {len(labels)} label inputs; use --dataset random')
    out = [None] * len(INPUTS)
    spec = INPUTS[data[0]]
    out[data[0]] = x.reshape([-1] + [d for d in spec['shape'][1:]]).to(spec['dtype'])
    label = INPUTS[labels[0]]
    out[labels[0]] = y.reshape([-1] + [d for d in label['shape'][1:]]).to(label['dtype'])
    return out


def load_dataset(args):
    """(train, test) TensorDatasets whose tensors are forward()'s inputs, in order."""
    if args.dataset in SYNTHETIC:
        # As \`wiregrad train\` draws them: 3,000 training and 1,000 test points.
        train = to_inputs(*SYNTHETIC[args.dataset](3000, args.seed))
        test = to_inputs(*SYNTHETIC[args.dataset](1000, args.seed + 1000003))
    elif args.dataset in ('mnist', 'fashion-mnist'):
        folder = args.data_dir or ('/usr/share/datasets/fashion-mnist'
                                   if args.dataset == 'fashion-mnist' else None)
        if folder is None:
            raise SystemExit('mnist: pass --data-dir, a folder with train-images-idx3-ubyte, '
                             'train-labels-idx1-ubyte, t10k-images-idx3-ubyte and '
                             't10k-labels-idx1-ubyte (each may be .gz)')
        train = to_inputs(*idx_split(folder, 'train'))
        test = to_inputs(*idx_split(folder, 't10k'))
    else:
        train = random_split(1024, args.seed)
        test = random_split(256, args.seed + 1000003)
    if args.train_limit is not None:
        train = [t[:args.train_limit] for t in train]
    if args.test_limit is not None:
        test = [t[:args.test_limit] for t in test]
    return TensorDataset(*train), TensorDataset(*test)


# ---- optimisation -----------------------------------------------------------------------------

def make_optimizer(parameters, args):
    o = TRAINING['optimizer']
    kind = args.optimizer
    if kind == 'sgd':
        return torch.optim.SGD(parameters, lr=args.lr, momentum=o.get('momentum', 0),
                               nesterov=o.get('nesterov', False),
                               weight_decay=o.get('weightDecay', 0))
    if kind == 'adam':
        return torch.optim.Adam(parameters, lr=args.lr, weight_decay=o.get('weightDecay', 0))
    return torch.optim.AdamW(parameters, lr=args.lr, weight_decay=o.get('weightDecay', 0.01))


def make_scheduler(optimizer, epochs):
    """The graph's schedule, stepped once per epoch as Wiregrad's trainer does."""
    s = TRAINING['schedule']
    if s['type'] == 'step':
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=s.get('stepSize', 10),
                                               gamma=s.get('gamma', 0.1))
    if s['type'] == 'cosine':
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs,
                                                          eta_min=s.get('etaMin', 0))
    return None


@torch.no_grad()
def evaluate(model, dataset, device, batch_size=500):
    """Mean loss and accuracy over a dataset (on one process, with the unwrapped model)."""
    model.eval()
    loss_sum, correct, squared, values, n = 0.0, 0, 0.0, 0, len(dataset)
    for batch in DataLoader(dataset, batch_size=batch_size):
        inputs = [t.to(device) for t in batch]
        out = model(*inputs)
        loss_sum += out['loss'].item() * inputs[0].shape[0]
        if ACCURACY_OUTPUT is not None and LABEL_INPUT is not None:
            pred = out[ACCURACY_OUTPUT].argmax(1)
            correct += (pred == inputs[LABEL_INPUT].long()).sum().item()
        if RMSE_OUTPUT is not None:
            error = out[RMSE_OUTPUT].reshape(-1) - inputs[TARGET_INPUT].reshape(-1).float()
            squared += (error * error).sum().item()
            values += error.numel()
    model.train()
    accuracy = correct / n if ACCURACY_OUTPUT is not None and LABEL_INPUT is not None else None
    metrics = {'test_loss': loss_sum / max(n, 1), 'test_accuracy': accuracy}
    if RMSE_OUTPUT is not None:
        metrics['test_rmse'] = math.sqrt(squared / max(values, 1))
    return metrics


# ---- processes --------------------------------------------------------------------------------

def setup_distributed(device_arg):
    """Joins the process group when torchrun started several processes (env WORLD_SIZE, RANK,
    LOCAL_RANK, MASTER_ADDR); under Ray Train the group already exists and is used as is.
    Returns (rank, world size, device, whether this script created the group)."""
    use_cuda = torch.cuda.is_available() if device_arg == 'auto' else device_arg.startswith('cuda')
    local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    if use_cuda:
        device = torch.device(device_arg if ':' in device_arg else f'cuda:{local_rank}')
        torch.cuda.set_device(device)
    else:
        device = torch.device('cpu')
    created = False
    if int(os.environ.get('WORLD_SIZE', '1')) > 1 and not dist.is_initialized():
        dist.init_process_group(backend='nccl' if use_cuda else 'gloo')
        created = True
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), device, created
    return 0, 1, device, created


def main(argv=None):
    args = parse_args(argv)
    rank, world, device, created = setup_distributed(args.device)
    log = print if rank == 0 else (lambda *a, **k: None)
    torch.manual_seed(args.seed)
    train_set, test_set = load_dataset(args)

    model = ${module.className}().to(device)
    if args.weights != 'none':
        # Every process starts from the same weights (DDP also broadcasts rank 0's).
        model.load_state_dict(load_safetensors(args.weights, device))
    net = model
    if world > 1:
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == 'cuda' else None,
                                      find_unused_parameters=FIND_UNUSED_PARAMETERS)
    optimizer = make_optimizer(model.parameters(), args)
    scheduler = make_scheduler(optimizer, args.epochs)
    os.makedirs(args.out, exist_ok=True)
    checkpoint = os.path.join(args.out, 'checkpoint.pt')
    first_epoch = 1
    if args.resume and os.path.exists(checkpoint):
        state = torch.load(checkpoint, map_location=device)
        model.load_state_dict(state['model'])
        optimizer.load_state_dict(state['optimizer'])
        if scheduler is not None and state.get('scheduler') is not None:
            scheduler.load_state_dict(state['scheduler'])
        first_epoch = state['epoch'] + 1
        log(f'resumed from {checkpoint} after epoch {state["epoch"]}')

    if args.batch_size < world:
        raise SystemExit(f'--batch-size {args.batch_size} is smaller than the {world} processes')
    per_process = args.batch_size // world
    sampler = (DistributedSampler(train_set, num_replicas=world, rank=rank, shuffle=True,
                                  seed=args.seed) if world > 1 else None)
    loader = DataLoader(train_set, batch_size=per_process, sampler=sampler,
                        shuffle=sampler is None,
                        generator=torch.Generator().manual_seed(args.seed) if sampler is None else None)
    log(f'training on {len(train_set)} examples ({args.dataset}), {world} process(es) on '
        f'{device.type}, batch {per_process * world} ({per_process} per process)')

    losses, step, metrics = [], 0, {}
    for epoch in range(first_epoch, args.epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        net.train()
        for batch in loader:
            loss = net(*[t.to(device) for t in batch])['loss']
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = loss.detach()
            if world > 1:
                # Log the mean over all processes: the loss of the whole global batch.
                dist.all_reduce(value)
                value = value / world
            losses.append(value.item())
            step += 1
            if step % args.log_every == 0:
                log(f'epoch {epoch} step {step} loss {losses[-1]:.4f}')
            if args.max_steps is not None and step >= args.max_steps:
                break
        if scheduler is not None:
            scheduler.step()
        if rank == 0:
            metrics = evaluate(model, test_set, device)
            accuracy = metrics['test_accuracy']
            log(f'epoch {epoch}/{args.epochs}  test_loss {metrics["test_loss"]:.4f}' +
                (f'  test_accuracy {100 * accuracy:.2f}%' if accuracy is not None else '') +
                (f'  test_rmse {metrics["test_rmse"]:.4f}' if 'test_rmse' in metrics else ''))
            torch.save({'epoch': epoch, 'model': model.state_dict(), 'optimizer': optimizer.state_dict(),
                        'scheduler': scheduler.state_dict() if scheduler is not None else None},
                       checkpoint)
        if args.max_steps is not None and step >= args.max_steps:
            break

    state = model.state_dict()
    if args.save_every_rank:
        save_safetensors(state, os.path.join(args.out, f'weights-rank{rank}.safetensors'))
    if rank == 0:
        save_safetensors(state, os.path.join(args.out, 'weights.safetensors'), {'format': 'pt'})
        save_safetensors({GRAPH_NODES[k]: v for k, v in state.items() if k in GRAPH_NODES},
                         os.path.join(args.out, 'weights.wiregrad.safetensors'))
        head = losses[:10]
        tail = losses[-10:]
        summary = {'world_size': world, 'steps': step, 'dataset': args.dataset,
                   'first_loss': sum(head) / max(len(head), 1),
                   'last_loss': sum(tail) / max(len(tail), 1), **metrics}
        with open(os.path.join(args.out, 'metrics.json'), 'w') as f:
            json.dump({**summary, 'losses': losses}, f)
        print(json.dumps({'final': summary}), flush=True)
    if created:
        # Leave together: a process that exits while another still talks to the group's
        # store can leave that one waiting.
        dist.barrier()
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
`;
}

/** The README of the exported folder: what each file is and how to run it. */
export function exportReadme(graph: Graph, module: PyTorchModule, dataset: string): string {
  const title = graph.name ?? 'Exported model';
  // MNIST comes from the user's IDX files; Debian's Fashion-MNIST folder is the default.
  const data = dataset === 'mnist' ? ' --data-dir MNIST_DIR' : '';
  return `# ${title} (PyTorch)

Exported by Wiregrad. Needs only PyTorch (1.13 or later).

| file | holds |
| --- | --- |
| \`model.py\` | \`${module.className}\`, an \`nn.Module\` with one line of \`forward()\` per graph node, and a safetensors reader/writer |
| \`weights.safetensors\` | the graph's weights under PyTorch's state-dict names |
| \`train.py\` | the graph's training settings, loss and data (\`${dataset}\`), for one process or torchrun |

\`\`\`python
from model import ${module.className}, load_safetensors
model = ${module.className}()
model.load_state_dict(load_safetensors('weights.safetensors'))
out = model(${module.inputs.map((i) => i.arg).join(', ')})  # a dict: ${module.outputs.join(', ')}
\`\`\`

\`\`\`sh
python train.py --epochs 5${data}                       # one process
torchrun --nproc_per_node 4 train.py${data}             # DistributedDataParallel (gloo on CPU, nccl on GPU)
torchrun --nnodes 2 --node_rank 0 --master_addr HOST --nproc_per_node 8 train.py${data}   # two machines
\`\`\`

\`--batch-size\` is the global batch. On Debian's PyTorch 1.13 with Python 3.11, torchrun needs
\`--redirects 1 --tee 1\` (its default of 0 trips over a Python 3.11 change in that version).
Inside Ray Train, call \`train.main([...])\` from the training function: it uses the process
group Ray has set up.
`;
}
