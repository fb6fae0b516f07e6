/**
 * Shared setup for the tests that drive a page in Debian's headless Chromium (test/e2e-app,
 * test/browser): a fresh temporary folder filled by the caller (by default the web-mode build of
 * the app, as `npm start` builds it), the project's static server on it (cross-origin isolated)
 * and Chromium launched through playwright-core with the flags CI needs. Chromium is required:
 * without it the start fails and says how to install it. `close()` undoes every step that ran,
 * each even when an earlier one fails; a start that fails part way undoes itself.
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { buildRenderer } from '../../scripts/build.mjs';
import { type StaticServer, serveStatic } from '../../scripts/serve.mjs';

export const CHROMIUM = '/usr/bin/chromium';

export interface AppBrowserOptions {
  /** Prefix of the temporary folder's name. */
  readonly prefix: string;
  /** Fills the served folder; the web-mode build of the app unless given. */
  readonly populate?: (dir: string) => Promise<void>;
  /** Chromium flags beyond the common ones (e.g. '--enable-unsafe-webgpu'). */
  readonly extraArgs?: readonly string[];
  /** What the error says when Chromium is missing (why it is needed, how to install it). */
  readonly missing?: string;
}

export interface AppBrowser {
  /** The served folder. */
  readonly dir: string;
  /** The server's root URL (ends in '/'). */
  readonly url: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function startAppBrowser(options: AppBrowserOptions): Promise<AppBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: ` +
        (options.missing ??
          "these tests drive the app in Debian's Chromium. " +
            'Install it with `sudo apt-get install chromium` (CI installs it).'),
    );
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  const dir = await mkdtemp(join(tmpdir(), options.prefix));
  const close = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    await server?.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await (options.populate ?? buildRenderer)(dir);
    server = await serveStatic({ root: dir, port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
        '--headless=new',
        ...(options.extraArgs ?? []),
      ],
    });
  } catch (e) {
    await close();
    throw e;
  }
  return { dir, url: server.url, browser, close };
}
