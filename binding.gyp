{
  "targets": [
    {
      "target_name": "sluice",
      "sources": [
        "native/addon.cc",
        "native/crc32c.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra", "-fno-exceptions"],
      "cflags": ["-O3"]
    }
  ]
}
