#!/usr/bin/env bash
# Runs the std face's tests for Windows (x86_64-pc-windows-gnu) under wine, so the Windows
# MmapRegion (VirtualAlloc, CreateFileMapping + MapViewOfFile, and their release calls) is
# executed, not only type-checked. Wine is not Windows, but it runs the same API calls.
#
# Idempotent: installs Debian's wine64 and the MinGW cross compiler, and the Rust target, only
# if they are missing.
#
# Debian's wine 8 lacks bcryptprimitives.dll, which Rust's std imports for ProcessPrng, so every
# Rust executable would die at load time (status c0000135). The script builds a one-function
# stand-in with MinGW and puts it in a private wine prefix under target/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

target=x86_64-pc-windows-gnu
wine=/usr/lib/wine/wine64

step() { printf '\n=== wine: %s\n' "$*"; }

step "packages"
if [ ! -x "$wine" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" \
        apt-get install -y -qq --no-install-recommends wine64 gcc-mingw-w64-x86-64 >/dev/null
fi
"$wine" --version
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi

step "wine prefix"
export WINEPREFIX="$root/target/wineprefix"
export WINEDEBUG=-all
stub_dir="$root/target/wine-stub"
mkdir -p "$stub_dir"
dll="$stub_dir/bcryptprimitives.dll"
if [ ! -f "$dll" ]; then
    cat >"$stub_dir/bcryptprimitives.c" <<'EOF'
#include <windows.h>
#include <bcrypt.h>
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    return BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
}
EOF
    x86_64-w64-mingw32-gcc -shared -O2 -o "$dll" "$stub_dir/bcryptprimitives.c" -lbcrypt
fi
if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
    # Creating the prefix prints a harmless error about syswow64 (no 32-bit wine).
    "$wine" cmd /c exit >/dev/null 2>&1 || true
fi
cp "$dll" "$WINEPREFIX/drive_c/windows/system32/"

export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$wine"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

step "cargo test -p vm-memory-core --all-features --target $target (under wine)"
cargo test -p vm-memory-core --all-features --target "$target" 2>&1 | tee -a "$log"
step "cargo test -p vm-memory --target $target (under wine)"
cargo test -p vm-memory --target "$target" 2>&1 | tee -a "$log"

# A run that executed nothing proves nothing: require the Windows mmap tests to have run.
passed=$(awk '/^test result: ok\./ { n += $4 } END { print n + 0 }' "$log")
echo "wine: $passed tests passed"
if ! grep -q '^test windows::two_views_of_one_file_share_memory_and_reach_the_file \.\.\. ok' "$log"; then
    echo "wine: the Windows mmap tests did not run" >&2
    exit 1
fi
