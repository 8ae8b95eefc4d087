/**
 * How watched builds show their progress: one live bar per build on a terminal (cli-progress
 * MultiBar), plain lines when the output is a file or a pipe (a CI log), or nothing at all. The
 * percent is the whole build's, across its phases (the API's events give it per phase), so a bar
 * only moves forward; the phase is named next to it.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { overallPercent } from '../core/build-phases';
import type { BuildEvent } from './api-types';
import type { OutputStream } from './context';

export interface ProgressDisplay {
  add(id: string, target: string): void;
  event(id: string, event: BuildEvent): void;
  stop(): void;
}

interface Status {
  target: string;
  state: string;
  phase: string;
  percent: number;
}

const describe = (s: Status) => (s.state === 'active' ? s.phase || 'active' : s.state === 'queued' ? 'queued' : s.state);

function apply(status: Status, event: BuildEvent): void {
  if (event.type === 'state') {
    status.state = event.state;
    if (event.state === 'succeeded') status.percent = 100;
    if (event.state === 'queued') status.percent = 0;
  } else if (event.type === 'progress') {
    status.phase = event.phase;
    status.percent = overallPercent(status.target, event.phase, event.percent);
    if (status.state === 'queued') status.state = 'active';
  }
}

export class BarDisplay implements ProgressDisplay {
  private readonly multibar: MultiBar;
  private readonly bars = new Map<string, { bar: SingleBar; status: Status }>();
  private width = 0;

  constructor(stream: OutputStream) {
    this.multibar = new MultiBar(
      {
        stream: stream as NodeJS.WritableStream,
        format: '{target} |{bar}| {percentage}% {status}',
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
        barsize: 30,
        // Log lines push the bars down; an unchanged bar must still be drawn on its new line.
        forceRedraw: true,
      },
      Presets.shades_classic,
    );
  }

  add(id: string, target: string): void {
    this.width = Math.max(this.width, target.length);
    const status: Status = { target, state: 'queued', phase: '', percent: 0 };
    const bar = this.multibar.create(100, 0, this.payload(status));
    this.bars.set(id, { bar, status });
    // Targets added later may be longer; keep every label the same width.
    for (const entry of this.bars.values()) entry.bar.update(entry.status.percent, this.payload(entry.status));
  }

  event(id: string, event: BuildEvent): void {
    const entry = this.bars.get(id);
    if (!entry) return;
    if (event.type === 'log') {
      this.multibar.log(`[${entry.status.target}] ${event.line}\n`);
      return;
    }
    if (event.type === 'state' && event.state === 'queued' && event.waiting) this.multibar.log(`[${entry.status.target}] waiting: ${event.waiting}\n`);
    apply(entry.status, event);
    entry.bar.update(entry.status.percent, this.payload(entry.status));
  }

  stop(): void {
    this.multibar.stop();
  }

  private payload(status: Status) {
    return { target: status.target.padEnd(this.width), status: describe(status) };
  }
}

/** Plain lines: one when the state or phase changes, or the percent passes a multiple of 10. */
export class LineDisplay implements ProgressDisplay {
  private readonly statuses = new Map<string, Status & { shown: string }>();

  constructor(private readonly stream: OutputStream) {}

  add(id: string, target: string): void {
    this.statuses.set(id, { target, state: 'queued', phase: '', percent: 0, shown: '' });
  }

  event(id: string, event: BuildEvent): void {
    const status = this.statuses.get(id);
    if (!status) return;
    if (event.type === 'log') {
      this.stream.write(`[${status.target}] ${event.line}\n`);
      return;
    }
    apply(status, event);
    const key = `${status.state}|${status.phase}|${Math.floor(status.percent / 10)}`;
    if (key === status.shown) return;
    status.shown = key;
    const note = event.type === 'state' ? (event.waiting ?? event.error) : undefined;
    const error = note ? `: ${note}` : '';
    this.stream.write(`[${status.target}] ${describe(status)} ${status.percent}%${error}\n`);
  }

  stop(): void {
    // nothing to tear down
  }
}

export class SilentDisplay implements ProgressDisplay {
  add(): void {}
  event(): void {}
  stop(): void {}
}

/** Bars on a terminal, lines elsewhere; --json keeps stdout for JSON and shows bars on a terminal's stderr only. */
export function chooseDisplay(io: { stdout: OutputStream; stderr: OutputStream }, json: boolean): ProgressDisplay {
  if (json) return io.stderr.isTTY ? new BarDisplay(io.stderr) : new SilentDisplay();
  return io.stdout.isTTY ? new BarDisplay(io.stdout) : new LineDisplay(io.stdout);
}
