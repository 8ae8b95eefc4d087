# Kiln's NVML addon (native/). It needs no CUDA toolkit or NVIDIA headers: libnvidia-ml.so.1 is
# opened at run time. Built by `npm install` through native/build.js, which never fails the install.
{
  "targets": [
    {
      "target_name": "kiln_nvml",
      "sources": [
        "native/src/kiln_nvml.cc",
        "native/src/nvml_library.cc",
        "native/src/list_gpus.cc",
        "native/src/gpu_telemetry.cc"
      ],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc": ["-Wall", "-Wextra"],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }]
      ]
    }
  ]
}
