#!/bin/sh
# Runs on the device machine (NVIDIA driver, no Node, no TensorRT, no API), from Kiln's root:
# `kiln fetch` with no --cc/--trt, as a user's machine would run it. Prepared here by
#   sh scripts/device/prepare-probe.sh
#   npx esbuild src/cli/main.ts --bundle --platform=node --target=node20 --format=cjs \
#     --external:onnxruntime-node --outfile=scripts/device/.cache/kiln-cli.js
#   cp node_modules/onnxruntime-node/package.json scripts/device/.cache/ort-package.json
# and run with run(command="sh scripts/device/kiln-fetch.sh | tee $OUT/kiln-fetch.txt",
#   carry=["scripts/device/.cache", "build/Release"]).
# The bundle is put where Kiln's own files sit (dist/cli), so it finds build/Release's addon as an
# installed Kiln does; onnxruntime-node's package.json (the real one, only its version is read)
# stands where npm would have installed it: the native runtime is not needed to detect.
set -u
cache=scripts/device/.cache
node=/tmp/kiln-node/node
mkdir -p /tmp/kiln-node dist/cli node_modules/onnxruntime-node
[ -x "$node" ] || { gzip -dc "$cache/node.gz" > "$node" && chmod +x "$node"; }
cp "$cache/kiln-cli.js" dist/cli/kiln-cli.js
cp "$cache/ort-package.json" node_modules/onnxruntime-node/package.json

echo "# kiln fetch with no --cc/--trt on $(nvidia-smi --query-gpu=name --format=csv,noheader | head -1), the bundled CLI (src/cli/main.ts), API not running"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); node $("$node" --version); $(uname -sm)"
echo '$ KILN_URL=http://127.0.0.1:9 kiln fetch resnet18 -o /tmp/out'
KILN_URL=http://127.0.0.1:9 "$node" dist/cli/kiln-cli.js fetch resnet18 -o /tmp/out 2>&1
echo "exit status: $?"
