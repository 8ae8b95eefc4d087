/**
 * 1 GiB through the API, watched from outside: the upload (POST /v1/models, raw streamed body)
 * and the download (GET /v1/artifacts/<key>/<file>, streamed by the filesystem store) against a
 * plain fs.createReadStream of the same stored file, with the API's RSS sampled meanwhile.
 *
 * Two ways, each as back-to-back pairs (disk read, download), reporting the medians and the median
 * of the per-pair ratios:
 *  - cold: the page cache is dropped before every read, so both sides read the disk itself (what
 *    "reading the file from disk" means; needs root, for /proc/sys/vm/drop_caches);
 *  - warm: one untimed read first, so both sides read from memory: the API's own overhead against
 *    a memory copy, which loopback HTTP cannot match.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { latencyStats } from '../../src/worker/benchmark';
import { withTimeout } from './cleanup';
import { processCpuSeconds, type CpuMeter, type CpuWindow } from './cpu-meter';
import { downloadToSink, expectJson, nativeReaders, readToSink, uploadFile, type Transfer } from './http';
import { mbps } from './report';
import type { PhaseMemory, RssSampler } from './rss-sampler';

const MINUTE = 60_000;

export interface UploadMeasurement {
  bytes: number;
  ms: number;
  mbPerSecond: number;
  memory: PhaseMemory;
  apiCpuSeconds: number;
  record: { sha256: string; size: number };
}

export async function measureUpload(sampler: RssSampler, apiPid: number, url: string, token: string, file: string): Promise<UploadMeasurement> {
  const phase = sampler.phase();
  const cpu0 = processCpuSeconds(apiPid);
  const transfer = await withTimeout(uploadFile(url, token, file), 5 * MINUTE, 'The 1 GiB upload');
  const apiCpuSeconds = processCpuSeconds(apiPid) - cpu0;
  const memory = phase.end();
  const record = expectJson<{ sha256: string; size: number }>({ status: transfer.status, headers: transfer.headers, body: transfer.body! }, 201, 'the 1 GiB upload');
  return { bytes: transfer.bytes, ms: transfer.ms, mbPerSecond: mbps(transfer.bytes, transfer.ms), memory, apiCpuSeconds, record };
}

/** Drops the page cache (after a sync); false where that is not allowed (not root, a container). */
export function dropPageCache(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

export interface DownloadMeasurement {
  /** What read the two sides. */
  reader: string;
  cache: 'cold' | 'warm';
  bytes: number;
  runs: number;
  diskMbPerSecond: number[];
  apiMbPerSecond: number[];
  diskMedian: number;
  apiMedian: number;
  /** Median over the runs of download / disk read: each pair ran back to back, so slow drift of a shared machine cancels. */
  shareMedian: number;
  /** The API's CPU time per download: what a faster download has to cut. */
  apiCpuSecondsPerDownload: number[];
  memory: PhaseMemory;
  cpu: CpuWindow;
}

export async function measureDownload(
  sampler: RssSampler,
  meter: CpuMeter,
  options: { apiPid: number; url: string; token: string; storedFile: string; size: number; sha256: string; runs: number; cache: 'cold' | 'warm' },
): Promise<DownloadMeasurement> {
  const prepare = () => {
    if (options.cache === 'cold' && !dropPageCache()) throw new Error('Cannot drop the page cache (needs root): measure warm only');
  };
  const native = await nativeReaders();
  const readFile = native ? native.read : readToSink;
  const download = native ? native.download : downloadToSink;
  const checkRead = (t: Transfer, what: string) => {
    if (t.bytes !== options.size) throw new Error(`Expected ${options.size} bytes from ${what} but received ${t.bytes}`);
    return mbps(t.bytes, t.ms);
  };
  if (options.cache === 'warm') checkRead(await readFile(options.storedFile), 'the warm-up read'); // untimed
  const disk: number[] = [];
  const api: number[] = [];
  const apiCpu: number[] = [];
  const phase = sampler.phase();
  const window = meter.start();
  for (let i = 0; i < options.runs; i++) {
    prepare();
    disk.push(checkRead(await withTimeout(readFile(options.storedFile), 5 * MINUTE, 'Reading the stored file'), 'the disk read'));
    prepare();
    const cpu0 = processCpuSeconds(options.apiPid);
    const fetched = await withTimeout(download(options.url, options.token), 5 * MINUTE, 'The 1 GiB download');
    apiCpu.push(processCpuSeconds(options.apiPid) - cpu0);
    if (fetched.status !== 200) throw new Error(`Expected HTTP 200 from the download but received ${fetched.status}`);
    if (fetched.headers['x-kiln-sha256'] !== options.sha256) {
      throw new Error(`Expected X-Kiln-Sha256 ${options.sha256} on the download but received ${String(fetched.headers['x-kiln-sha256'])}`);
    }
    api.push(checkRead(fetched, 'the download'));
  }
  const cpu = window.end();
  const memory = phase.end();
  return {
    reader: native ? 'curl and dd' : 'node:http and fs.createReadStream',
    cache: options.cache,
    bytes: options.size,
    runs: options.runs,
    diskMbPerSecond: disk,
    apiMbPerSecond: api,
    diskMedian: latencyStats(disk).median,
    apiMedian: latencyStats(api).median,
    shareMedian: latencyStats(api.map((x, i) => x / disk[i])).median,
    apiCpuSecondsPerDownload: apiCpu,
    memory,
    cpu,
  };
}
