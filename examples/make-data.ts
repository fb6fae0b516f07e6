/**
 * Writes the small synthetic CSV files in examples/data: `node --import tsx
 * examples/make-data.ts`. Both are seeded, so the files never change unless this script does.
 *
 * - houses.csv (regression, target `price` in units of 100,000): floor area, rooms, age and a
 *   district (text); the price is a linear function of them plus Gaussian noise of 0.1, so a
 *   good model's RMSE approaches 0.1.
 * - fruit.csv (classification, target `fruit`: apple, orange or pear): weight, diameter,
 *   sweetness, acidity and a colour (text), drawn per class from overlapping Gaussians.
 */

import { writeFileSync, mkdirSync } from 'node:fs';
import { HostRandom } from '../engine/data/host-random.js';

const dir = new URL('./data/', import.meta.url);
mkdirSync(dir, { recursive: true });
const round = (v: number, digits: number) => Number(v.toFixed(digits));

{
  const r = new HostRandom(7);
  const districts: Record<string, number> = { north: 0.5, south: -0.2, east: 0.1, west: 0 };
  const names = Object.keys(districts);
  const lines = ['area,rooms,age,district,price'];
  for (let i = 0; i < 400; i++) {
    const area = round(r.range(40, 200), 1);
    const rooms = Math.max(1, Math.min(8, Math.round(area / 30 + r.normal() * 0.7)));
    const age = Math.floor(r.range(0, 80));
    const district = names[r.int(names.length)]!;
    const price =
      0.8 + 0.02 * area + 0.15 * rooms - 0.01 * age + districts[district]! + 0.1 * r.normal();
    lines.push(`${area},${rooms},${age},${district},${round(price, 3)}`);
  }
  writeFileSync(new URL('houses.csv', dir), lines.join('\n') + '\n');
}

{
  const r = new HostRandom(11);
  // Per class: mean and deviation of weight (g), diameter (cm), sweetness and acidity (0-10),
  // and the odds of each colour.
  const classes = {
    apple: { mean: [170, 7.5, 6.5, 4.0], std: [25, 0.6, 1.2, 1.0], colours: [0.6, 0.3, 0.1] },
    orange: { mean: [200, 8.0, 5.5, 6.5], std: [30, 0.6, 1.2, 1.0], colours: [0.05, 0.1, 0.85] },
    pear: { mean: [180, 6.8, 7.0, 3.0], std: [25, 0.5, 1.2, 1.0], colours: [0.1, 0.8, 0.1] },
  };
  const colourNames = ['red', 'green', 'orange'];
  const lines = ['weight,diameter,sweetness,acidity,colour,fruit'];
  const names = Object.keys(classes) as (keyof typeof classes)[];
  for (let i = 0; i < 450; i++) {
    const name = names[i % names.length]!;
    const c = classes[name];
    const v = c.mean.map((m, k) => round(m + c.std[k]! * r.normal(), 2));
    const u = r.uniform();
    const colour = colourNames[u < c.colours[0]! ? 0 : u < c.colours[0]! + c.colours[1]! ? 1 : 2]!;
    lines.push(`${v.join(',')},${colour},${name}`);
  }
  writeFileSync(new URL('fruit.csv', dir), lines.join('\n') + '\n');
}
