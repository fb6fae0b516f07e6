/**
 * Shared setup for the tests that drive a page in Debian's headless Chromium (test/e2e-app,
 * test/browser): a fresh temporary folder filled by the caller (by default the web-mode build of
 * the app, as `npm start` builds it), the project's static server on it (cross-origin isolated)
 * and Chromium launched through playwright-core with the flags CI needs. Chromium is required:
 * without it the start fails and says how to install it. `close()` undoes every step that ran,
 * each even when an earlier one fails; a start that fails part way undoes itself.
 *
 * For test/e2e-app, `openAppPage` opens the app in a fresh browser context and waits for its
 * engine, collecting the page's errors; `useAppSession` registers the hooks a test file needs
 * (start and close the browser, open a page before each test, expect no page errors and close
 * it after). The page-callback types and the small waits below are shared by those files.
 */

import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';
import { buildRenderer } from '../../scripts/build.mjs';
import { type StaticServer, serveStatic } from '../../scripts/serve.mjs';

export { CHROMIUM };

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
      args: [...CHROMIUM_ARGS, ...(options.extraArgs ?? [])],
    });
  } catch (e) {
    await close();
    throw e;
  }
  return { dir, url: server.url, browser, close };
}

/** The browser window of the app tests, unless a test file asks for another. */
export const APP_VIEWPORT = { width: 1440, height: 900 } as const;

export interface AppPageOptions {
  readonly viewport?: { readonly width: number; readonly height: number };
  readonly acceptDownloads?: boolean;
  /** Permissions granted to the app's origin before the page opens (e.g. 'clipboard-read'). */
  readonly permissions?: readonly string[];
  /** Runs in the page before the app's scripts (an init script). */
  readonly init?: () => void;
  /** Console errors whose text matches are not collected (reports the browser makes by design). */
  readonly ignoreConsole?: RegExp;
}

/** A page of the app, its engine ready. */
export interface AppPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** The page's uncaught errors and console errors so far; a test may drop ones it expects. */
  errors: string[];
}

/** Collects `page`'s uncaught errors and console errors (less `ignoreConsole`'s) as they come. */
export function collectPageErrors(page: Page, ignoreConsole?: RegExp): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !ignoreConsole?.test(message.text()))
      errors.push(message.text());
  });
  return errors;
}

/** Waits until the app's status bar says the engine is ready. */
export async function waitForEngine(page: Page): Promise<void> {
  await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
}

/** Opens the app in another page of `context` and waits for its engine. */
export async function openAppTab(
  app: AppBrowser,
  context: BrowserContext,
  options: Pick<AppPageOptions, 'init' | 'ignoreConsole'> = {},
): Promise<AppPage> {
  const page = await context.newPage();
  const errors = collectPageErrors(page, options.ignoreConsole);
  if (options.init) await page.addInitScript(options.init);
  await page.goto(app.url);
  await waitForEngine(page);
  return { context, page, errors };
}

/** Opens the app in a fresh browser context (empty storage) and waits for its engine. */
export async function openAppPage(app: AppBrowser, options: AppPageOptions = {}): Promise<AppPage> {
  const context = await app.browser.newContext({
    viewport: options.viewport ?? APP_VIEWPORT,
    acceptDownloads: options.acceptDownloads,
  });
  try {
    if (options.permissions)
      await context.grantPermissions([...options.permissions], { origin: app.url });
    return await openAppTab(app, context, options);
  } catch (e) {
    await context.close();
    throw e;
  }
}

/** Expects that the page had no errors, then closes its context. */
export async function closeAppPage(opened: AppPage): Promise<void> {
  try {
    expect(opened.errors).toEqual([]);
  } finally {
    await opened.context.close();
  }
}

export interface AppSessionOptions extends AppBrowserOptions, AppPageOptions {
  /** How long building, serving and launching may take, in ms (60 s unless given). */
  readonly startTimeout?: number;
  /** Whether each test starts on a freshly opened page (the default); else tests call open(). */
  readonly openEach?: boolean;
  /** The timeout of the check and close after each test, in ms (vitest's default unless given). */
  readonly closeTimeout?: number;
  /** Called with each page `open()` opens, before the test starts on it. */
  readonly onOpen?: (opened: AppPage) => void | Promise<void>;
}

/** The app of a test file and the page of its current test. */
export interface AppSession {
  /** The served build and the browser (from before the file's first test). */
  readonly app: AppBrowser;
  /** The current test's page; its errors are the ones expected empty after the test. */
  readonly current: AppPage;
  /** Opens a fresh page (the session's options, then `options`) and makes it the current one. */
  open(options?: AppPageOptions): Promise<AppPage>;
  /** Opens another page in the current context; from then on its errors are the ones checked. */
  openTab(): Promise<Page>;
}

/**
 * Registers a test file's hooks: the browser starts before the first test and closes after the
 * last; before each test a fresh page opens (unless `openEach` is false); after each test the
 * current page's errors are expected empty and its context closes.
 */
