#!/usr/bin/env bash
# Prepares the GPU benchmark for a Linux server with an NVIDIA GPU but no Node and no network
# (docs/gpu-bench.md, /work/shared/GPU.md), in git-ignored folders of the project root:
#   .gl/                     the Vulkan loader and GL dispatch libraries from Debian (amd64 .debs)
#   .devpack/node.xz         this machine's node binary, xz-compressed
#   .devpack/bench.mjs       bench/run.ts bundled by esbuild, with 'webgpu' left external
#   .devpack/webgpu.tar.xz   node_modules/webgpu with only dist/linux-x64 (Dawn for x86-64 Linux)
# and prints the one-line command to run there. Both folders together must stay under the
# device tool's 64 MiB carry limit (about 40 MiB in all). Run from anywhere: `scripts/pack-gpu.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

for dir in .gl/ .devpack/; do
  grep -qx "$dir" .gitignore || { echo "pack-gpu: add '$dir' to .gitignore first" >&2; exit 1; }
done

# `--bundle-only`: rebuild only the bundle, keeping .gl and node.xz from an earlier run.
bundle_only=false
if [ "${1:-}" = --bundle-only ] && [ -d .gl ] && [ -f .devpack/node.xz ]; then bundle_only=true; fi

if ! $bundle_only; then
# The Vulkan loader and friends, amd64 whatever this machine is (the GPU server is x86-64).
rm -rf .gl && mkdir -p .gl /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086 # $o holds several options on purpose
apt-get $o update >/dev/null
# shellcheck disable=SC2086
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)

rm -rf .devpack && mkdir -p .devpack
node_bin="$(readlink -f "$(command -v node)")"
xz -T2 -c "$node_bin" >.devpack/node.xz
fi

# The bundle. bench/anchors/tfjs-webgpu.ts loads tfjs with createRequire (tfjs's ES module
# build does not resolve under Node's ESM loader); esbuild does not follow such a require, so
# for the bundle the createRequire line is dropped and the plain require calls are bundled.
# The CPU anchors (tfjs-wasm, jax-js, PyTorch) stay out: the gpu suite never loads them.
node --input-type=module <<'EOF'
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

const bundleRequires = {
  name: 'bundle-create-require',
  setup(b) {
    // The canvas suite drives a browser; the GPU machine has none: a stub that says so.
    b.onResolve({ filter: /^playwright-core$/ }, () => ({ path: 'playwright-core', namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
      contents:
        "const no = () => { throw new Error('this bundle has no browser: run the canvas suite from the project'); };" +
        'export const chromium = { launch: no };',
      loader: 'js',
    }));
    b.onLoad({ filter: /bench[\\/]anchors[\\/]tfjs-webgpu\.ts$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const contents = src
        .replace(/^import \{ createRequire \} from 'node:module';$/m, '')
        .replace(/^const require = createRequire\(import\.meta\.url\);$/m, '');
      if (contents === src) throw new Error(`${args.path}: the createRequire lines moved`);
      return { contents, loader: 'ts' };
    });
  },
};
await build({
  entryPoints: ['bench/run.ts'],
  outfile: '.devpack/bench.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu', '@jax-js/*', '@tensorflow/tfjs-backend-wasm'],
  // Bundled CommonJS (tfjs) calls require for Node built-ins: give the module one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [bundleRequires],
  logLevel: 'warning',
});
EOF

# Every file of the package except the other platforms' Dawn builds (about 20 MiB each).
find node_modules/webgpu \( -path 'node_modules/webgpu/dist/*' ! -path '*/dist/linux-x64*' \) \
  -prune -o -type f -print | tar cJf .devpack/webgpu.tar.xz -T -

du -sh .gl .devpack >&2
cat <<'EOF'
# On the GPU machine, in the project root (carry .gl and .devpack):
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; xz -dc .devpack/node.xz >/tmp/node && chmod +x /tmp/node && tar xJf .devpack/webgpu.tar.xz && /tmp/node .devpack/bench.mjs gpu
EOF
