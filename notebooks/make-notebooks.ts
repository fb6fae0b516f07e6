/**
 * Writes the example notebooks of this folder (`<name>.ipynb`) from notebook-sources.ts:
 *
 *   node --import tsx notebooks/make-notebooks.ts
 *
 * Run it after changing a notebook's cells or the file format; notebooks.test.ts fails while a
 * file differs from what this would write.
 */

import { writeFileSync } from 'node:fs';
import { EXAMPLE_NOTEBOOKS, notebookFileText } from './notebook-sources.js';

for (const nb of EXAMPLE_NOTEBOOKS) {
  const file = new URL(`${nb.file}.ipynb`, import.meta.url);
  writeFileSync(file, notebookFileText(nb));
  console.log(`wrote notebooks/${nb.file}.ipynb (${nb.cells.length} cells)`);
}
