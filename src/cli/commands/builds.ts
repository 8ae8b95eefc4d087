/** `kiln status|builds|cancel|retry|log|request|requests`: looking at builds and acting on them. */
import type { Command } from 'commander';
import type { BuildAnswer, BuildPageAnswer, BuildRecord, RequestAnswer, RequestListAnswer } from '../api-types';
import { describeBest } from '../sweep-format';
import { isTerminal } from '../api-types';
import { resolveBuildKey } from '../build-ref';
import { readText } from '../client';
import { contextOf, type Io } from '../context';
import { CommandFailed, UsageError } from '../errors';
import { elapsed, fields, formatBytes, formatMs, formatSeconds, formatTime, shortId, table } from '../format';
import { indent } from './models';
import { describeDrift, describeSpeedup } from '../report-insight';

const STATES = ['queued', 'active', 'succeeded', 'failed', 'cancelled'];

export function registerBuilds(program: Command, io: Io): void {
  program
    .command('status')
    .description('A build: state, progress, verdict, artifacts, report')
    .argument('<build>', 'build key (or a prefix of 6+ of a recent one)')
    .option('-w, --watch', 'follow the build to the end with live progress')
    .option('--log', "stream the build's log lines as they come (implies --watch)")
    .action(async (ref: string, opts: { watch?: boolean; log?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const id = await resolveBuildKey(ctx.client, ref);
      let record = await ctx.client.json<BuildAnswer>('GET', `/v1/builds/${id}`);
      const { allSucceeded, watchBuilds } = require('../watch') as typeof import('../watch');
      if ((opts.watch || opts.log) && !isTerminal(record.state)) {
        [record] = await watchBuilds(ctx, [{ buildKey: id, target: record.targetKey }], { log: opts.log });
        if (!ctx.json) ctx.print();
      }
      ctx.output(record, () => describeBuild(record));
      if ((opts.watch || opts.log) && !allSucceeded([record])) throw new CommandFailed(1);
    });

  program
    .command('builds')
    .description('List builds, newest first')
    .option('--state <state>', `only builds in this state (${STATES.join(', ')})`)
    .option('--model <ref>', 'only builds of this model')
    .option('--target <key>', 'only builds for this target')
    .option('--limit <n>', 'builds per page (1-500)', '50')
    .option('--all', 'follow every page to the end')
    .action(async (opts: { state?: string; model?: string; target?: string; limit: string; all?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      if (opts.state && !STATES.includes(opts.state)) throw new UsageError(`Expected --state to be one of ${STATES.join(', ')} but received "${opts.state}"`);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError(`Expected --limit between 1 and 500 but received "${opts.limit}"`);
      const builds: BuildRecord[] = [];
      let cursor: string | undefined;
      let nextCursor: string | null = null;
      do {
        const page = await ctx.client.json<BuildPageAnswer>('GET', '/v1/builds', {
          query: { state: opts.state, model: opts.model, target: opts.target, limit, cursor },
        });
        builds.push(...page.builds);
        nextCursor = page.nextCursor;
        cursor = nextCursor ?? undefined;
      } while (opts.all && nextCursor);
      ctx.output({ builds, nextCursor }, () => {
        if (builds.length === 0) return 'No builds match';
        const rows = builds.map((b) => [shortId(b.buildKey), b.targetKey, b.state, progressOf(b), b.verdict, shortId(b.modelId), formatTime(b.createdAt)]);
        const more = nextCursor ? `\n(more: --all, or --limit up to 500)` : '';
        return table(['BUILD', 'TARGET', 'STATE', 'PROGRESS', 'VERDICT', 'MODEL', 'CREATED'], rows) + more;
      });
    });

  program
    .command('cancel')
    .description('Cancel a queued or running build')
    .argument('<build>', 'build key (or a prefix of 6+)')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const id = await resolveBuildKey(ctx.client, ref);
      const answer = await ctx.client.json<{ id: string; state: string; cancelRequested?: boolean }>('DELETE', `/v1/builds/${id}`);
      ctx.output(answer, () =>
        answer.cancelRequested ? `Cancel requested: build ${id} is ${answer.state} and stops at its next check` : `Cancelled build ${id}`,
      );
    });

  program
    .command('retry')
    .description('Queue a failed or cancelled build again')
    .argument('<build>', 'build key (or a prefix of 6+)')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const id = await resolveBuildKey(ctx.client, ref);
      const answer = await ctx.client.json<{ id: string; state: string }>('POST', `/v1/builds/${id}/retry`);
      ctx.output(answer, () => `Build ${id} is ${answer.state} again; follow it with \`kiln status ${shortId(id)} --watch\``);
    });

  program
    .command('log')
    .description('The build log so far (the whole log once the build is published)')
    .argument('<build>', 'build key (or a prefix of 6+)')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const id = await resolveBuildKey(ctx.client, ref);
      const res = await ctx.client.stream('GET', `/v1/builds/${id}/log`);
      let empty = true;
      if (ctx.json) {
        const text = await readText(res);
        empty = text === '';
        ctx.printJson({ build: id, lines: empty ? [] : text.replace(/\n$/, '').split('\n') });
      } else {
        for await (const chunk of res) {
          empty &&= (chunk as Buffer).length === 0;
          io.stdout.write(chunk as Buffer);
        }
      }
      // An empty log is not an answer a person can read: say why there is none yet.
      if (empty) ctx.note(whyNoLog(await ctx.client.json<BuildAnswer>('GET', `/v1/builds/${id}`)));
    });

  program
    .command('requests')
    .description('The newest requests: model, targets, matrix state')
    .option('--limit <n>', 'how many (1-500)', '20')
    .action(async (opts: { limit: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError(`Expected --limit between 1 and 500 but received "${opts.limit}"`);
      const answer = await ctx.client.json<RequestListAnswer>('GET', '/v1/requests', { query: { limit } });
      ctx.output(answer, () => {
        if (answer.requests.length === 0) return 'No requests yet; submit one with `kiln build MODEL --target TARGET`';
        const rows = answer.requests.map((r) => [r.id, shortId(r.modelId), r.buildCount, `${r.state} (${countsOf(r.counts)})`, formatTime(r.createdAt)]);
        return table(['REQUEST', 'MODEL', 'BUILDS', 'STATE', 'CREATED'], rows);
      });
    });

  program
    .command('request')
    .description("A request and the state of its build matrix")
    .argument('<request>', 'request id (printed by `kiln build`; `kiln requests` lists them), or its first 6+ characters')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = await ctx.client.json<RequestAnswer>('GET', `/v1/requests/${encodeURIComponent(ref)}`);
      ctx.output(answer, () => {
        const head = fields([
          ['request', answer.id],
          ['model', answer.modelId],
          ['state', `${answer.state} (${countsOf(answer.counts)})`],
          ['created', formatTime(answer.createdAt)],
        ]);
        const rows = answer.builds.map((b) => [b.target, b.state, progressOf(b), b.verdict, b.buildKey, b.waiting?.message ?? b.error]);
        const builds = `${head}\n${table(['TARGET', 'STATE', 'PROGRESS', 'VERDICT', 'BUILD', 'NOTE'], rows)}`;
        return answer.sweep ? `${builds}\n\n${describeBest(answer.sweep)}` : builds;
      });
    });
}

