// The errors native host code throws to JS: an AgentError (the class
// src/native.ts hands over through setErrorClass) with a stable `code`.
// Called by AgentHandle and the addon's entry points.
#pragma once

#include <napi.h>

#include <string>

namespace agentcluster {

// An AgentError(code, message) when the class was handed over, else a plain
// Error with a `code`. Raw N-API calls: nothing here may throw in C++.
Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message);

}  // namespace agentcluster
