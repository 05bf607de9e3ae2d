#!/usr/bin/env bash
# Packs what scripts/gpu-device-check.sh needs on a GPU machine that has no Node and no network into
# .gpu-device/ (git-ignored, < 64 MiB): Node 24 from node_modules/node (xz), the webgpu package with only its
# linux-x64 dawn.node (xz), the Vulkan loader (Debian's libvulkan1, which Dawn needs and slim images lack), the
# native addon and a prebuilt native NTT driver (static libstdc++) for the CPU columns. Run it here after `npm ci`; then carry `.gpu-device` to the device machine (see src/gpu/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$ROOT/.gpu-device"
NODE_BIN="$ROOT/node_modules/node/bin/node"
WEBGPU="$ROOT/node_modules/webgpu"
for need in "$NODE_BIN" "$WEBGPU/dist/linux-x64/dawn.node" "$ROOT/build/Release/hefty.node"; do
  [[ -e "$need" ]] || { echo "gpu-device-bundle: $need is missing (run npm ci first)" >&2; exit 1; }
done
rm -rf "$BUNDLE"
mkdir -p "$BUNDLE"
xz -T0 -6 -c "$NODE_BIN" >"$BUNDLE/node.xz"
tar -C "$ROOT/node_modules" -cJf "$BUNDLE/webgpu.tar.xz" \
  webgpu/package.json webgpu/index.js webgpu/types.d.ts webgpu/LICENSE.md webgpu/dist/linux-x64
cp "$ROOT/build/Release/hefty.node" "$BUNDLE/hefty.node"
# The loader comes with the CPU Vulkan device's packages (scripts/provision-cpu-webgpu.sh).
eval "$("$ROOT/scripts/provision-cpu-webgpu.sh")"
mkdir -p "$BUNDLE/vulkan"
cp -L "${LD_LIBRARY_PATH%%:*}/libvulkan.so.1" "$BUNDLE/vulkan/libvulkan.so.1"
"$NODE_BIN" --input-type=module -e "
  import { compileNativeNttDriver } from '$ROOT/test/gpu/native/driver.ts';
  const failure = compileNativeNttDriver('$BUNDLE/ntt-driver');
  if (failure) { console.error(failure); process.exit(1); }
"
"$NODE_BIN" --version >"$BUNDLE/node-version.txt"
du -sh "$BUNDLE"
