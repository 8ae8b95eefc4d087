// Kiln's NVML addon: registers the operations and nothing else (each lives in its own file).
#include <napi.h>

#include "gpu_telemetry.h"
#include "list_gpus.h"
#include "nvml_library.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // Each environment (the main thread, a worker thread) shuts NVML down as it ends; NVML is
  // initialised again if another environment still queries it.
  env.AddCleanupHook([]() { kiln::ShutdownAll(); });
  exports.Set("listGpus", Napi::Function::New(env, kiln::ListGpus, "listGpus"));
  exports.Set("gpuTelemetry", Napi::Function::New(env, kiln::GpuTelemetry, "gpuTelemetry"));
  return exports;
}

}  // namespace

NODE_API_MODULE(kiln_nvml, Init)
