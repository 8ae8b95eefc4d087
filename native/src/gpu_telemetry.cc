#include "gpu_telemetry.h"

#include "js_values.h"

namespace kiln {

namespace {

// Asks a ComputeRunningProcesses function for every process, growing the buffer while processes
// start between the calls. Returns the NVML code of the last call.
template <typename Info, typename Fn>
nvmlReturn_t ListProcesses(Fn fn, nvmlDevice_t device, std::vector<ProcessRecord> &out) {
  std::vector<Info> infos;
  nvmlReturn_t code = NVML_SUCCESS;
  for (int attempt = 0; attempt < 5; attempt++) {
    unsigned int count = static_cast<unsigned int>(infos.size());
    code = fn(device, &count, infos.empty() ? nullptr : infos.data());
    if (code == NVML_ERROR_INSUFFICIENT_SIZE) {
      infos.resize(count + 8);
      continue;
    }
    if (code != NVML_SUCCESS) return code;
    out.clear();
    for (unsigned int i = 0; i < count && i < infos.size(); i++) {
      ProcessRecord process;
      process.pid = infos[i].pid;
      if (infos[i].usedGpuMemory != NVML_VALUE_NOT_AVAILABLE) process.usedMemory = infos[i].usedGpuMemory;
      out.push_back(process);
    }
    return code;
  }
  return code;
}

NvmlFailure ReadTelemetry(NvmlLibrary &nvml, GpuTelemetryBaton &b) {
  nvmlDevice_t device = nullptr;
  NvmlFailure failure = DeviceAt(nvml, b.index, &device);
  if (failure.failed()) return failure;
  const std::string subject = "GPU " + std::to_string(b.index);
  // Readings are optional (null when unsupported), except that a lost GPU fails the whole call:
  // a worker must not go on building on it.
  const char *lostIn = nullptr;
  auto check = [&lostIn](nvmlReturn_t code, const char *function) {
    if (code == NVML_ERROR_GPU_IS_LOST && lostIn == nullptr) lostIn = function;
    return code == NVML_SUCCESS;
  };

  if (nvml.getUtilizationRates) {
    nvmlUtilization_t utilization = {};
    if (check(nvml.getUtilizationRates(device, &utilization), "nvmlDeviceGetUtilizationRates")) {
      b.utilizationGpu = utilization.gpu;
      b.utilizationMemory = utilization.memory;
    }
  }
  if (nvml.getMemoryInfo) {
    nvmlMemory_t memory = {};
    if (check(nvml.getMemoryInfo(device, &memory), "nvmlDeviceGetMemoryInfo")) {
      b.memoryUsed = memory.used;
      b.memoryTotal = memory.total;
    }
  }
  std::vector<ProcessRecord> processes;
  if (nvml.getComputeProcessesV2) {
    if (check(ListProcesses<nvmlProcessInfo_v2_t>(nvml.getComputeProcessesV2, device, processes),
              "nvmlDeviceGetComputeRunningProcesses_v3")) {
      b.processes = processes;
    }
  } else if (nvml.getComputeProcessesV1) {
    if (check(ListProcesses<nvmlProcessInfo_v1_t>(nvml.getComputeProcessesV1, device, processes),
              "nvmlDeviceGetComputeRunningProcesses")) {
      b.processes = processes;
    }
  }
  unsigned int value = 0;
  if (nvml.getTemperature && check(nvml.getTemperature(device, NVML_TEMPERATURE_GPU, &value), "nvmlDeviceGetTemperature")) {
    b.temperature = value;
  }
  if (nvml.getClockInfo && check(nvml.getClockInfo(device, NVML_CLOCK_SM, &value), "nvmlDeviceGetClockInfo")) {
    b.smClock = value;
  }
  if (nvml.getClockInfo && check(nvml.getClockInfo(device, NVML_CLOCK_MEM, &value), "nvmlDeviceGetClockInfo")) {
    b.memClock = value;
  }
  if (nvml.getPowerUsage && check(nvml.getPowerUsage(device, &value), "nvmlDeviceGetPowerUsage")) {
    b.powerMilliwatts = value;
  }
  if (lostIn != nullptr) return nvml.CallFailed(lostIn, NVML_ERROR_GPU_IS_LOST, subject);
  return {};
}

class GpuTelemetryWorker : public Napi::AsyncWorker {
 public:
  GpuTelemetryWorker(Napi::Function callback, GpuTelemetryBaton *baton)
      : Napi::AsyncWorker(callback), baton(baton) {}
  ~GpuTelemetryWorker() { delete baton; }

  void Execute() override {
    GpuTelemetryBaton &b = *baton;
    b.failure = WithNvml(b.library, [&b](NvmlLibrary &nvml) { return ReadTelemetry(nvml, b); });
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (baton->failure.failed()) {
      Callback().Call({FailureToError(env, baton->failure)});
      return;
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("index", baton->index);
    result.Set("utilizationGpu", OrNull(env, baton->utilizationGpu));
    result.Set("utilizationMemory", OrNull(env, baton->utilizationMemory));
    result.Set("memoryUsedBytes", OrNull(env, baton->memoryUsed));
    result.Set("memoryTotalBytes", OrNull(env, baton->memoryTotal));
    if (baton->processes) {
      Napi::Array processes = Napi::Array::New(env, baton->processes->size());
      for (std::size_t i = 0; i < baton->processes->size(); i++) {
        const ProcessRecord &process = (*baton->processes)[i];
        Napi::Object object = Napi::Object::New(env);
        object.Set("pid", process.pid);
        object.Set("usedMemoryBytes", OrNull(env, process.usedMemory));
        processes.Set(i, object);
      }
      result.Set("processes", processes);
    } else {
      result.Set("processes", env.Null());
    }
    result.Set("temperatureC", OrNull(env, baton->temperature));
    result.Set("smClockMHz", OrNull(env, baton->smClock));
    result.Set("memClockMHz", OrNull(env, baton->memClock));
    result.Set("powerMilliwatts", OrNull(env, baton->powerMilliwatts));
    Callback().Call({env.Null(), result});
  }

 private:
  GpuTelemetryBaton *baton;
};

}  // namespace

// Arguments are validated in JS (src/native/nvml.ts).
Napi::Value GpuTelemetry(const Napi::CallbackInfo &info) {
  std::string library = info[0].As<Napi::String>().Utf8Value();
  unsigned int index = info[1].As<Napi::Number>().Uint32Value();
  Napi::Function callback = info[2].As<Napi::Function>();
  auto *baton = new GpuTelemetryBaton();
  baton->library = library;
  baton->index = index;
  (new GpuTelemetryWorker(callback, baton))->Queue();
  return info.Env().Undefined();
}

}  // namespace kiln
