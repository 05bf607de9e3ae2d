# node-gyp build of the native engine: the same sources and flags as CMakeLists.txt (which `npm install` uses
# through cmake-js). Node-API only, so any Node headers work; offline, point node-gyp at installed ones:
#   npx node-gyp rebuild --nodedir=/usr    (a dir with include/node/common.gypi, e.g. Debian's libnode-dev)
# -Dhefty_native_arch=true tunes for the build machine (off by default). Output: build/Release/hefty.node. Note that `node-gyp rebuild` replaces build/ (and with it the cmake build).
{
  "variables": { "hefty_native_arch%": "false" },
  "targets": [
    {
      "target_name": "hefty",
      "sources": [
        "<!@(node scripts/native-sources.mjs core)",
        "<!@(node scripts/native-sources.mjs addon)"
      ],
      "include_dirs": [
        "native",
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('node-api-headers').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS", "NDEBUG"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++20", "-O2", "-O0"],
      "cflags_cc": ["-std=c++17", "-O3", "-pthread"],
      "ldflags": ["-pthread"],
      "conditions": [
        ["hefty_native_arch=='true'", { "cflags_cc": ["-march=native"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "GCC_ENABLE_CPP_RTTI": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_OPTIMIZATION_LEVEL": "3",
            "OTHER_CPLUSPLUSFLAGS": ["-pthread"]
          }
        }]
      ]
    }
  ]
}