export function useAppSession(options: AppSessionOptions): AppSession {
  let app: AppBrowser | undefined;
  let current: AppPage | undefined;
  const session: AppSession = {
    get app() {
      if (!app) throw new Error('the app browser is not started (used outside a test?)');
      return app;
    },
    get current() {
      if (!current) throw new Error('no page of the app is open');
      return current;
    },
    async open(extra = {}) {
      current = await openAppPage(session.app, { ...options, ...extra });
      await options.onOpen?.(current);
      return current;
    },
    async openTab() {
      current = await openAppTab(session.app, session.current.context, options);
      return current.page;
    },
  };
  beforeAll(async () => {
    app = await startAppBrowser(options);
  }, options.startTimeout ?? 60_000);
  afterAll(() => app?.close());
  if (options.openEach ?? true)
    beforeEach(async () => {
      await session.open();
    });
  afterEach(async () => {
    const opened = current;
    current = undefined;
    if (opened) await closeAppPage(opened);
  }, options.closeTimeout);
  return session;
}

/** Page callbacks run in the page, so these files (checked without DOM types) describe what
 * they reach there. */
export interface ElementLike {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}

export interface DocumentLike {
  querySelector(selector: string): ElementLike | null;
  querySelectorAll(selector: string): ArrayLike<ElementLike>;
}

/** The page's globals: its document and the app's debugging hooks. */
export interface AppGlobals {
  readonly document: DocumentLike;
  readonly wiregradDebug?: {
    documentText(): string;
    revisions(): { document: number; analysis: number };
  };
}

/** Waits until the engine has analysed the current document. */
export async function waitForAnalysis(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const r = (globalThis as unknown as AppGlobals).wiregradDebug?.revisions();
    return r !== undefined && r.document === r.analysis;
  });
}

/** The current document's text, as the app would save it. */
export function documentText(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as unknown as AppGlobals).wiregradDebug!.documentText());
}

/** Opens template `name` from the toolbar and waits for node `node` and its analysis. */
export async function loadTemplate(page: Page, name: string, node = 'loss'): Promise<void> {
  await page.getByTestId('templates-menu').click();
  await page.getByTestId(`template-${name}`).click();
  await page.getByTestId(`node-${node}`).waitFor();
  await waitForAnalysis(page);
}

/** Opens the Train panel on data set `dataset`. */
export async function openTrainPanel(page: Page, dataset: string): Promise<void> {
  await page.getByTestId('tab-train').click();
  await page.getByTestId('dataset-select').selectOption(dataset);
}

/** Types `value` into the field `testId` and presses Enter, as a user sets a number. */
export async function setField(page: Page, testId: string, value: string): Promise<void> {
  const field = page.getByTestId(testId);
  await field.fill(value);
  await field.press('Enter');
}

/** The text of the element `testId` ('' when it has none). */
export async function textOf(page: Page, testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

/** An init script: the app as in browsers without the File System Access API's pickers, where
 * it saves by download and opens by upload. */
export function withoutFilePickers(): void {
  const w = globalThis as unknown as Record<string, unknown>;
  delete w.showSaveFilePicker;
  delete w.showOpenFilePicker;
}

/** Where screenshots go when WIREGRAD_SCREENSHOTS names a folder (for looking at the UI). */
const SCREENSHOTS = process.env.WIREGRAD_SCREENSHOTS;

/** Saves `<name>.png` of the page (or of element `testId`) when WIREGRAD_SCREENSHOTS is set. */
export async function screenshot(page: Page, name: string, testId?: string): Promise<void> {
  if (!SCREENSHOTS) return;
  const path = join(SCREENSHOTS, `${name}.png`);
  if (testId) await page.getByTestId(testId).screenshot({ path });
  else await page.screenshot({ path });
}

/** What `waitForNumber` waits for: a number `atLeast` or `above` a bound, read from the element's
 * text or from `attribute`, within `timeout` ms (Playwright's default unless given). */
export type NumberWait = ({ readonly atLeast: number } | { readonly above: number }) & {
  readonly attribute?: string;
  readonly timeout?: number;
};

/** Waits until the number the element `selector` shows passes `wait`'s bound, e.g. a training
 * step count, a metric, or a chart's point count past an earlier one. */
export async function waitForNumber(page: Page, selector: string, wait: NumberWait): Promise<void> {
  const above = 'above' in wait;
  await page.waitForFunction(
    ({ s, a, bound, strict }) => {
      const el = (globalThis as unknown as AppGlobals).document.querySelector(s);
      const value = Number(a === null ? el?.textContent : el?.getAttribute(a));
      return strict ? value > bound : value >= bound;
    },
    {
      s: selector,
      a: wait.attribute ?? null,
      bound: above ? wait.above : wait.atLeast,
      strict: above,
    },
    wait.timeout === undefined ? {} : { timeout: wait.timeout },
  );
}

/** The gradient norm on each canvas edge that has one, as numbers. */
export function edgeGradNorms(page: Page): Promise<number[]> {
  return page.evaluate(() =>
    Array.from(
      (globalThis as unknown as AppGlobals).document.querySelectorAll(
        '.react-flow__edge-path[data-grad-norm]',
      ),
    ).map((e) => Number(e.getAttribute('data-grad-norm'))),
  );
}

/** Stops training from the Train panel and waits until it has stopped (or had just finished). */
export async function stopTraining(page: Page): Promise<void> {
  const stop = page.getByTestId('train-stop');
  // A short run may finish first, which disables Stop: then there is nothing to click.
  if (await stop.isEnabled()) await stop.click({ timeout: 5_000 }).catch(() => undefined);
  await page
    .getByTestId('train-status')
    .filter({ hasText: /Stopped|Done/ })
    .waitFor();
}
