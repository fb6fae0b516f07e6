/**
 * electron-builder.yml is read by a tool that is not installed here, so these checks read it as
 * text: packages for the three desktop systems, the `.ipynb` association, and the built app.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const yml = readFileSync(new URL('../electron-builder.yml', import.meta.url), 'utf8');

/** The block of top-level key `key`: its line and the indented lines after it. */
function block(key: string): string {
  const match = new RegExp(`^${key}:.*(?:\\n(?:[ -].*|))*`, 'm').exec(yml);
  return match?.[0] ?? '';
}

describe('desktop packages', () => {
  it('are built for Linux, macOS and Windows', () => {
    expect(block('linux')).toMatch(/AppImage/);
    expect(block('linux')).toMatch(/deb/);
    expect(block('mac')).toMatch(/target: dmg/);
    expect(block('win')).toMatch(/target: nsis/);
  });

  it('open .ipynb notebooks', () => {
    const associations = block('fileAssociations');
    expect(associations).toMatch(/ext: ipynb/);
    expect(associations).toMatch(/mimeType: application\/x-ipynb\+json/);
    expect(associations).toMatch(/role: Editor/);
  });

  it('ship the built app with its ESM main', () => {
    expect(block('files')).toMatch(/out\/app\/\*\*/);
    expect(block('extraMetadata')).toMatch(/main: out\/app\/main\.mjs/);
  });
});
