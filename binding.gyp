{
  "targets": [
    {
      "target_name": "agentcluster",
      "sources": [
        "native/addon.cc",
        "native/agent_handle.cc",
        "native/agent_diagnostics.cc",
        "native/agent_runtime.cc",
        "native/agent_globals.cc",
        "native/agent_thread.cc",
        "native/atomics_wait.cc",
        "native/host_bridge.cc",
        "native/mailbox.cc",
        "native/message.cc",
        "native/module_loader.cc",
        "native/module_table.cc",
        "native/cjs_runtime.cc",
        "native/node_snapshot.cc",
        "native/platform_delegate.cc",
        "native/port.cc",
        "native/test262_host.cc",
        "native/web/base64.cc",
        "native/web/digest.cc",
        "native/web/encoding.cc",
        "native/web/random.cc",
        "native/web/web_realm.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fno-rtti", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        # V8 13 headers (Node 24+) need C++20; Node 22 (module version 127) builds with it too.
        ["node_module_version>=127", {
          "cflags_cc": ["-std=c++20"]
        }, {
          "cflags_cc": ["-std=c++17"]
        }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "GCC_ENABLE_CPP_RTTI": "NO",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
          }
        }],
        ["'<!(echo $AGENTCLUSTER_SANITIZE)'!=''", {
          "cflags_cc": ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"],
          "ldflags": ["-fsanitize=address,undefined"]
        }]
      ]
    }
  ]
}
