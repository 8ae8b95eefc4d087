/**
 * Upload throughput alone (issue 11; `npm run bench` runs the same measurement beside the others):
 *   node --import tsx bench/upload-throughput.ts [--mib 64] [--rounds 5]
 * Target: the upload at >= 80% of cat+sha256sum (docs/performance.md has the figures).
 */
import { closeAgent } from './lib/http';
import { measureUploadThroughput } from './lib/measure-upload-throughput';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};

async function main(): Promise<void> {
  try {
    const r = await measureUploadThroughput({ mib: arg('mib', 64), rounds: arg('rounds', 5) });
    console.log(JSON.stringify({ mib: r.mib, rounds: r.rounds, client: r.client, uploadMiBps: r.uploadMiBps.map(Math.round), catSha256sumMiBps: r.catSha256sumMiBps.map(Math.round) }));
    console.log(`upload ${r.upload.toFixed(0)} MiB/s, cat+sha256sum ${r.catSha256sum.toFixed(0)} MiB/s: ${(100 * r.share).toFixed(0)}% (target >= 80%)`);
  } finally {
    closeAgent();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
