/**
 * CPU time from /proc, for two questions a wall-clock number cannot answer on a shared machine:
 * how much CPU a server spent per request (robust to neighbours), and how much CPU processes
 * other than the bench's own (its process tree and the Redis it uses) took while it measured,
 * i.e. how disturbed a measurement was.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of /proc CPU times, 100 on every Linux the bench runs on. */
const TICKS_PER_SECOND = 100;

/** CPU seconds a process (all its threads) has used; 0 when it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (everything but idle and iowait). */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user + nice + system + irq + softirq + (steal ?? 0)) / TICKS_PER_SECOND;
}

/** `root` and every process below it. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

export interface CpuWindow {
  seconds: number;
  /** Cores' worth of CPU used by the bench's processes (and its Redis) meanwhile. */
  benchCores: number;
  /** Cores' worth of CPU used by everything else meanwhile: 0 on a quiet machine. */
  otherCores: number;
}

export class CpuMeter {
  /** @param extraPids processes outside the bench's tree that work for it (a local Redis). */
  constructor(private readonly extraPids: number[] = []) {}

  start(): { end(): CpuWindow } {
    const t0 = performance.now();
    const pids = this.pids();
    const busy0 = machineBusySeconds();
    const ours0 = new Map(pids.map((p) => [p, processCpuSeconds(p)]));
    return {
      end: () => {
        const seconds = (performance.now() - t0) / 1000;
        const busy = machineBusySeconds() - busy0;
        let ours = 0;
        for (const pid of new Set([...pids, ...this.pids()])) ours += processCpuSeconds(pid) - (ours0.get(pid) ?? 0);
        return { seconds, benchCores: ours / seconds, otherCores: Math.max(0, busy - ours) / seconds };
      },
    };
  }

  private pids(): number[] {
    return [...processTree(process.pid), ...this.extraPids];
  }
}
