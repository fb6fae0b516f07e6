import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, VERSION_ARGUMENT, mainWindowOptions } from './window-options.js';

describe('main window options', () => {
  const options = mainWindowOptions('/app/preload.cjs', '1.2.3');

  it('isolates the renderer: context isolation on, Node integration off, sandbox on', () => {
    expect(options.webPreferences.contextIsolation).toBe(true);
    expect(options.webPreferences.nodeIntegration).toBe(false);
    expect(options.webPreferences.sandbox).toBe(true);
    expect(options.webPreferences.webSecurity).toBe(true);
    expect(options.webPreferences.webviewTag).toBe(false);
  });

  it('passes the preload path and the app version to the preload', () => {
    expect(options.webPreferences.preload).toBe('/app/preload.cjs');
    expect(options.webPreferences.additionalArguments).toEqual([`${VERSION_ARGUMENT}1.2.3`]);
  });
});

describe('content security policy', () => {
  const directives = new Map(
    CONTENT_SECURITY_POLICY.split(';').map((directive) => {
      const [name = '', ...sources] = directive.trim().split(/\s+/);
      return [name, sources] as const;
    }),
  );

  it('denies everything by default and allows only the app itself', () => {
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    for (const [name, sources] of directives) {
      for (const source of sources) {
        expect(source, `${name} allows ${source}`).toMatch(
          /^('none'|'self'|'wasm-unsafe-eval'|data:|blob:)$/,
        );
      }
    }
  });

  it('allows no inline script and no eval', () => {
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(CONTENT_SECURITY_POLICY).not.toContain("'unsafe-inline'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("'unsafe-eval'");
  });

  it('is the policy in the renderer page', () => {
    const html = readFileSync(new URL('../renderer/index.html', import.meta.url), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html);
    expect(meta?.[1]).toBe(CONTENT_SECURITY_POLICY);
  });
});
