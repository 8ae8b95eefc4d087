#!/bin/sh
# Runs on the device machine (NVIDIA driver, no Node, no TensorRT, no Redis), from Kiln's root,
# after scripts/device/prepare-probe.sh and the bundling below ran here:
#   npx esbuild scripts/device/fleet-probe.ts --bundle --platform=node --target=node20 \
#     --format=cjs --outfile=scripts/device/.cache/fleet-probe.js
#   run(command="sh scripts/device/fleet-probe.sh | tee $OUT/fleet-probe.txt",
#       carry=["scripts/device/.cache", "build/Release"])
# Prints, per GPU, what its worker registers with the fleet (src/worker/registration.ts): NVML's
# index, UUID, CC and SKU, the platform, targets served and refused with reasons, and the
# timing-cache key; with no TensorRT installed, also what each known release would register.
set -u
cache=scripts/device/.cache
addon=build/Release/kiln_nvml.node
node=/tmp/kiln-node/node
mkdir -p /tmp/kiln-node
[ -x "$node" ] || { gzip -dc "$cache/node.gz" > "$node" && chmod +x "$node"; }

echo "# Kiln fleet probe"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "node: $("$node" --version)"
echo "uname -sm: $(uname -sm)"
echo "## nvidia-smi --query-gpu=index,name,compute_cap,uuid --format=csv,noheader"
nvidia-smi --query-gpu=index,name,compute_cap,uuid --format=csv,noheader
echo "## trtexec on the PATH: $(command -v trtexec || echo none)"
echo
"$node" "$cache/fleet-probe.js" "$addon"
