// Conversions shared by the operations' OnOK(): plain C++ results to JS values.
#pragma once

#include <napi.h>

#include <optional>
#include <string>

#include "nvml_library.h"

namespace kiln {

template <typename T>
Napi::Value OrNull(Napi::Env env, const std::optional<T> &value) {
  if (!value) return env.Null();
  if constexpr (std::is_same_v<T, std::string>) {
    return Napi::String::New(env, *value);
  } else {
    return Napi::Number::New(env, static_cast<double>(*value));
  }
}

// An Error carrying the failure's data; the JS layer turns it into NvmlUnavailableError,
// NvmlError or a RangeError with its own wording.
inline Napi::Value FailureToError(Napi::Env env, const NvmlFailure &failure) {
  Napi::Error error = Napi::Error::New(env, failure.message);
  Napi::Object object = error.Value();
  object.Set("kind", failure.kind);
  object.Set("nvmlFunction", failure.function.empty() ? env.Null() : Napi::String::New(env, failure.function));
  object.Set("nvmlReturn", OrNull(env, failure.code));
  object.Set("gpuCount", OrNull(env, failure.count));
  return object;
}

}  // namespace kiln
