#!/usr/bin/env bash
# The GPU check for a machine with a real GPU and neither Node nor network (the device machine): correctness of
# every kernel on that GPU (test/gpu/gpu-checks.ts), then the batched NTT bench (upload / kernel / readback,
# kernel vs the bandwidth floor, speed-up over one CPU core) and the batched key-switching bench, as JSON.
#
#   here:    npm ci && scripts/gpu-device-bundle.sh          # packs .gpu-device/ (Node 24, webgpu, addon, driver)
#   device:  run(command="scripts/gpu-device-check.sh", carry=[".gpu-device"], timeout_s=540)
#            results land in $OUT (or bench/results/device-<time>/): gpu-checks.json, gpu-ntt-*.json,
#            gpu-key-switch.json, log.txt
# HEFTY_GPU_BANDWIDTH_GBS sets the floor's bandwidth (default from nvidia-smi: H200 4800, H100 3350, else 3000).
# HEFTY_DEVICE_CHECK_QUICK=1 runs a small matrix only (a first smoke run).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$ROOT/.gpu-device"
RESULTS="${OUT:-$ROOT/bench/results/device-$(date -u +%Y%m%dT%H%M%S)}"
mkdir -p "$RESULTS"
exec > >(tee "$RESULTS/log.txt") 2>&1
cd "$ROOT"

# Node 24: the bundled one unless a node >= 24 is on PATH.
NODE="$(command -v node || true)"
if [[ -z "$NODE" ]] || (( $("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0) < 24 )); then
  [[ -f "$BUNDLE/node.xz" ]] || { echo "no Node 24 and no $BUNDLE/node.xz (run scripts/gpu-device-bundle.sh)"; exit 1; }
  NODE="$(mktemp -d)/node"
  xz -dc "$BUNDLE/node.xz" >"$NODE" && chmod +x "$NODE"
fi
if [[ ! -f node_modules/webgpu/dist/linux-x64/dawn.node ]]; then
  mkdir -p node_modules && tar -C node_modules -xJf "$BUNDLE/webgpu.tar.xz"
fi
[[ -f build/Release/hefty.node ]] || export HEFTY_NATIVE_ADDON="$BUNDLE/hefty.node"
[[ -f "$BUNDLE/ntt-driver" ]] && export HEFTY_NTT_DRIVER="$BUNDLE/ntt-driver"
export HEFTY_GPU_BACKEND="${HEFTY_GPU_BACKEND:-vulkan}"

# Dawn loads the Vulkan loader (libvulkan.so.1) at run time: use the bundled one when the image has none.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' && [[ -f "$BUNDLE/vulkan/libvulkan.so.1" ]]; then
  export LD_LIBRARY_PATH="$BUNDLE/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# NVIDIA's Vulkan driver lives in libGLX_nvidia.so.0; when the container has it but no ICD manifest, write one.
icds="$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null || true)"
if [[ -z "$icds" && -z "${VK_DRIVER_FILES:-}" ]]; then
  glx="$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia.so.0/ {print $NF; exit}')"
  if [[ -n "$glx" ]]; then
    icd="$(mktemp -d)/nvidia_icd.json"
    printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" >"$icd"
    export VK_DRIVER_FILES="$icd"
    icds="$icd (written)"
  fi
fi
if [[ -n "${VK_DRIVER_FILES:-}" ]]; then icds="VK_DRIVER_FILES=$VK_DRIVER_FILES"; fi
echo "Vulkan ICDs: ${icds:-none found (Dawn will see no Vulkan adapter)}"

GPU_NAME="$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)"
case "$GPU_NAME" in
  *H200*) DEFAULT_BW=4800 ;;
  *H100*) DEFAULT_BW=3350 ;;
  *) DEFAULT_BW=3000 ;;
esac
BW="${HEFTY_GPU_BANDWIDTH_GBS:-$DEFAULT_BW}"
echo "node $("$NODE" --version), GPU: ${GPU_NAME:-unknown (no nvidia-smi)}, floor bandwidth ${BW} GB/s, $(nproc) cores"

status=0
step() {
  local limit="$1"
  shift
  echo "== $* (limit ${limit}s)"
  timeout "$limit" "$NODE" "$@" || { echo "== exit $? from: $*"; status=1; }
}

# Correctness first: every kernel against the BigInt reference and the native engine, key switching vs the
# native evaluator, on this GPU.
timeout 180 "$NODE" test/gpu/gpu-checks.ts run | sed -n 's/^@@RESULT //p' >"$RESULTS/gpu-checks.json" || status=1
"$NODE" -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8") || "{}");
  const all = Object.entries(r.results ?? {});
  const bad = all.filter(([, v]) => !v.ok);
  console.log(`checks on ${r.adapter ?? "no adapter: " + r.reason}: ${all.length - bad.length}/${all.length} passed`);
  for (const [k, v] of bad) console.log(`FAILED ${k}: ${String(v.error).split("\n")[0]}`);
  process.exit(bad.length || !r.adapter ? 1 : 0);
' "$RESULTS/gpu-checks.json" || status=1

if [[ "${HEFTY_DEVICE_CHECK_QUICK:-0}" == 1 ]]; then
  step 120 bench/gpu-ntt.ts --system --bandwidth="$BW" --n=8192,65536 --primes=8,32 --bits=60 --polys=64 \
    --out="$RESULTS/gpu-ntt-quick.json"
  step 120 bench/gpu-key-switch.ts --system --batch=16,64 --out="$RESULTS/gpu-key-switch.json"
else
  step 200 bench/gpu-ntt.ts --system --bandwidth="$BW" --n=8192,32768 --primes=8,16,32 --bits=60,30 \
    --polys=64,512 --out="$RESULTS/gpu-ntt-n8192-32768.json"
  step 150 bench/gpu-ntt.ts --system --bandwidth="$BW" --n=65536 --primes=8,16,32 --bits=60,30 --polys=64,256 \
    --out="$RESULTS/gpu-ntt-n65536.json"
  step 150 bench/gpu-key-switch.ts --system --full --out="$RESULTS/gpu-key-switch.json"
fi
echo "results: $RESULTS (status $status)"
exit "$status"
