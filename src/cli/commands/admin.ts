/** `kiln admin gc`: farm administration (admin token). */
import type { Command } from 'commander';
import type { GcReport } from '../api-types';
import { contextOf, type Io } from '../context';
import { UsageError } from '../errors';
import { fields, formatBytes } from '../format';

export function registerAdmin(program: Command, io: Io): void {
  const admin = program.command('admin').description('Farm administration (admin token)');

  admin
    .command('gc')
    .description('Run the garbage collector now: retention, stored files no manifest lists, stale temp files, dead work directories')
    .option('--grace <seconds>', 'keep unreferenced stored files younger than this (Default: the farm\'s KILN_GC_GRACE_SECONDS); 0 only when no build is publishing')
    .action(async (opts: { grace?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const graceSeconds = opts.grace === undefined ? undefined : Number(opts.grace);
      if (graceSeconds !== undefined && !(Number.isInteger(graceSeconds) && graceSeconds >= 0)) {
        throw new UsageError(`Expected --grace to be a whole number of seconds (0 or more) but received "${opts.grace}"`);
      }
      const report = await ctx.client.json<GcReport>('POST', '/v1/admin/gc', { json: graceSeconds === undefined ? {} : { graceSeconds } });
      ctx.output(report, () =>
        fields([
          ['freed', formatBytes(report.bytesFreed)],
          ['retention', `${report.retention.builds} build(s), ${report.retention.files} file(s), ${formatBytes(report.retention.bytes)}`],
          ['unreferenced', `${report.store.deletedFiles} file(s), ${formatBytes(report.store.bytesFreed)} (of ${report.store.manifests} manifests' files)`],
          ['kept (young)', `${report.store.youngFiles} file(s), ${formatBytes(report.store.youngBytes)}: freed by a later run if still unreferenced`],
          ['store temp', `${report.storeTemp.files} file(s), ${formatBytes(report.storeTemp.bytes)}`],
          ['local temp', `${report.localTemp.entries} work dir(s) and upload(s), ${formatBytes(report.localTemp.bytes)}`],
          ['took', `${report.seconds.toFixed(1)} s`],
        ]),
      );
    });
}
