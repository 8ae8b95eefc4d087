#!/bin/sh
# Runs on the device machine (NVIDIA driver, no Node, no TensorRT), from Kiln's root, after
# scripts/device/prepare-probe.sh and the bundling below ran here:
#   npx esbuild scripts/device/gpu-worker-probe.ts --bundle --platform=node --target=node20 \
#     --format=cjs --outfile=scripts/device/.cache/gpu-worker-probe.js
#   run(command="sh scripts/device/gpu-worker-probe.sh | tee $OUT/worker-probe.txt",
#       carry=["scripts/device/.cache", "build/Release"])
# Prints what `kiln worker --gpu all` would register (detection, registration, telemetry) and
# the idle guard's answer under each policy, then the guard again while PyTorch keeps GPU 0 busy.
set -u
cache=scripts/device/.cache
addon=build/Release/kiln_nvml.node
node=/tmp/kiln-node/node
mkdir -p /tmp/kiln-node
[ -x "$node" ] || { gzip -dc "$cache/node.gz" > "$node" && chmod +x "$node"; }

echo "# Kiln GPU worker probe"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "node: $("$node" --version)"
echo "PATH: $PATH"
echo "## nvidia-smi --query-gpu=name,compute_cap,uuid,utilization.gpu --format=csv,noheader"
nvidia-smi --query-gpu=name,compute_cap,uuid,utilization.gpu --format=csv,noheader
echo
"$node" "$cache/gpu-worker-probe.js" "$addon"

. scripts/device/busy-gpu.sh
if start_busy_gpu; then
  echo "## nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader"
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader
  "$node" "$cache/gpu-worker-probe.js" "$addon" busy
  stop_busy_gpu
else
  echo "(no PyTorch here: the busy-GPU readings are skipped)"
fi
