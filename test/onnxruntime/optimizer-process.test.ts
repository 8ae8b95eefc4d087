import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OptimizerProcess } from '../../src/worker/toolchains/onnxruntime/optimizer-process';
import { tinyConv } from '../models';
import { useContexts } from './context';

const context = useContexts();

/** A request for the tiny model, written into the context's work dir. */
async function request() {
  const ctx = await context(tinyConv());
  return { modelPath: ctx.modelPath, outputPath: join(ctx.workDir, 'model.optimized.onnx'), level: 'all' as const };
}

describe('OptimizerProcess: one ONNX Runtime process per worker', () => {
  const optimizers: OptimizerProcess[] = [];
  const make = () => {
    const optimizer = new OptimizerProcess();
    optimizers.push(optimizer);
    return optimizer;
  };
  afterEach(async () => {
    await Promise.all(optimizers.splice(0).map((o) => o.close()));
  });

  test('builds share one process, and each gets only its own log lines and warnings', async () => {
    const optimizer = make();
    const signal = new AbortController().signal;
    const firstLines: string[] = [];
    const first = await optimizer.optimize(await request(), signal, (line) => firstLines.push(line));
    const pid = optimizer.pid;
    expect(pid).toBeGreaterThan(0);
    const second = await optimizer.optimize({ ...(await request()), level: 'basic' }, signal);
    expect(optimizer.pid).toBe(pid);
    expect(first.inputNames).toEqual(['x']);
    expect(first.warnings).toEqual([expect.stringMatching(/^ONNX Runtime: .*may contain hardware specific optimizations/)]);
    expect(firstLines).toEqual(first.logLines);
    // Level 'basic' gives no hardware warning: the first build's lines did not leak into the second.
    expect(second.warnings).toEqual([]);
  });

  test('a cancel kills the process mid-build; the next build starts a fresh one', async () => {
    const optimizer = make();
    const signal = new AbortController().signal;
    await optimizer.optimize(await request(), signal);
    const pid = optimizer.pid!;
    // Stopped, the process cannot answer: the cancel below certainly lands mid-build.
    process.kill(pid, 'SIGSTOP');
    const controller = new AbortController();
    const req = await request();
    const building = optimizer.optimize(req, controller.signal);
    const reason = new Error('cancelled by user');
    controller.abort(reason);
    await expect(building).rejects.toBe(reason);
    await expect(stat(req.outputPath)).rejects.toThrow(/ENOENT/);
    const next = await optimizer.optimize(await request(), signal);
    expect(next.outputNames).toEqual(['logits']);
    expect(optimizer.pid).not.toBe(pid);
  });

  test('a crash fails the build it was serving, not the worker; the next build starts a fresh one', async () => {
    const optimizer = make();
    const signal = new AbortController().signal;
    await optimizer.optimize(await request(), signal);
    const pid = optimizer.pid!;
    process.kill(pid, 'SIGSTOP');
    const building = optimizer.optimize(await request(), signal);
    process.kill(pid, 'SIGSEGV');
    process.kill(pid, 'SIGCONT');
    await expect(building).rejects.toThrow(/^The ONNX Runtime optimiser process was killed by SIGSEGV before answering/);
    const next = await optimizer.optimize(await request(), signal);
    expect(next.inputNames).toEqual(['x']);
    expect(optimizer.pid).not.toBe(pid);
  });

  test('close() ends the process', async () => {
    const optimizer = make();
    await optimizer.optimize(await request(), new AbortController().signal);
    const pid = optimizer.pid!;
    await optimizer.close();
    expect(optimizer.pid).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });
});
