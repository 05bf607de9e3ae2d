#!/usr/bin/env bash
# Provisions a CPU Vulkan device (Mesa lavapipe from Debian bookworm-backports) into .vk-cpu/ at the repo root,
# so the WebGPU (Dawn) kernels can run on machines without a GPU. Idempotent: a second run only prints the env.
# The system is left untouched: apt runs with a private sources/lists/cache folder and packages are unpacked
# with `dpkg -x`, never installed. Debian 12's own lavapipe (Mesa 22) is rejected by Dawn, hence backports.
#
# Usage: scripts/provision-cpu-webgpu.sh            # provisions, then prints `export ...` lines
#        eval "$(scripts/provision-cpu-webgpu.sh)"  # provisions and applies them to the current shell
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VK="$ROOT/.vk-cpu"
ROOTFS="$VK/root"
ICD="$VK/lvp_icd.json"
# The Debian mirror this machine already uses (deb822 or one-line sources), unless HEFTY_DEBIAN_MIRROR says.
system_mirror() {
  { grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'
    grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}'; } | grep -m1 '/debian/*$' || true
}
MIRROR="${HEFTY_DEBIAN_MIRROR:-$(system_mirror)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
case "$ARCH" in
  amd64) TRIPLET=x86_64-linux-gnu ;;
  arm64) TRIPLET=aarch64-linux-gnu ;;
  *) echo "provision-cpu-webgpu: unsupported architecture $ARCH" >&2; exit 1 ;;
esac
LIBDIR="$ROOTFS/usr/lib/$TRIPLET"

print_env() {
  echo "export VK_DRIVER_FILES=$ICD"
  echo "export VK_ICD_FILENAMES=$ICD"
  echo "export LD_LIBRARY_PATH=$LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  echo "export HEFTY_GPU_BACKEND=vulkan"
}

provisioned() { [[ -f "$VK/.done" && -f "$ICD" && -e "$LIBDIR/libvulkan_lvp.so" ]]; }
if provisioned; then
  print_env
  exit 0
fi

# Concurrent test runs provision once: the others wait here, then find it done.
mkdir -p "$VK"
exec 9>"$VK/.lock"
flock 9
if provisioned; then
  print_env
  exit 0
fi

command -v apt-get >/dev/null || { echo "provision-cpu-webgpu: needs apt-get (Debian/Ubuntu)" >&2; exit 1; }
rm -rf "$VK/debs" "$ROOTFS"
mkdir -p "$VK/apt/lists/partial" "$VK/apt/cache/archives/partial" "$VK/apt/sources.list.d" "$VK/debs" "$ROOTFS"

# Private apt configuration: only our sources file, our lists and our cache are used.
cat >"$VK/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-backports main
EOF
APT_OPTS=(
  -o "Dir::Etc::SourceList=$VK/apt/sources.list"
  -o "Dir::Etc::SourceParts=$VK/apt/sources.list.d"
  -o "Dir::State::Lists=$VK/apt/lists"
  -o "Dir::Cache=$VK/apt/cache"
  -o "Debug::NoLocking=1"
  -o "APT::Get::List-Cleanup=0"
  -o "APT::Sandbox::User=root"
)
apt-get "${APT_OPTS[@]}" -qq update >&2

# Mesa and libdrm from backports (Dawn needs Mesa >= 23); the Vulkan loader from bookworm.
(cd "$VK/debs" && apt-get "${APT_OPTS[@]}" -qq download \
  mesa-vulkan-drivers/bookworm-backports libdrm2/bookworm-backports libdrm-amdgpu1/bookworm-backports \
  libvulkan1/bookworm >&2)
for deb in "$VK"/debs/*.deb; do dpkg -x "$deb" "$ROOTFS"; done
missing="$(LD_LIBRARY_PATH="$LIBDIR" ldd "$LIBDIR/libvulkan_lvp.so" | awk '/not found/ {print $1}')"
if [[ -n "$missing" ]]; then
  echo "provision-cpu-webgpu: lavapipe needs libraries this host lacks: $missing" >&2
  exit 1
fi

# ICD manifest pointing at the private lavapipe with an absolute path.
cat >"$ICD" <<EOF
{
  "file_format_version": "1.0.0",
  "ICD": { "library_path": "$LIBDIR/libvulkan_lvp.so", "api_version": "1.3.0" }
}
EOF
rm -rf "$VK/apt/cache"
touch "$VK/.done"
print_env
