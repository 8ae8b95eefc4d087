/**
 * Names the pages show next to ids: model labels by sha256, and every target key the farm knows
 * (served by a live worker, or built at least once). The built targets are a set kept as builds
 * are recorded (never a keyspace SCAN), and the list is cached briefly.
 */
import type { FarmContext } from '../../../context';
import type { ModelRecord } from '../../../state/model-registry';

const TARGETS_TTL_MS = 10_000;

export class Catalog {
  private targets: { at: number; keys: string[] } | null = null;

  constructor(private readonly ctx: FarmContext) {}

  /**
   * sha256 -> every label of the model, as one name (`resnet18@1, classifier@1`; null when it has
   * none: a model pushed under two names is both), and the records, newest upload first.
   */
  async models(): Promise<{ records: ModelRecord[]; labelOf: (sha: string) => string | null }> {
    const records = await this.ctx.models.list();
    const labels = new Map(records.map((r) => [r.sha256, r.labels.length ? r.labels.join(', ') : null]));
    return { records, labelOf: (sha) => labels.get(sha) ?? null };
  }

  /** `fresh` skips the cache (the queue board wants queues that appeared a second ago). */
  async targetKeys(options: { fresh?: boolean } = {}): Promise<string[]> {
    if (!options.fresh && this.targets && Date.now() - this.targets.at < TARGETS_TTL_MS) return this.targets.keys;
    const found = new Set<string>((await this.ctx.workers.live()).flatMap((w) => w.targets));
    for (const key of await this.ctx.builds.builtTargets()) found.add(key);
    const keys = [...found].sort();
    this.targets = { at: Date.now(), keys };
    return keys;
  }

  /** Forget the cached target list (after a submission that may have added one). */
  invalidate(): void {
    this.targets = null;
  }
}
