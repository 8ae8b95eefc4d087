/**
 * What a worker registers (docs/fleet.md): from its toolchains' capability detection, the targets
 * it serves, the ones it refuses and why, its platform, its GPU, and the timing caches its builds
 * would use. KilnWorker.start() registers this; scripts/device/fleet-probe.ts prints it on a real
 * GPU without Redis.
 */
import { platformOf, type Platform } from '../core/platform';
import { targetKey } from '../core/target';
import { timingCacheKey } from '../storage/layout';
import type { Capabilities } from './toolchains/toolchain';

export interface Registration {
  platform: Platform;
  /** Target keys whose queues the worker consumes, in the order its toolchains gave them. */
  targets: string[];
  /** Toolchain -> version, or -> `unavailable: <reason>`. */
  toolchains: Record<string, string>;
  hardware: Record<string, unknown>;
  /** Targets of this hardware that are not served, and why. */
  refused: { target: string; reason: string }[];
  /** Why a toolchain serves no target here (e.g. no trtexec), and what it refuses. */
  notes: string[];
  /** Store keys of the fleet timing caches this worker's TensorRT builds read and write. */
  timingCaches: string[];
}

export function registrationOf(capabilities: Capabilities[], platform: Platform = platformOf()): Registration {
  const registration: Registration = { platform, targets: [], toolchains: {}, hardware: {}, refused: [], notes: [], timingCaches: [] };
  for (const cap of capabilities) {
    registration.hardware = { ...registration.hardware, ...cap.hardware };
    for (const refusal of cap.refused ?? []) {
      registration.refused.push(refusal);
      registration.notes.push(`${cap.toolchain}: not ${refusal.target}: ${refusal.reason}`);
    }
    if (cap.targets.length === 0) {
      const reason = cap.unavailableReason ?? 'no target can be built here';
      registration.toolchains[cap.toolchain] = `unavailable: ${reason}`;
      registration.notes.unshift(`${cap.toolchain}: ${reason}`);
      continue;
    }
    registration.toolchains[cap.toolchain] = cap.version ?? 'unknown';
    // A GPU's TensorRT builds, whatever target, read and write the one cache of its SKU, named by
    // its SKU target (core/timing-cache.ts).
    const gpuSku = cap.targets.find((t) => t.toolchain === 'tensorrt' && t.sku);
    for (const target of cap.targets) {
      registration.targets.push(targetKey(target));
      if (target.toolchain === 'tensorrt' && gpuSku?.toolchain === 'tensorrt') {
        const key = timingCacheKey({ trt: target.trt, cc: target.cc, sku: gpuSku.sku, platform: target.platform });
        if (!registration.timingCaches.includes(key)) registration.timingCaches.push(key);
      }
    }
  }
  return registration;
}
