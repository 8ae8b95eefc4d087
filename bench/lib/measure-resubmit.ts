/**
 * Resubmitting a published build: POST /v1/builds for a key whose artifact set is published must
 * answer `cached: true` at once. Sequential requests on one keep-alive connection, timed from the
 * client; every answer is checked (200, every build cached).
 */
import type { LatencyStats } from '../../src/core/report';
import { latencyStats } from '../../src/worker/benchmark';
import { processCpuSeconds } from './cpu-meter';
import { expectJson, request } from './http';

export interface ResubmitMeasurement {
  requests: number;
  latencyMs: LatencyStats;
  apiCpuMicrosPerRequest: number;
}

export async function measureResubmit(
  apiUrl: string,
  apiPid: number,
  token: string,
  body: { model: string; targets: string[] },
  counts: { warmup: number; measured: number },
): Promise<ResubmitMeasurement> {
  const samples: number[] = [];
  let cpu0 = 0;
  for (let i = 0; i < counts.warmup + counts.measured; i++) {
    if (i === counts.warmup) cpu0 = processCpuSeconds(apiPid);
    const started = performance.now();
    const response = await request(`${apiUrl}/v1/builds`, { method: 'POST', token, json: body });
    const elapsed = performance.now() - started;
    const answer = expectJson<{ builds: { cached: boolean; state: string }[] }>(response, 200, 'a resubmission (POST /v1/builds)');
    if (!answer.builds.length || !answer.builds.every((b) => b.cached && b.state === 'succeeded')) {
      throw new Error(`Expected every build of a resubmission to be cached and succeeded but received ${JSON.stringify(answer.builds)}`);
    }
    if (i >= counts.warmup) samples.push(elapsed);
  }
  const apiCpuMicrosPerRequest = ((processCpuSeconds(apiPid) - cpu0) * 1e6) / counts.measured;
  return { requests: counts.measured, latencyMs: latencyStats(samples), apiCpuMicrosPerRequest };
}
