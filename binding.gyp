{
  "targets": [
    {
      "target_name": "sluice",
      "sources": [
        "native/addon.cc",
        "native/args.cc",
        "native/crc32c.cc",
        "native/crc32c_binding.cc",
        "native/errors.cc",
        "native/file_lock.cc",
        "native/mapped_index.cc",
        "native/mapping.cc",
        "native/mapping_faults.cc",
        "native/process_limits.cc",
        "native/promise_worker.cc",
        "native/record_walk.cc",
        "native/record_walk_binding.cc",
        "native/segment_file.cc",
        "native/socket_buffers.cc",
        "native/transfer.cc",
        "native/transfer_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      # NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS: while a worker is torn down, node-addon-api drops
      # an exception it cannot throw instead of aborting the process (see native/can_run_js.h).
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED",
                  "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags": ["-O3"]
    }
  ]
}
