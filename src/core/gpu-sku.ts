/**
 * A GPU's SKU slug: how a target key and a client name one GPU model.
 *
 * Slug rule: NVML's name in lower case, every run of other characters turned into one `-`, with
 * `nvidia-` in front unless the name already starts with NVIDIA. NVML names newer GPUs
 * `NVIDIA ...` and older ones `Tesla ...`/`Quadro ...`, so the prefix keeps every slug in one family:
 *   NVIDIA GeForce RTX 4080 -> nvidia-geforce-rtx-4080
 *   Tesla T4                -> nvidia-tesla-t4
 *   NVIDIA H100 80GB HBM3   -> nvidia-h100-80gb-hbm3
 */
export class GpuSlugError extends Error {
  override name = 'GpuSlugError';
}

export function gpuSkuSlug(name: string): string {
  const words = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (words.length === 0) {
    throw new GpuSlugError(`Expected a GPU name with letters or digits for name but received ${JSON.stringify(name)}`);
  }
  return words === 'nvidia' || words.startsWith('nvidia-') ? words : `nvidia-${words}`;
}
