# Sourced by the probes: start_busy_gpu keeps GPU 0 busy with PyTorch (busy-gpu.py) and sets
# $busy to its pid, returning non-zero when the machine has no PyTorch; stop_busy_gpu ends it.
start_busy_gpu() {
  python3 -c 'import torch' 2>/dev/null || return 1
  ready=/tmp/kiln-busy.ready
  rm -f "$ready"
  python3 scripts/device/busy-gpu.py "$ready" &
  busy=$!
  while [ ! -f "$ready" ] && kill -0 "$busy" 2>/dev/null; do sleep 0.2; done
  sleep 1  # NVML's utilization is an average over its last sample period
  echo
  echo "# while python3 (pid $busy) multiplies matrices on GPU 0"
}

stop_busy_gpu() {
  kill "$busy"
  wait "$busy" 2>/dev/null
}
