/**
 * Debian's Chromium and the flags every headless launch here uses (no sandbox as root, nothing
 * fetched from the network, no first-run work). Shared by the browser tests
 * (test/helpers/app-browser.ts) and the canvas benchmark, so it imports no test runner.
 */

export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--headless=new',
];
