/**
 * WebGPU in Node: makes a `GPU` object with the `webgpu` package (Dawn) and hands it to the
 * engine's initWebGPU. On a machine without a GPU driver, Debian's `chromium` package brings
 * SwiftShader, a Vulkan implementation on the CPU; this file points the Vulkan loader at it
 * (VK_ICD_FILENAMES, unless the environment already chose a driver) and loads the Vulkan loader
 * library that chromium ships when the system has none (Dawn looks for `libvulkan.so.1`).
 * Without any adapter, initNodeWebGPU fails with "no WebGPU adapter: …" and what to install.
 */

import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { WiregradError } from '../core/errors.js';
import { type InitWebGPUOptions, type WebGPUBackend, initWebGPU } from '../backend/webgpu/index.js';

/** Where Debian's chromium keeps SwiftShader and its own Vulkan loader. */
const CHROMIUM_DIR = '/usr/lib/chromium';
export const SWIFTSHADER_ICD = `${CHROMIUM_DIR}/vk_swiftshader_icd.json`;
/** glibc's RTLD_NODELETE, which os.constants.dlopen does not list. */
const RTLD_NODELETE = 0x1000;

export interface NodeWebGPUOptions extends InitWebGPUOptions {
  /** Use chromium's SwiftShader when the environment names no Vulkan driver (default true). */
  readonly swiftShader?: boolean;
}

/** Initialises device 'webgpu' in Node. */
export async function initNodeWebGPU(options: NodeWebGPUOptions = {}): Promise<WebGPUBackend> {
  const loader = prepareVulkan(options.swiftShader ?? true);
  let create: (flags: string[]) => GPU;
  try {
    ({ create } = await import('webgpu'));
  } catch (e) {
    throw new WiregradError(
      `no WebGPU adapter: the 'webgpu' package (Dawn for Node) did not load: ` +
        `${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const hint =
    options.hint ??
    (loader === null
      ? 'no Vulkan loader (libvulkan.so.1) was found: install a GPU driver with Vulkan, or ' +
        "Debian's chromium package, whose SwiftShader runs WebGPU on the CPU"
      : `Vulkan loader ${loader}, VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}` +
        (existsSync(SWIFTSHADER_ICD)
          ? ''
          : `; ${SWIFTSHADER_ICD} is missing (apt install chromium)`));
  return initWebGPU(create([]), { ...options, hint });
}

/**
 * Points Vulkan at SwiftShader when asked and nothing else is configured, and makes sure a
 * Vulkan loader is loaded. Returns the loader found, or null.
 */
function prepareVulkan(swiftShader: boolean): string | null {
  if (process.platform !== 'linux') return 'system';
  const env = process.env;
  if (swiftShader && !env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES && existsSync(SWIFTSHADER_ICD))
    env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  // The library path cannot be changed after start-up, but a library that is already loaded
  // satisfies a later dlopen of its soname: load the system loader, else chromium's copy, and
  // keep it loaded (RTLD_NODELETE) although process.dlopen rejects it as "not a Node addon".
  const flags = constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE;
  for (const candidate of ['libvulkan.so.1', `${CHROMIUM_DIR}/libvulkan.so.1`]) {
    try {
      process.dlopen({ exports: {} }, candidate, flags);
      return candidate;
    } catch (e) {
      if (e instanceof Error && e.message.includes('did not self-register')) return candidate;
    }
  }
  return null;
}
