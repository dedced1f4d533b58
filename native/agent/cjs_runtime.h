// The agent's CommonJS runtime: Node's module wrapper (exports, require,
// module, __filename, __dirname), one module record per file per agent
// (require.cache), cycles seeing partial exports, JSON modules. require()
// resolves through the host's module table; nothing reads the file system
// but the native compile step. Used only on the agent's thread.
#pragma once

#include <v8.h>

namespace agentcluster {

// The runtime's `load(path)` (returns module.exports), built on first use.
v8::MaybeLocal<v8::Function> NewCjsLoader(v8::Local<v8::Context> context);

}  // namespace agentcluster
