// listGpus(library, callback): every GPU NVML sees, with what a worker needs to know about it.
#pragma once

#include <napi.h>

#include <optional>
#include <string>
#include <vector>

#include "nvml_library.h"

namespace kiln {

struct GpuRecord {
  unsigned int index = 0;
  std::string name;
  std::optional<int> ccMajor;
  std::optional<int> ccMinor;
  std::optional<unsigned long long> memoryTotal;
  std::optional<std::string> uuid;
  std::optional<unsigned int> pciDeviceId;
  std::optional<std::string> pciBusId;
};

struct ListGpusBaton {
  std::string library;  // path or soname handed to dlopen
  std::vector<GpuRecord> gpus;
  std::optional<std::string> driverVersion;
  std::optional<int> cudaDriverVersion;  // e.g. 13000 for CUDA 13.0
  NvmlFailure failure;
};

Napi::Value ListGpus(const Napi::CallbackInfo &info);

}  // namespace kiln
