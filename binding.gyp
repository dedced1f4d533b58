{
  "targets": [
    {
      "target_name": "agentcluster",
      "sources": [
        "native/host/addon.cc",
        "native/host/agent_handle.cc",
        "native/host/addon_state.cc",
        "native/host/coded_error.cc",
        "native/host/raw_napi.cc",
        "native/host/native_args.cc",
        "native/host/agent_options_reader.cc",
        "native/host/event_batch.cc",
        "native/host/sink.cc",
        "native/host/host_port_owner.cc",
        "native/agent/agent_diagnostics.cc",
        "native/agent/near_limit_snapshot.cc",
        "native/agent/agent_runtime.cc",
        "native/agent/agent_globals.cc",
        "native/agent/agent_thread.cc",
        "native/agent/atomics_wait.cc",
        "native/agent/host_bridge.cc",
        "native/agent/mailbox.cc",
        "native/shared/message.cc",
        "native/agent/module_loader.cc",
        "native/agent/async_parent_marker.cc",
        "native/shared/module_table.cc",
        "native/shared/regular_file.cc",
        "native/agent/cjs_runtime.cc",
        "native/agent/node_snapshot.cc",
        "native/agent/snapshot/serializer_flags.cc",
        "native/agent/snapshot/number_string_cache.cc",
        "native/agent/snapshot/agent_snapshot.cc",
        "native/agent/snapshot/snapshot_verifier.cc",
        "native/agent/platform_delegate.cc",
        "native/shared/port.cc",
        "native/agent/test262_host.cc",
        "native/agent/web/base64.cc",
        "native/agent/web/digest.cc",
        "native/agent/web/encoding.cc",
        "native/agent/web/random.cc",
        "native/agent/web/web_realm.cc"
      ],
      "include_dirs": ["native", "<!(node -p \"require('node-addon-api').include_dir\")"],
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
