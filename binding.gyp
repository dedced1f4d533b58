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
        "native/mailbox.cc",
        "native/message.cc",
        "native/module_loader.cc",
        "native/node_snapshot.cc",
        "native/platform_delegate.cc",
        "native/port.cc",
        "native/test262_host.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fno-rtti", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
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
