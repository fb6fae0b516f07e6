/**
 * Benchmark entry point: `npm run bench -- <suite>`. Suites print a table to stderr and JSON
 * lines to stdout (`{"bench","case","ours_ms","anchor","anchor_ms","ratio"}`).
 */

const suites: Record<string, () => Promise<{ main(): Promise<void> }>> = {
  cpu: () => import('./cpu.js'),
};

const name = process.argv[2] ?? 'cpu';
const load = suites[name];
if (!load) {
  process.stderr.write(`unknown suite '${name}'; available: ${Object.keys(suites).join(', ')}\n`);
  process.exit(2);
}
await (await load()).main();
