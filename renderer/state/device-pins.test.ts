import { describe, expect, it } from 'vitest';
import { documentFromFile, documentToFile, type EditorDocument } from './document.js';
import { devicePinOf, setDevice } from './device-pins.js';
import { TEMPLATES } from './templates.js';

const mlp = (): EditorDocument => TEMPLATES.find((t) => t.name === 'mlp')!.build();

describe('device pins', () => {
  it('pins a whole layer (its ops and parameters) and unpins it again', () => {
    const doc = mlp();
    const members = ['fc1.weight', 'fc1.bias', 'fc1'];
    expect(devicePinOf(doc, members)).toBe('auto');
    const pinned = setDevice(doc, { nodes: members, device: 'cpu', label: 'fc1' })!;
    expect(pinned.label).toBe('Run fc1 on cpu');
    expect(devicePinOf(pinned.doc, members)).toBe('cpu');
    expect(pinned.doc.graph.nodes.filter((n) => n.device !== undefined).map((n) => n.id)).toEqual(
      members,
    );
    // Other nodes keep their identity.
    const relu = doc.graph.nodes.find((n) => n.id === 'relu1');
    expect(pinned.doc.graph.nodes.find((n) => n.id === 'relu1')).toBe(relu);
    // The pin is saved with the document and read back.
    expect(documentFromFile(JSON.parse(JSON.stringify(documentToFile(pinned.doc))))).toEqual(
      pinned.doc,
    );
    const unpinned = setDevice(pinned.doc, { nodes: members, device: 'auto', label: 'fc1' })!;
    expect(unpinned.label).toBe('Unpin fc1');
    expect(unpinned.doc.graph.nodes.every((n) => !('device' in n))).toBe(true);
    expect(unpinned.doc).toEqual(doc);
  });

  it('changes nothing when the nodes already run there, and shows mixed pins as null', () => {
    const doc = mlp();
    expect(setDevice(doc, { nodes: ['relu1'], device: 'auto', label: 'relu1' })).toBeNull();
    const one = setDevice(doc, { nodes: ['relu1'], device: 'webgpu', label: 'relu1' })!.doc;
    expect(setDevice(one, { nodes: ['relu1'], device: 'webgpu', label: 'relu1' })).toBeNull();
    expect(devicePinOf(one, ['relu1', 'relu2'])).toBeNull();
  });
});
