#include "nvml_library.h"

#include <dlfcn.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace kiln {

namespace {

std::mutex nvmlLock;
// Opened libraries by path. Never dlclosed: function pointers into them must stay valid, and
// reopening the driver's library is not free.
std::map<std::string, std::unique_ptr<NvmlLibrary>> libraries;

template <typename Fn>
Fn Symbol(void *handle, const char *name) {
  return reinterpret_cast<Fn>(dlsym(handle, name));
}

template <typename Fn>
Fn FirstSymbol(void *handle, const char *preferred, const char *fallback) {
  Fn fn = Symbol<Fn>(handle, preferred);
  return fn != nullptr ? fn : Symbol<Fn>(handle, fallback);
}

NvmlFailure Unavailable(const std::string &message) {
  NvmlFailure failure;
  failure.kind = "unavailable";
  failure.message = message;
  return failure;
}

NvmlFailure Open(const std::string &path, NvmlLibrary **out) {
  auto found = libraries.find(path);
  if (found != libraries.end()) {
    *out = found->second.get();
    return {};
  }
  dlerror();
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char *why = dlerror();
    // Not cached: a driver installed later is found by the next call.
    return Unavailable("NVIDIA driver not found: " + path + " could not be loaded: " + (why ? why : "unknown error"));
  }
  auto nvml = std::make_unique<NvmlLibrary>();
  nvml->path = path;
  nvml->handle = handle;
  nvml->init = Symbol<nvmlInit_v2_fn>(handle, "nvmlInit_v2");
  nvml->shutdown = Symbol<nvmlShutdown_fn>(handle, "nvmlShutdown");
  nvml->errorString = Symbol<nvmlErrorString_fn>(handle, "nvmlErrorString");
  nvml->getCount = Symbol<nvmlDeviceGetCount_v2_fn>(handle, "nvmlDeviceGetCount_v2");
  nvml->getHandleByIndex = Symbol<nvmlDeviceGetHandleByIndex_v2_fn>(handle, "nvmlDeviceGetHandleByIndex_v2");
  nvml->getName = Symbol<nvmlDeviceGetName_fn>(handle, "nvmlDeviceGetName");
  const char *required[] = {"nvmlInit_v2", "nvmlShutdown", "nvmlErrorString", "nvmlDeviceGetCount_v2",
                            "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetName"};
  const void *resolved[] = {reinterpret_cast<void *>(nvml->init), reinterpret_cast<void *>(nvml->shutdown),
                            reinterpret_cast<void *>(nvml->errorString), reinterpret_cast<void *>(nvml->getCount),
                            reinterpret_cast<void *>(nvml->getHandleByIndex), reinterpret_cast<void *>(nvml->getName)};
  for (std::size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
    if (resolved[i] == nullptr) {
      dlclose(handle);
      return Unavailable(path + " is not a usable NVML library: it has no " + required[i]);
    }
  }
  nvml->getUuid = Symbol<nvmlDeviceGetUUID_fn>(handle, "nvmlDeviceGetUUID");
  nvml->getCudaComputeCapability =
      Symbol<nvmlDeviceGetCudaComputeCapability_fn>(handle, "nvmlDeviceGetCudaComputeCapability");
  nvml->getMemoryInfo = Symbol<nvmlDeviceGetMemoryInfo_fn>(handle, "nvmlDeviceGetMemoryInfo");
  nvml->getPciInfo = FirstSymbol<nvmlDeviceGetPciInfo_fn>(handle, "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2");
  nvml->getDriverVersion = Symbol<nvmlSystemGetDriverVersion_fn>(handle, "nvmlSystemGetDriverVersion");
  nvml->getCudaDriverVersion = FirstSymbol<nvmlSystemGetCudaDriverVersion_fn>(
      handle, "nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion");
  nvml->getUtilizationRates = Symbol<nvmlDeviceGetUtilizationRates_fn>(handle, "nvmlDeviceGetUtilizationRates");
  nvml->getComputeProcessesV2 = FirstSymbol<nvmlDeviceGetComputeRunningProcesses_v2_fn>(
      handle, "nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2");
  nvml->getComputeProcessesV1 =
      Symbol<nvmlDeviceGetComputeRunningProcesses_v1_fn>(handle, "nvmlDeviceGetComputeRunningProcesses");
  nvml->getTemperature = Symbol<nvmlDeviceGetTemperature_fn>(handle, "nvmlDeviceGetTemperature");
  nvml->getClockInfo = Symbol<nvmlDeviceGetClockInfo_fn>(handle, "nvmlDeviceGetClockInfo");
  nvml->getPowerUsage = Symbol<nvmlDeviceGetPowerUsage_fn>(handle, "nvmlDeviceGetPowerUsage");
  *out = nvml.get();
  libraries.emplace(path, std::move(nvml));
  return {};
}

}  // namespace

std::string NvmlLibrary::ErrorText(nvmlReturn_t code) const {
  const char *text = errorString(code);
  return text != nullptr ? text : "unknown NVML error";
}

NvmlFailure NvmlLibrary::CallFailed(const char *function, nvmlReturn_t code, const std::string &subject) const {
  NvmlFailure failure;
  failure.kind = "nvml";
  failure.function = function;
  failure.code = code;
  failure.message = std::string(function) + " failed" + (subject.empty() ? "" : " for " + subject) + ": " +
                    ErrorText(code);
  return failure;
}

NvmlFailure WithNvml(const std::string &path, const std::function<NvmlFailure(NvmlLibrary &)> &body) {
  std::lock_guard<std::mutex> guard(nvmlLock);
  NvmlLibrary *nvml = nullptr;
  NvmlFailure failure = Open(path, &nvml);
  if (failure.failed()) return failure;
  if (!nvml->initialized) {
    // nvmlInit can take seconds on GPUs without persistence mode, so it is done once and kept.
    nvmlReturn_t code = nvml->init();
    if (code != NVML_SUCCESS) {
      failure = Unavailable("NVML could not be initialised: nvmlInit_v2 failed: " + nvml->ErrorText(code));
      failure.function = "nvmlInit_v2";
      failure.code = code;
      return failure;
    }
    nvml->initialized = true;
  }
  return body(*nvml);
}

void ShutdownAll() {
  std::lock_guard<std::mutex> guard(nvmlLock);
  for (auto &entry : libraries) {
    NvmlLibrary &nvml = *entry.second;
    if (nvml.initialized) {
      nvml.shutdown();
      nvml.initialized = false;
    }
  }
}

NvmlFailure DeviceAt(NvmlLibrary &nvml, unsigned int index, nvmlDevice_t *device) {
  unsigned int count = 0;
  nvmlReturn_t code = nvml.getCount(&count);
  if (code != NVML_SUCCESS) return nvml.CallFailed("nvmlDeviceGetCount_v2", code, "");
  if (index >= count) {
    NvmlFailure failure;
    failure.kind = "range";
    failure.count = count;
    failure.message = "GPU index " + std::to_string(index) + " is past the " + std::to_string(count) +
                      " GPU(s) NVML sees";
    return failure;
  }
  code = nvml.getHandleByIndex(index, device);
  if (code != NVML_SUCCESS) return nvml.CallFailed("nvmlDeviceGetHandleByIndex_v2", code, "GPU " + std::to_string(index));
  return {};
}

std::string FromBuffer(const char *buffer, std::size_t size) {
  return std::string(buffer, strnlen(buffer, size));
}

}  // namespace kiln
