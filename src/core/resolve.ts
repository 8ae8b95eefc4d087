/**
 * The resolution ladder (DESIGN.md): which artifact a client should use, and which rung matched.
 *   GPU client (cc, trt, sku?): exact-sku -> same-cc -> hardware-compatible -> timing-cache (+ ONNX)
 *   CPU client (ort target):    cpu -> onnx (the model itself; ONNX Runtime optimises it at load)
 * Engines are tied to one exact TensorRT version, so every GPU rung requires the client's version.
 */
import type { PublishedArtifact } from './published-artifact';
import { compatibleWith, readLevel, type HardwareCompatibilityLevel } from './tensorrt/hardware-compatibility';

export type Rung = 'exact-sku' | 'same-cc' | 'hardware-compatible' | 'timing-cache' | 'cpu' | 'onnx';

export type Client =
  | { kind: 'gpu'; cc: string; trt: string; sku?: string; precision?: string }
  | { kind: 'cpu'; targetKey: string };

export interface Resolution {
  rung: Rung;
  /** The artifact to use; absent on the timing-cache and onnx rungs. */
  artifact?: PublishedArtifact;
  /** Why the higher rungs did not match, for clients and dashboards to show. */
  note: string;
}

/** Index entries written before hardware compatibility took trtexec's spelling may say `same-cc`. */
const levelOf = (target: PublishedArtifact['target']): HardwareCompatibilityLevel =>
  target.toolchain === 'tensorrt' ? (readLevel(target.hwCompat) as HardwareCompatibilityLevel) : 'none';

/**
 * An engine's precision trait is the narrowest format it may compute in (fp32, tf32, fp16, bf16,
 * int8, fp8). A client asking for fp32 takes a default engine too: TF32 is how TensorRT runs fp32
 * math unless noTF32 is given.
 */
function precisionMatches(engine: string | undefined, wanted: string): boolean {
  return engine === wanted || (wanted === 'fp32' && engine === 'tf32');
}

const newestFirst = (a: PublishedArtifact, b: PublishedArtifact) => b.publishedAt.localeCompare(a.publishedAt);

export function resolveArtifact(client: Client, published: PublishedArtifact[], hasTimingCache: boolean): Resolution {
  const usable = published.filter((a) => a.validation !== 'fail').sort(newestFirst);
  if (client.kind === 'cpu') {
    const hit = usable.find((a) => a.targetKey === client.targetKey);
    if (hit) return { rung: 'cpu', artifact: hit, note: `ONNX Runtime artifact built for ${client.targetKey}` };
    return { rung: 'onnx', note: `No artifact for ${client.targetKey}; use the ONNX model, which ONNX Runtime optimises when it loads it` };
  }

  const engines = usable.filter((a) => {
    if (a.target.toolchain !== 'tensorrt' || a.target.trt !== client.trt) return false;
    return !client.precision || precisionMatches(a.traits.precision, client.precision);
  });
  const plain = engines.filter((a) => a.target.toolchain === 'tensorrt' && levelOf(a.target) === 'none' && a.target.cc === client.cc);
  if (client.sku) {
    const exact = plain.find((a) => a.target.toolchain === 'tensorrt' && a.target.sku === client.sku);
    if (exact) return { rung: 'exact-sku', artifact: exact, note: `Engine built on a ${client.sku}` };
  }
  // Prefer an engine built for the CC as a whole over one built for another SKU of it.
  const sameCc = plain.find((a) => a.target.toolchain === 'tensorrt' && !a.target.sku) ?? plain[0];
  if (sameCc) return { rung: 'same-cc', artifact: sameCc, note: `Engine built for compute capability ${client.cc}${sameCc.target.toolchain === 'tensorrt' && sameCc.target.sku ? ` on a ${sameCc.target.sku}` : ''}` };
  const compatible = engines.find((a) => {
    const level = levelOf(a.target);
    return a.target.toolchain === 'tensorrt' && level !== 'none' && compatibleWith(level, a.target.cc, client.cc);
  });
  if (compatible) return { rung: 'hardware-compatible', artifact: compatible, note: `Hardware-compatible engine (${levelOf(compatible.target)}); it may be slower than a native one` };
  if (hasTimingCache) {
    return { rung: 'timing-cache', note: `No engine for TensorRT ${client.trt} on CC ${client.cc}; build locally from the ONNX with the fleet timing cache` };
  }
  return { rung: 'onnx', note: `No engine and no timing cache for TensorRT ${client.trt} on CC ${client.cc}; build locally from the ONNX` };
}
