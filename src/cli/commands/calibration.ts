/** `kiln calibration push|list`: TensorRT INT8 calibration caches, uploaded like models. */
import path from 'node:path';
import type { Command } from 'commander';
import { contextOf, type Io } from '../context';
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
      const { uploadFile } = require('../upload') as typeof import('../upload');
      const answer = await uploadFile<CalibrationUploadAnswer>(ctx, { file, path: '/v1/calibration-caches', what: 'a calibration cache file' });
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
