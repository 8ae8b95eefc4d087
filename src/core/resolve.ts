/**
 * The resolution ladder (DESIGN.md, docs/resolve.md): which artifact a client should use, and which
 * rung matched. The platform always matches and a wanted precision is honoured, on every rung.
 *   GPU client (platform, cc, trt, sku?):
 *     exact-sku -> same-cc -> hardware-compatible -> version-compatible -> timing-cache (+ ONNX)
 *     -> cpu (when the client names its CPU target) -> onnx
 *   CPU client (ort target): cpu -> onnx (the model itself; ONNX Runtime optimises it at load)
 * An engine is tied to one exact TensorRT version, except a version-compatible one, which later
 * releases of the same major load (built with --versionCompatible, TensorRT >= 8.6).
 */
import { DEFAULT_PLATFORM, type Platform } from './platform';
import type { PublishedArtifact } from './published-artifact';
import { targetPlatform, type TensorRtTarget } from './target';
import { timingCacheName, type StoredTimingCache, type TimingCacheMatch } from './timing-cache';
import { compatibleWith, readLevel, type HardwareCompatibilityLevel } from './tensorrt/hardware-compatibility';
import { compareTrtVersions, parseTrtVersion } from './tensorrt/version';

export type Rung = 'exact-sku' | 'same-cc' | 'hardware-compatible' | 'version-compatible' | 'timing-cache' | 'cpu' | 'onnx';

export type Client =
  | {
      kind: 'gpu';
      cc: string;
      trt: string;
      sku?: string;
      precision?: string;
      /** (Default: linux-x86_64) */
      platform?: Platform;
      /** The client's CPU target key, for the CPU artifact when no engine fits. */
      cpuTargetKey?: string;
    }
  | { kind: 'cpu'; targetKey: string };

/** The fleet timing cache for the client's GPU (chooseTimingCache), when there is one. */
export interface TimingCacheOffer {
  cache: StoredTimingCache;
  match: TimingCacheMatch;
}

export interface Resolution {
  rung: Rung;
  /** The artifact to use; absent on the timing-cache and onnx rungs. */
  artifact?: PublishedArtifact;
  /** Why the higher rungs did not match, for clients and dashboards to show. */
  note: string;
}

/** Index entries written before hardware compatibility took trtexec's spelling may say `same-cc`. */
const levelOf = (target: TensorRtTarget): HardwareCompatibilityLevel => readLevel(target.hwCompat) as HardwareCompatibilityLevel;

/**
 * An engine's precision trait is the narrowest format it may compute in (fp32, tf32, fp16, bf16,
 * int8, fp8). A client asking for fp32 takes a default engine too: TF32 is how TensorRT runs fp32
 * math unless noTF32 is given.
 */
function precisionMatches(engine: string | undefined, wanted: string): boolean {
  return engine === wanted || (wanted === 'fp32' && engine === 'tf32');
}

const newestFirst = (a: PublishedArtifact, b: PublishedArtifact) => b.publishedAt.localeCompare(a.publishedAt);

type Engine = PublishedArtifact & { target: TensorRtTarget };

function resolveCpu(targetKey: string, usable: PublishedArtifact[]): PublishedArtifact | undefined {
  return usable.find((a) => a.targetKey === targetKey);
}

export function resolveArtifact(client: Client, published: PublishedArtifact[], timingCache: TimingCacheOffer | null): Resolution {
  const usable = published.filter((a) => a.validation !== 'fail').sort(newestFirst);
  if (client.kind === 'cpu') {
    const hit = resolveCpu(client.targetKey, usable);
    if (hit) return { rung: 'cpu', artifact: hit, note: `ONNX Runtime artifact built for ${client.targetKey}` };
    return { rung: 'onnx', note: `No artifact for ${client.targetKey}; use the ONNX model, which ONNX Runtime optimises when it loads it` };
  }

  const platform = client.platform ?? DEFAULT_PLATFORM;
  const engines = usable.filter((a): a is Engine => {
    if (a.target.toolchain !== 'tensorrt' || targetPlatform(a.target) !== platform) return false;
    return !client.precision || precisionMatches(a.traits.precision, client.precision);
  });
  /** Whether an engine built for `target` runs on the client's GPU, the TensorRT version aside. */
  const runsOnClientGpu = (target: TensorRtTarget) => {
    const level = levelOf(target);
    return level === 'none' ? target.cc === client.cc : compatibleWith(level, target.cc, client.cc);
  };

  const sameVersion = engines.filter((a) => a.target.trt === client.trt);
  const plain = sameVersion.filter((a) => levelOf(a.target) === 'none' && a.target.cc === client.cc);
  if (client.sku) {
    const exact = plain.find((a) => a.target.sku === client.sku);
    if (exact) return { rung: 'exact-sku', artifact: exact, note: `Engine built on a ${client.sku}` };
  }
  // Prefer an engine built for the CC as a whole over one built for another SKU of it.
  const sameCc = plain.find((a) => !a.target.sku) ?? plain[0];
  if (sameCc) return { rung: 'same-cc', artifact: sameCc, note: `Engine built for compute capability ${client.cc}${sameCc.target.sku ? ` on a ${sameCc.target.sku}` : ''}` };
  const compatible = sameVersion.find((a) => levelOf(a.target) !== 'none' && runsOnClientGpu(a.target));
  if (compatible) return { rung: 'hardware-compatible', artifact: compatible, note: `Hardware-compatible engine (${levelOf(compatible.target)}); it may be slower than a native one` };

  const wanted = parseTrtVersion(client.trt);
  const versionCompatible = engines
    .filter((a) => {
      if (a.traits.versionCompatible !== 'true' || !runsOnClientGpu(a.target)) return false;
      const built = parseTrtVersion(a.target.trt);
      return built.major === wanted.major && compareTrtVersions(built, wanted) < 0;
    })
    // The newest release first: closest to the client's runtime. Native CC before hardware-compatible.
    .sort((a, b) => compareTrtVersions(b.target.trt, a.target.trt) || Number(levelOf(a.target) !== 'none') - Number(levelOf(b.target) !== 'none'))[0];
  if (versionCompatible) {
    return {
      rung: 'version-compatible',
      artifact: versionCompatible,
      note: `Version-compatible engine built by TensorRT ${versionCompatible.target.trt}; load it with host code allowed (trtexec --versionCompatible, IRuntime::setEngineHostCodeAllowed)`,
    };
  }

  const gpu = `TensorRT ${client.trt} on CC ${client.cc} (${platform})`;
  if (timingCache) {
    const name = timingCacheName(timingCache.cache.scope);
    const of = timingCache.cache.scope.sku ? `of a ${timingCache.cache.scope.sku}` : `of CC ${client.cc} from before per-SKU caches`;
    return {
      rung: 'timing-cache',
      note:
        timingCache.match === 'sku'
          ? `No engine for ${gpu}; build locally from the ONNX with the fleet timing cache of your GPU (${name})`
          : `No engine for ${gpu}; build locally from the ONNX with the fleet timing cache ${name}, a best match ${of}${client.sku ? `, as there is none of a ${client.sku} yet` : ' (give sku for your own GPU\'s)'}: timings from another GPU model may make the engine slower`,
    };
  }
  if (client.cpuTargetKey) {
    const cpu = resolveCpu(client.cpuTargetKey, usable);
    if (cpu) return { rung: 'cpu', artifact: cpu, note: `No engine and no timing cache for ${gpu}; ONNX Runtime artifact built for ${client.cpuTargetKey}` };
  }
  return { rung: 'onnx', note: `No engine and no timing cache for ${gpu}; build locally from the ONNX` };
}
