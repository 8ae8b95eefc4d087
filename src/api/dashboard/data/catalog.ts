/**
 * Names the pages show next to ids: model labels by sha256, and every target key the farm knows
 * (served by a live worker, or built at least once). The built targets are a set kept as builds
 * are recorded (never a keyspace SCAN), and the list is cached briefly. Models are never all
 * loaded: labels are read for the models a page shows, and pickers offer the newest models from
 * the upload-order index (O(page), however many models the farm has).
 */
import type { FarmContext } from '../../../context';
import type { ModelRecord } from '../../../state/model-registry';

const TARGETS_TTL_MS = 10_000;
/** Models a picker offers (the builds filter, the submit form): the newest this many. (Default: 100.) */
export const MODEL_CHOICES = 100;

export class Catalog {
  private targets: { at: number; keys: string[] } | null = null;

  constructor(private readonly ctx: FarmContext) {}

  /**
   * sha256 -> every label of the model, as one name (`resnet18@1, classifier@1`; null when it has
   * none: a model pushed under two names is both), for the models a page shows.
   */
  async labels(shas: Iterable<string>): Promise<(sha: string) => string | null> {
    const records = await this.ctx.models.getMany([...shas]);
    const labels = new Map(records.map((r) => [r.sha256, r.labels.length ? r.labels.join(', ') : null]));
    return (sha) => labels.get(sha) ?? null;
  }

  /**
   * The models a picker offers, newest upload first: the newest MODEL_CHOICES, plus `chosen` (a
   * ref the page was given, such as the builds filter's model) when it names an older one, so
   * the choice shows. `more`: the farm has models that are not offered (they can still be typed
   * into the builds page's URL, or submitted by the API and CLI).
   */
  async modelChoices(chosen?: string): Promise<{ records: ModelRecord[]; more: boolean }> {
    const { models, nextCursor } = await this.ctx.models.page({ limit: MODEL_CHOICES });
    if (chosen && !models.some((m) => m.sha256 === chosen || m.labels.includes(chosen))) {
      const named = await this.ctx.models.resolve(chosen).catch(() => null);
      if (named && !models.some((m) => m.sha256 === named.sha256)) models.push(named);
    }
    return { records: models, more: nextCursor !== null };
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
