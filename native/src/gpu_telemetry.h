// gpuTelemetry(library, index, callback): what one GPU is doing now, for heartbeats, the
// dashboard and the idle guard (other compute processes, utilization).
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <vector>

#include "nvml_library.h"

namespace kiln {

struct ProcessRecord {
  unsigned int pid = 0;
  std::optional<unsigned long long> usedMemory;  // null when the driver cannot tell
};

struct GpuTelemetryBaton {
  std::string library;
  unsigned int index = 0;
  std::optional<unsigned int> utilizationGpu;  // percent of the last sample period with a kernel running
  std::optional<unsigned int> utilizationMemory;  // percent of it with device memory being read or written
  std::optional<unsigned long long> memoryUsed;
  std::optional<unsigned long long> memoryTotal;
  // Null when NVML cannot list them; empty when there are none. Null and empty differ for the
  // idle guard: only an empty list says the GPU is free.
  std::optional<std::vector<ProcessRecord>> processes;
  std::optional<unsigned int> temperature;
  std::optional<unsigned int> smClock;
  std::optional<unsigned int> memClock;
  std::optional<unsigned int> powerMilliwatts;
  NvmlFailure failure;
};

Napi::Value GpuTelemetry(const Napi::CallbackInfo &info);

}  // namespace kiln
