/**
 * The read rows of `npm run bench` alone (bench/lib/measure-reads.ts), to try a change quickly:
 *
 *   node --import tsx bench/reads-at-scale.ts [--builds 1000,50000] [--requests 50]
 */
import { measureReads } from './lib/measure-reads';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};

measureReads(
  { buildCounts: (arg('builds') ?? '1000,50000').split(',').map(Number), buildsPerModel: 10, requests: Number(arg('requests') ?? 50) },
  (line) => console.log(line),
).catch((err) => {
  console.error(err);
  process.exit(1);
});