const countsOf = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');

/** Why a build has no log lines (yet). */
export function whyNoLog(b: Pick<BuildRecord, 'buildKey' | 'state' | 'targetKey' | 'startedAt'>): string {
  const follow = `follow it with \`kiln status ${shortId(b.buildKey)} --log\``;
  if (b.state === 'queued') return `Build ${shortId(b.buildKey)} is queued: no worker has started it yet, so it has no log. Is a worker serving ${b.targetKey}? \`kiln workers\` lists them; ${follow}.`;
  if (b.state === 'active') return `Build ${shortId(b.buildKey)} has just started and logged nothing yet; ${follow}.`;
  if (b.state === 'cancelled' && !b.startedAt) return `Build ${shortId(b.buildKey)} was cancelled before any worker started it, so it has no log.`;
  return `Build ${shortId(b.buildKey)} is ${b.state} and has no log.`;
}

function progressOf(b: { state: string; phase?: string; percent: number }): string {
  if (b.state === 'active') return `${b.phase ?? 'active'} ${Math.round(b.percent)}%`;
  return b.state === 'succeeded' ? '100%' : '-';
}

export function describeBuild(b: BuildAnswer): string {
  const state = b.state === 'active' ? `active (${progressOf(b)})` : b.state + (b.cancelRequested && !isTerminal(b.state) ? ' (cancel requested)' : '');
  const parts = [
    fields([
      ['build', b.buildKey],
      ['model', b.modelId],
      ['target', b.targetKey],
      ['state', state],
      ['verdict', b.verdict],
      ['waiting', b.waiting?.message],
      ['error', b.error],
      ['retry', b.state === 'failed' && b.inputError ? 'pointless: it failed on its input (model, shapes, options or validation); change that and build again' : undefined],
      ['worker', b.worker],
      ['attempts', b.attempts || undefined],
      ['created', formatTime(b.createdAt)],
      ['started', b.startedAt ? formatTime(b.startedAt) : undefined],
      ['finished', b.finishedAt ? formatTime(b.finishedAt) : undefined],
      ['took', b.finishedAt && b.startedAt ? formatSeconds(elapsed(b.startedAt, b.finishedAt)) : undefined],
    ]),
  ];
  if (b.artifacts?.length) {
    parts.push('artifacts:', indent(table(['FILE', 'ROLE', 'SIZE', 'SHA256'], b.artifacts.map((f) => [f.name, f.role, formatBytes(f.size), shortId(f.sha256, 16)]))));
  }
  const report = b.report;
  if (report?.skipped) parts.push(`validation and benchmark: skipped, ${report.skipped}`);
  if (report?.validation) {
    const v = report.validation;
    // An engine with optimization profiles: every profile, each at the shapes it accepts.
    const profiles = v.profiles ?? [{ index: undefined, outputs: v.outputs, inputs: v.inputs }];
    const rows = profiles.flatMap((p) =>
      p.outputs.map((o) => [...(v.profiles ? [p.index, shapesOf(p.inputs)] : []), o.name, o.verdict, pct(o.mismatchRatio), sci(o.maxAbsError), sci(o.maxRelError)]),
    );
    parts.push(
      `validation: ${v.verdict} against ${v.reference} (rtol ${v.rtol}, atol ${v.atol})`,
      indent(table([...(v.profiles ? ['PROFILE', 'INPUTS'] : []), 'OUTPUT', 'VERDICT', 'MISMATCHED', 'MAX ABS', 'MAX REL'], rows)),
    );
  }
  if (report?.benchmark?.rows.length) {
    // An engine with optimization profiles: every profile's rows, each at the batch sizes it accepts.
    const bench = report.benchmark;
    const profiles = bench.profiles ?? [{ index: undefined, rows: bench.rows }];
    const rows = profiles.flatMap((p) =>
      p.rows.map((r) => [...(bench.profiles ? [p.index] : []), r.batch, formatMs(r.latencyMs.median), formatMs(r.latencyMs.p90), formatMs(r.latencyMs.p99), fixed(r.throughputQps), fixed(r.throughputSps)]),
    );
    parts.push('benchmark:', indent(table([...(bench.profiles ? ['PROFILE'] : []), 'BATCH', 'MEDIAN', 'P90', 'P99', 'QPS', 'SAMPLES/S'], rows)));
  }
  parts.push(...describeDrift(report), ...describeSpeedup(report));
  if (report?.warnings.length) parts.push('warnings:', indent(report.warnings.join('\n')));
  return parts.join('\n');
}

const shapesOf = (inputs: Record<string, { dims: number[] }>) => Object.entries(inputs).map(([name, t]) => `${name}:${t.dims.join('x')}`).join(' ');

// Report numbers went through JSON, where NaN and Infinity become null.
const finite = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);
const sci = (n: unknown) => (finite(n) ? n.toExponential(2) : '-');
const pct = (n: unknown) => (finite(n) ? `${(n * 100).toFixed(2)}%` : '-');
const fixed = (n: unknown) => (finite(n) ? n.toFixed(1) : '-');
