/** `kiln calibration push|list`: TensorRT INT8 calibration caches, uploaded like models. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { VerifyingHasher } from '../../storage/verifying-hasher';
import { contextOf, type Io } from '../context';
import { UsageError } from '../errors';
import { fields, formatBytes, formatTime, table } from '../format';

/** One cache as the API describes it (GET /v1/calibration-caches). */
export interface CalibrationCacheRecord {
  sha256: string;
  sizeBytes: number;
  uploadedAt: string;
  /** `TRT-8601-EntropyCalibration2` */
  header: string;
  trtVersion: string;
  algorithm: string;
}

export interface CalibrationUploadAnswer extends CalibrationCacheRecord {
  tensors: number;
  created: boolean;
}

export function registerCalibration(program: Command, io: Io): void {
  const calibration = program.command('calibration').description('Upload and list TensorRT INT8 calibration caches (for options.tensorrt.calibration)');

  calibration
    .command('push')
    .description('Upload an INT8 calibration cache (streamed; checked; stored once by its sha256)')
    .argument('<file>', 'calibration cache, as TensorRT writes it (TRT-8601-EntropyCalibration2, then "tensor: hexScale" lines)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) throw new UsageError(`Expected a calibration cache file to push but "${file}" is ${info ? 'not a file' : 'missing'}`);
      const source = createReadStream(file);
      const hasher = new VerifyingHasher(path.basename(file));
      source.on('error', (err) => hasher.destroy(err));
      source.pipe(hasher);
      const answer = await ctx.client.json<CalibrationUploadAnswer>('POST', '/v1/calibration-caches', {
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': info.size },
        body: hasher,
      });
      if (hasher.sha256 && hasher.sha256 !== answer.sha256) {
        throw new Error(`Expected the API to store sha256 ${hasher.sha256} for ${file} but it stored ${answer.sha256}; the upload was altered on its way`);
      }
      ctx.output(answer, () =>
        [
          `${answer.created ? 'Stored' : 'Already stored'} ${path.basename(file)}`,
          fields([
            ['sha256', answer.sha256],
            ['size', formatBytes(answer.sizeBytes)],
            ['header', answer.header],
            ['written by', `TensorRT ${answer.trtVersion} (${answer.algorithm})`],
            ['tensors', answer.tensors],
          ]),
          `Build with it: kiln build MODEL --target TARGET --option 'tensorrt.precision=["int8"]' --option tensorrt.calibration=${answer.sha256}`,
        ].join('\n'),
      );
    });

  calibration
    .command('list')
    .description('List INT8 calibration caches, newest first')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = await ctx.client.json<{ calibrationCaches: CalibrationCacheRecord[] }>('GET', '/v1/calibration-caches');
      ctx.output(answer, () =>
        answer.calibrationCaches.length === 0
          ? 'No calibration caches yet; push one with `kiln calibration push FILE`'
          : table(
              ['SHA256', 'HEADER', 'SIZE', 'UPLOADED'],
              answer.calibrationCaches.map((c) => [c.sha256, c.header, formatBytes(c.sizeBytes), formatTime(c.uploadedAt)]),
            ),
      );
    });
}
