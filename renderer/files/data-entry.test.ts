import { describe, expect, it } from 'vitest';
import {
  type EditorDocument,
  emptyDocument,
  parseDocument,
  serializeDocument,
} from '../state/document.js';
import {
  type DataEntry,
  type DocumentData,
  autosaveText,
  dataEntryFor,
  dataNotice,
  readDataEntry,
  withDataEntry,
  withoutDocumentData,
  withoutText,
} from './data-entry.js';
import { parseModel, serializeModel } from './model-file.js';
import { withWeightsRef } from './weights-ref.js';

const doc: EditorDocument = {
  graph: {
    ...emptyDocument('Iris').graph,
    nodes: [
      { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 4], dtype: 'f32', role: 'data' } },
    ],
  },
  layout: { x: { x: 10, y: 20 } },
};

const csvText = 'sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n';
const data: DocumentData = {
  csv: { name: 'iris.csv', text: csvText, target: 'species' },
  source: 'csv',
};

/** The notebook's `metadata.wiregrad` as parsed from its text. */
function wiregradOf(text: string): Record<string, unknown> {
  return (JSON.parse(text) as { metadata: { wiregrad: Record<string, unknown> } }).metadata
    .wiregrad;
}

describe('the data kept in a notebook', () => {
  it('round-trips the uploaded CSV, its target and source through metadata.wiregrad.data', async () => {
    const entry = await dataEntryFor(data);
    const text = withDataEntry(serializeModel(doc), entry);
    const kept = wiregradOf(text).data as DataEntry;
    expect(kept.source).toBe('csv');
    expect(kept.csv).toMatchObject({ name: 'iris.csv', target: 'species', text: csvText });
    expect(kept.csv.bytes).toBe(new TextEncoder().encode(csvText).byteLength);
    expect(kept.csv.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The notebook still opens as the same model, and its data comes back.
    expect(parseModel(text).doc).toEqual(doc);
    expect(await readDataEntry(text)).toEqual({ kind: 'restored', data });
  });

  it('keeps the data beside a weights record, and non-ASCII text byte for byte', async () => {
    const unicode: DocumentData = {
      csv: { name: 'städte.csv', text: 'stadt,einwohner\nKöln,1084831\n東京,13960000\n' },
      source: 'builtin',
    };
    const ref = { file: 'm.safetensors', step: 3, bytes: 10, sha256: 'a'.repeat(64) };
    const text = withWeightsRef(
      withDataEntry(serializeModel(doc), await dataEntryFor(unicode)),
      ref,
    );
    expect(wiregradOf(text).weights).toEqual(ref);
    expect(await readDataEntry(text)).toEqual({ kind: 'restored', data: unicode });
  });

  it('records a CSV over the cap by name, size and checksum only, and says to upload it again', async () => {
    const entry = await dataEntryFor(data, 16);
    expect(entry?.csv.text).toBeUndefined();
    expect(entry?.csv.omitted).toBe('too-large');
    const text = withDataEntry(serializeModel(doc), entry);
    expect(text).not.toContain('setosa');
    const read = await readDataEntry(text);
    expect(read).toEqual({
      kind: 'too-large',
      name: 'iris.csv',
      bytes: new TextEncoder().encode(csvText).byteLength,
      source: 'csv',
    });
    expect(dataNotice(read, 'notebook')).toBe(
      `its CSV iris.csv (${new TextEncoder().encode(csvText).byteLength} bytes) was too large to keep in the notebook: upload it again in the ` +
        'Data tab',
    );
    // At the cap exactly, the text is kept.
    const atCap = await dataEntryFor(data, new TextEncoder().encode(csvText).byteLength);
    expect(atCap?.csv.text).toBe(csvText);
    expect(withoutText(atCap!).csv).not.toHaveProperty('text');
  });

  it('reports a damaged entry by name and still opens the model', async () => {
    const entry = (await dataEntryFor(data))!;
    const edited = { ...entry, csv: { ...entry.csv, text: csvText.replace('5.1', '9.9') } };
    const text = withDataEntry(serializeModel(doc), edited);
    expect(parseModel(text).doc).toEqual(doc);
    const read = await readDataEntry(text);
    expect(read.kind).toBe('damaged');
    expect(dataNotice(read, 'notebook')).toBe(
      'its CSV was not restored: iris.csv does not match its saved size and SHA-256 (changed ' +
        'outside Wiregrad); upload it again in the Data tab',
    );
    const cutShort = { ...entry, csv: { ...entry.csv, text: csvText.slice(0, 20) } };
    expect((await readDataEntry(withDataEntry(serializeModel(doc), cutShort))).kind).toBe(
      'damaged',
    );
  });

  it.each([
    ['a string', 'iris.csv', /not an object/],
    ['an unknown source', { source: 'url', csv: {} }, /unknown source "url"/],
    ['no csv', { source: 'csv' }, /no "csv" object/],
    [
      'no name',
      { source: 'csv', csv: { bytes: 1, sha256: 'a'.repeat(64), text: 'a' } },
      /no file name/,
    ],
    [
      'a bad checksum',
      { source: 'csv', csv: { name: 'a.csv', bytes: 1, sha256: 'xyz', text: 'a' } },
      /checksum recorded for a\.csv is not a SHA-256/,
    ],
    [
      'no text',
      { source: 'csv', csv: { name: 'a.csv', bytes: 1, sha256: 'a'.repeat(64) } },
      /text of a\.csv is missing/,
    ],
    [
      'a fractional size',
      { source: 'csv', csv: { name: 'a.csv', bytes: 1.5, sha256: 'a'.repeat(64), text: 'a' } },
      /size recorded for a\.csv/,
    ],
  ])('names the problem of a malformed entry: %s', async (_what, entry, problem) => {
    const notebook = JSON.parse(serializeModel(doc)) as {
      metadata: { wiregrad: Record<string, unknown> };
    };
    notebook.metadata.wiregrad.data = entry;
    const read = await readDataEntry(JSON.stringify(notebook));
    expect(read.kind).toBe('damaged');
    expect(read.kind === 'damaged' && read.problem).toMatch(problem);
  });

  it('reads no data from a notebook without an entry, a graph document or text that is not JSON', async () => {
    const plain = serializeModel(doc);
    expect(await readDataEntry(plain)).toEqual({ kind: 'none' });
    expect(await readDataEntry(serializeDocument(doc))).toEqual({ kind: 'none' });
    expect(await readDataEntry('{"cells": [')).toEqual({ kind: 'none' });
    expect(dataNotice({ kind: 'none' }, 'notebook')).toBeNull();
    expect(await dataEntryFor({ csv: null, source: 'builtin' })).toBeNull();
    // Nothing to remove: the text is left exactly as it was.
    expect(withDataEntry(plain, null)).toBe(plain);
  });

  it('removes an entry when the document has no data any more', async () => {
    const withData = withDataEntry(serializeModel(doc), await dataEntryFor(data));
    const without = withDataEntry(withData, null);
    expect(wiregradOf(without)).not.toHaveProperty('data');
    expect(await readDataEntry(without)).toEqual({ kind: 'none' });
  });
});

describe('the data kept with the autosaved document', () => {
  it('is the plain graph document without data, and carries meta.data with it', async () => {
    expect(autosaveText(doc, null)).toBe(serializeDocument(doc));
    const text = autosaveText(doc, await dataEntryFor(data));
    expect(await readDataEntry(text)).toEqual({ kind: 'restored', data });
    // The graph comes back without the entry; the data goes to the Data tab.
    const restored = withoutDocumentData(parseDocument(text));
    expect(restored).toEqual(doc);
    expect(withoutDocumentData(doc)).toBe(doc);
    // Another meta field stays.
    const noted = { ...doc, graph: { ...doc.graph, meta: { note: 'n' } } };
    const back = withoutDocumentData(parseDocument(autosaveText(noted, await dataEntryFor(data))));
    expect(back.graph.meta).toEqual({ note: 'n' });
  });

  it('says when the CSV was too large for the autosave', async () => {
    const text = autosaveText(doc, withoutText((await dataEntryFor(data))!));
    expect(dataNotice(await readDataEntry(text), 'autosave')).toMatch(
      /^its CSV iris\.csv \(\d+ bytes\) was too large to keep with the autosaved work: upload it again/,
    );
  });
});
