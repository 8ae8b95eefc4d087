/**
 * The shapes of the API's answers, as the CLI reads them. Type-only imports of the server's own
 * types, so the CLI and the API cannot disagree, and the CLI loads none of the server's code.
 */
import type { DeletedModel } from '../api/delete-model';
import type { SubmitResult } from '../api/submit';
import type { GcReport } from '../cleanup/collect-garbage';
import type { Waiting } from '../api/waiting';
import type { sweepJson } from '../api/sweep-results';
import type { ManifestFile } from '../core/manifest';
import type { Rung } from '../core/resolve';
import type { BuildEvent } from '../state/build-events';
import type { BuildRecord, BuildState } from '../state/build-records';
import type { ModelRecord } from '../state/model-registry';
import type { WorkerInfo } from '../state/worker-registry';
import type { PublishedArtifact } from '../core/published-artifact';

export type { BuildEvent, BuildRecord, BuildState, DeletedModel, GcReport, ModelRecord, SubmitResult, Waiting, WorkerInfo };

export const TERMINAL_STATES: readonly BuildState[] = ['succeeded', 'failed', 'cancelled'];

export const isTerminal = (state: string | undefined): boolean => TERMINAL_STATES.includes(state as BuildState);

export interface UploadAnswer extends ModelRecord {
  created: boolean;
}

export interface ModelAnswer extends ModelRecord {
  artifacts: PublishedArtifact[];
}

export interface BuildAnswer extends BuildRecord {
  /** Why a queued build waits. */
  waiting?: Waiting;
  published: boolean;
  artifacts: (ManifestFile & { url: string })[];
}

export interface BuildPageAnswer {
  builds: BuildRecord[];
  nextCursor: string | null;
}

export interface RequestAnswer {
  id: string;
  modelId: string;
  targets: string[];
  createdAt: string;
  state: string;
  counts: Record<string, number>;
  builds: { buildKey: string; target: string; state: BuildState; phase?: string; percent: number; error?: string; verdict?: string; waiting?: Waiting }[];
  sweep?: ReturnType<typeof sweepJson>;
}

export interface RequestListAnswer {
  requests: (Omit<RequestAnswer, 'builds'> & { buildCount: number })[];
}

export interface ResolveFile {
  name: string;
  sha256: string;
  size: number;
  /** Present for files of an artifact set (from its manifest); absent for the ONNX model. */
  role?: string;
  url: string;
}

export interface ResolveAnswer {
  model: string;
  /** `best`: a sweep's best point (?request= or MODEL@best), looked up before the ladder. */
  rung: Rung | 'best';
  note: string;
  buildKey?: string;
  target?: string;
  validation?: string;
  primary?: string;
  files: ResolveFile[];
  /** match `best-match`: a cache of another GPU model of the CC (or the CC-wide one), not the client's SKU. */
  timingCache?: { url: string; sku?: string | null; match?: 'sku' | 'best-match' };
  /** Best point only: the sweep request, the point's values, and the runtime settings to load the artifact with. */
  request?: string;
  point?: Record<string, unknown>;
  runtime?: Record<string, unknown>;
}

export interface WorkersAnswer {
  workers: WorkerInfo[];
  queues: Record<string, Record<string, number>>;
  /** Targets with queued builds that no live worker serves. */
  unserved?: { target: string; queuedBuilds: number }[];
}
