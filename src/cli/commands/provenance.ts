/**
 * `kiln verify DIR [--key FILE]`: checks a fetched artifact set offline against its signed
 * provenance; `kiln keys [-o FILE]`: the farm's public keys (docs/provenance.md).
 */
import path from 'node:path';
import type { Command } from 'commander';
import type { KeysDocument } from '../../core/provenance/signing-keys';
import { contextOf, type Io } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { fields, formatTime, table } from '../format';

export function registerProvenance(program: Command, io: Io): void {
  program
    .command('verify')
    .description("Check a directory from `kiln fetch` offline: the farm's signature on its provenance, and every file a subject with its sha256")
    .argument('<dir>', 'the directory kiln fetch wrote')
    .option('--key <file>', "the farm's public keys: a file from `kiln keys -o`, or a PEM key (Default: DIR/farm-keys.json, saved by kiln fetch --verify)")
    .action(async (dir: string, flags: { key?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const { KEYS_FILE, readKeysFile, verifyDir } = require('../provenance-files') as typeof import('../provenance-files');
      const { ProvenanceError } = require('../../core/provenance/verify') as typeof import('../../core/provenance/verify');
      const keyFile = flags.key ?? path.join(dir, KEYS_FILE);
      const keys = await readKeysFile(keyFile).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') {
          throw new UsageError(
            flags.key
              ? `No keys file at ${flags.key}`
              : `No ${KEYS_FILE} in ${dir}; give --key FILE (saved with \`kiln keys -o FILE\`, or a PEM public key), or fetch with --verify, which saves it`,
          );
        }
        throw err;
      });
      let verified;
      try {
        verified = await verifyDir(dir, keys);
      } catch (err) {
        if (err instanceof ProvenanceError) throw new CommandFailed(1, `${err.message}\n  (in ${dir})`);
        throw err;
      }
      const summary = { dir, keyid: verified.keyid, buildKey: verified.buildKey, subjects: verified.statement.subject.map((s) => s.name) };
      ctx.output(summary, () =>
        [
          `verified: every file in ${dir} matches the provenance signed by the farm`,
          fields([
            ['build', verified.buildKey],
            ['key', verified.keyid],
            ['files', summary.subjects.join(', ')],
          ]),
        ].join('\n'),
      );
    });

  program
    .command('keys')
    .description("The farm's public keys that sign provenance, rotated-out ones included")
    .option('-o, --output <file>', 'save them (JSON) for `kiln verify --key FILE`')
    .action(async (flags: { output?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const doc = await ctx.client.json<KeysDocument>('GET', '/v1/keys');
      if (flags.output) {
        const { writeAtomically } = require('../provenance-files') as typeof import('../provenance-files');
        await writeAtomically(flags.output, JSON.stringify(doc, null, 2) + '\n');
        ctx.note(`saved ${doc.keys.length} key(s) to ${flags.output}`);
      }
      ctx.output(doc, () =>
        doc.keys.length === 0
          ? 'No signing keys yet: a worker adds the farm key when it starts'
          : table(['KEY ID', 'ALGORITHM', 'FIRST USED'], doc.keys.map((k) => [k.keyid, k.algorithm, formatTime(k.addedAt)])),
      );
    });
}
