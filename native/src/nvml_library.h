// Opens libnvidia-ml at run time and keeps it initialised for the life of the process. Every
// operation runs through WithNvml(), which holds one process-wide lock: NVML calls are short, and
// the lock keeps an environment's cleanup (nvmlShutdown) from interleaving with a query.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "nvml_api.h"

namespace kiln {

// Why an operation failed, in plain data so that Execute() can fill it off the main thread.
struct NvmlFailure {
  // "unavailable": no usable NVML (library missing, not NVML, or nvmlInit failed);
  // "nvml": a required NVML call failed; "range": the GPU index is past the GPUs NVML sees.
  std::string kind;
  std::string message;
  std::string function;  // the NVML function that failed, when one did
  std::optional<int> code;  // its nvmlReturn_t
  std::optional<unsigned int> count;  // GPUs NVML sees ("range")

  bool failed() const { return !kind.empty(); }
};

struct NvmlLibrary {
  std::string path;
  void *handle = nullptr;
  bool initialized = false;

  // Required: without them NVML is unusable.
  nvmlInit_v2_fn init = nullptr;
  nvmlShutdown_fn shutdown = nullptr;
  nvmlErrorString_fn errorString = nullptr;
  nvmlDeviceGetCount_v2_fn getCount = nullptr;
  nvmlDeviceGetHandleByIndex_v2_fn getHandleByIndex = nullptr;
  nvmlDeviceGetName_fn getName = nullptr;

  // Optional: older drivers lack some; the fields they feed become null.
  nvmlDeviceGetUUID_fn getUuid = nullptr;
  nvmlDeviceGetCudaComputeCapability_fn getCudaComputeCapability = nullptr;
  nvmlDeviceGetMemoryInfo_fn getMemoryInfo = nullptr;
  nvmlDeviceGetPciInfo_fn getPciInfo = nullptr;  // _v3, else _v2
  nvmlSystemGetDriverVersion_fn getDriverVersion = nullptr;
  nvmlSystemGetCudaDriverVersion_fn getCudaDriverVersion = nullptr;  // _v2, else the original
  nvmlDeviceGetUtilizationRates_fn getUtilizationRates = nullptr;
  nvmlDeviceGetComputeRunningProcesses_v2_fn getComputeProcessesV2 = nullptr;  // _v3, else _v2
  nvmlDeviceGetComputeRunningProcesses_v1_fn getComputeProcessesV1 = nullptr;
  nvmlDeviceGetTemperature_fn getTemperature = nullptr;
  nvmlDeviceGetClockInfo_fn getClockInfo = nullptr;
  nvmlDeviceGetPowerUsage_fn getPowerUsage = nullptr;

  std::string ErrorText(nvmlReturn_t code) const;
  // The failure of a required call, e.g. "nvmlDeviceGetName failed for GPU 0: GPU is lost".
  NvmlFailure CallFailed(const char *function, nvmlReturn_t code, const std::string &subject) const;
};

// Opens (once per path) and initialises NVML from `path`, then runs `body` under the NVML lock.
NvmlFailure WithNvml(const std::string &path, const std::function<NvmlFailure(NvmlLibrary &)> &body);

// nvmlShutdown for every initialised library; the next WithNvml() initialises again.
void ShutdownAll();

// The handle of GPU `index`, or a "range" failure when NVML sees fewer GPUs.
NvmlFailure DeviceAt(NvmlLibrary &nvml, unsigned int index, nvmlDevice_t *device);

// A NUL-terminated string from a fixed NVML buffer, however the driver filled it.
std::string FromBuffer(const char *buffer, std::size_t size);

}  // namespace kiln
