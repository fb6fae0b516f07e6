/**
 * Renderer entry: the same page runs in Electron (behind the preload's `window.wiregrad`) and
 * in a plain browser (web mode). For now it only reports which host it is in and whether the
 * page is cross-origin isolated, which the engine needs for shared memory between CPU lanes.
 * It becomes the React app later.
 */

interface DesktopBridge {
  readonly version: string;
}

declare global {
  interface Window {
    /** Set by electron/preload.ts; absent in web mode. */
    readonly wiregrad?: DesktopBridge;
  }
}

function describeHost(): string {
  const host = window.wiregrad ? `desktop ${window.wiregrad.version}` : 'web';
  const memory = window.crossOriginIsolated ? 'shared memory available' : 'no shared memory';
  return `Host: ${host}; ${memory}.`;
}

const status = document.getElementById('host-status');
if (status) status.textContent = describeHost();
