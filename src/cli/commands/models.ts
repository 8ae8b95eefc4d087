/** `kiln models push|list|show|delete`. */
import path from 'node:path';
import type { Command } from 'commander';
import type { DeletedModel, ModelAnswer, ModelRecord, UploadAnswer } from '../api-types';
import { UsageError } from '../errors';
import { contextOf, type Io } from '../context';
import { fields, formatBytes, formatDims, formatTime, shortId, table } from '../format';

export function registerModels(program: Command, io: Io): void {
  const models = program.command('models').description('Upload and inspect ONNX models');

  models
    .command('push')
    .description('Upload an ONNX model (streamed; stored once by its sha256)')
    .argument('<file>', 'ONNX file')
    .option('--name <name>', 'label the model, e.g. resnet50')
    .option('--version <n>', 'label version (Default: the next free one)')
    .action(async (file: string, opts: { name?: string; version?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      if (opts.version !== undefined && !opts.name) throw new UsageError('--version labels a name; give --name too');
      const { uploadFile } = require('../upload') as typeof import('../upload');
      const answer = await uploadFile<UploadAnswer>(ctx, { file, path: '/v1/models', query: { name: opts.name, version: opts.version }, what: 'an ONNX file' });
      ctx.output(answer, () => `${answer.created ? 'Stored' : 'Already stored'} ${path.basename(file)}\n${describeModel(answer)}`);
    });

  models
    .command('list')
    .description('List models, newest first (every page)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = { models: [] as ModelRecord[] };
      let cursor: string | undefined;
      do {
        const page = await ctx.client.json<{ models: ModelRecord[]; nextCursor: string | null }>('GET', '/v1/models', { query: { limit: 500, cursor } });
        answer.models.push(...page.models);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      ctx.output(answer, () =>
        answer.models.length === 0
          ? 'No models yet; push one with `kiln models push FILE --name NAME`'
          : table(
              ['SHA256', 'LABELS', 'SIZE', 'INPUTS', 'UPLOADED'],
              answer.models.map((m) => [shortId(m.sha256), m.labels.join(','), formatBytes(m.size), m.info.inputs.map((i) => `${i.name}:${formatDims(i.dims, i.unknownRank)}`).join(' '), formatTime(m.uploadedAt)]),
            ),
      );
    });

  models
    .command('show')
    .description('A model (by sha256, prefix of 12+, name or name@version) and its published artifacts')
    .argument('<ref>', 'model reference')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = await ctx.client.json<ModelAnswer>('GET', `/v1/models/${encodeURIComponent(ref)}`);
      ctx.output(answer, () => {
        const artifacts = answer.artifacts.length
          ? table(
              ['TARGET', 'VALIDATION', 'PRIMARY', 'PUBLISHED', 'BUILD'],
              answer.artifacts.map((a) => [a.targetKey, a.validation, a.primary, formatTime(a.publishedAt), a.buildKey]),
            )
          : '(none yet)';
        return `${describeModel(answer)}\nartifacts:\n${indent(artifacts)}`;
      });
    });

  models
    .command('delete')
    .description('Delete a model (one sha256 or name@version; a bare name is its latest version), its labels, builds and the artifact files no other build uses')
    .argument('<ref>', 'model reference')
    .option('--yes', 'confirm: deletion cannot be undone')
    .action(async (ref: string, opts: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      if (!opts.yes) throw new UsageError(`Deleting ${ref} removes it, its builds and artifacts for good; add --yes to confirm`);
      const answer = await ctx.client.json<{ deleted: DeletedModel }>('DELETE', `/v1/models/${encodeURIComponent(ref)}`);
      const d = answer.deleted;
      ctx.output(answer, () =>
        [
          `Deleted model ${d.sha256}${d.labels.length ? ` (${d.labels.join(', ')})` : ''}: ${d.builds} build(s), ${d.files} file(s), ${formatBytes(d.bytesFreed)} freed`,
          ...(d.pendingFiles ? [`${d.pendingFiles} file(s) (${formatBytes(d.pendingBytes)}) are freed by the next garbage collection (they are younger than KILN_GC_GRACE_SECONDS)`] : []),
          ...(d.running.length ? [`${d.running.length} build(s) started meanwhile were asked to stop: ${d.running.map(shortId).join(', ')}`] : []),
        ].join('\n'),
      );
    });
}

export function describeModel(m: ModelRecord): string {
  const info = m.info;
  const opsets = Object.entries(info.opsets)
    .map(([domain, v]) => `${domain || 'ai.onnx'} ${v}`)
    .join(', ');
  const tensors = (list: typeof info.inputs) =>
    indent(table(['NAME', 'TYPE', 'DIMS'], list.map((t) => [t.name, t.elementType, formatDims(t.dims, t.unknownRank)])));
  return [
    fields([
      ['sha256', m.sha256],
      ['size', formatBytes(m.size)],
      ['labels', m.labels.join(', ') || '(none)'],
      ['producer', [info.producerName, info.producerVersion].filter(Boolean).join(' ')],
      ['opsets', opsets],
      ['nodes', info.nodeCount],
      ['uploaded', formatTime(m.uploadedAt)],
    ]),
    'inputs:',
    tensors(info.inputs),
    'outputs:',
    tensors(info.outputs),
  ].join('\n');
}

export const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
