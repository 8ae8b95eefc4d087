#include "list_gpus.h"

#include "js_values.h"

namespace kiln {

namespace {

NvmlFailure ReadGpu(NvmlLibrary &nvml, unsigned int index, GpuRecord &gpu) {
  nvmlDevice_t device = nullptr;
  const std::string subject = "GPU " + std::to_string(index);
  nvmlReturn_t code = nvml.getHandleByIndex(index, &device);
  if (code != NVML_SUCCESS) return nvml.CallFailed("nvmlDeviceGetHandleByIndex_v2", code, subject);
  gpu.index = index;
  char name[NVML_DEVICE_NAME_BUFFER_SIZE] = {0};
  code = nvml.getName(device, name, sizeof(name));
  if (code != NVML_SUCCESS) return nvml.CallFailed("nvmlDeviceGetName", code, subject);
  gpu.name = FromBuffer(name, sizeof(name));

  // The rest is optional: a missing function or an unsupported query leaves the field null.
  if (nvml.getCudaComputeCapability) {
    int major = 0, minor = 0;
    if (nvml.getCudaComputeCapability(device, &major, &minor) == NVML_SUCCESS) {
      gpu.ccMajor = major;
      gpu.ccMinor = minor;
    }
  }
  if (nvml.getMemoryInfo) {
    nvmlMemory_t memory = {};
    if (nvml.getMemoryInfo(device, &memory) == NVML_SUCCESS) gpu.memoryTotal = memory.total;
  }
  if (nvml.getUuid) {
    char uuid[NVML_DEVICE_UUID_BUFFER_SIZE] = {0};
    if (nvml.getUuid(device, uuid, sizeof(uuid)) == NVML_SUCCESS) gpu.uuid = FromBuffer(uuid, sizeof(uuid));
  }
  if (nvml.getPciInfo) {
    nvmlPciInfo_t pci = {};
    if (nvml.getPciInfo(device, &pci) == NVML_SUCCESS) {
      gpu.pciDeviceId = pci.pciDeviceId;
      gpu.pciBusId = FromBuffer(pci.busId, sizeof(pci.busId));
    }
  }
  return {};
}

class ListGpusWorker : public Napi::AsyncWorker {
 public:
  ListGpusWorker(Napi::Function callback, ListGpusBaton *baton) : Napi::AsyncWorker(callback), baton(baton) {}
  ~ListGpusWorker() { delete baton; }

  void Execute() override {
    ListGpusBaton &b = *baton;
    b.failure = WithNvml(b.library, [&b](NvmlLibrary &nvml) -> NvmlFailure {
      unsigned int count = 0;
      nvmlReturn_t code = nvml.getCount(&count);
      if (code != NVML_SUCCESS) return nvml.CallFailed("nvmlDeviceGetCount_v2", code, "");
      if (nvml.getDriverVersion) {
        char version[NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE] = {0};
        if (nvml.getDriverVersion(version, sizeof(version)) == NVML_SUCCESS) {
          b.driverVersion = FromBuffer(version, sizeof(version));
        }
      }
      if (nvml.getCudaDriverVersion) {
        int version = 0;
        if (nvml.getCudaDriverVersion(&version) == NVML_SUCCESS) b.cudaDriverVersion = version;
      }
      b.gpus.resize(count);
      for (unsigned int index = 0; index < count; index++) {
        NvmlFailure failure = ReadGpu(nvml, index, b.gpus[index]);
        if (failure.failed()) return failure;
      }
      return {};
    });
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (baton->failure.failed()) {
      Callback().Call({FailureToError(env, baton->failure)});
      return;
    }
    Napi::Array gpus = Napi::Array::New(env, baton->gpus.size());
    for (std::size_t i = 0; i < baton->gpus.size(); i++) {
      const GpuRecord &gpu = baton->gpus[i];
      Napi::Object object = Napi::Object::New(env);
      object.Set("index", gpu.index);
      object.Set("name", gpu.name);
      object.Set("ccMajor", OrNull(env, gpu.ccMajor));
      object.Set("ccMinor", OrNull(env, gpu.ccMinor));
      object.Set("memoryTotalBytes", OrNull(env, gpu.memoryTotal));
      object.Set("uuid", OrNull(env, gpu.uuid));
      object.Set("pciDeviceId", OrNull(env, gpu.pciDeviceId));
      object.Set("pciBusId", OrNull(env, gpu.pciBusId));
      gpus.Set(i, object);
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("gpus", gpus);
    result.Set("driverVersion", OrNull(env, baton->driverVersion));
    result.Set("cudaDriverVersion", OrNull(env, baton->cudaDriverVersion));
    Callback().Call({env.Null(), result});
  }

 private:
  ListGpusBaton *baton;
};

}  // namespace

// Arguments are validated in JS (src/native/nvml.ts).
Napi::Value ListGpus(const Napi::CallbackInfo &info) {
  std::string library = info[0].As<Napi::String>().Utf8Value();
  Napi::Function callback = info[1].As<Napi::Function>();
  auto *baton = new ListGpusBaton();
  baton->library = library;
  (new ListGpusWorker(callback, baton))->Queue();
  return info.Env().Undefined();
}

}  // namespace kiln
