#!/usr/bin/env bash
# Builds the bare-metal image in firmware/ (vm-memory-core on aarch64, no allocator), runs it on
# QEMU's aarch64 `virt` board and fails unless every check passed. Also prints the image size
# and how much of it vm-memory-core accounts for.
#
# Idempotent: installs Debian's qemu-system-arm and the Rust target only if they are missing.
# Environment: FIRMWARE_TIMEOUT (seconds for the QEMU run, default 120).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

target=aarch64-unknown-none
timeout_s="${FIRMWARE_TIMEOUT:-120}"
# The image gets its own target directory under the repository's target/, whatever the caller
# uses for the workspace.
export CARGO_TARGET_DIR="$root/target/firmware"
image="$CARGO_TARGET_DIR/$target/release/vm-memory-firmware-demo"
baseline="$CARGO_TARGET_DIR/baseline/$target/release/vm-memory-firmware-demo"

step() { printf '\n=== firmware: %s\n' "$*"; }

step "QEMU"
if ! command -v qemu-system-aarch64 >/dev/null; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" \
        apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
fi
qemu-system-aarch64 --version | head -n 1

step "Rust target $target"
# Run rustup inside firmware/ so that it acts on the toolchain that builds the image.
(
    cd firmware
    if ! rustup target list --installed | grep -qx "$target"; then
        rustup target add "$target"
    fi
    rustc --version
)

step "lint (rustfmt, clippy -D warnings)"
# The package is outside the workspace, so the workspace's fmt and clippy jobs do not see it.
(
    cd firmware
    cargo fmt --check
    cargo clippy --release --target "$target" -- -D warnings
)

step "build (release)"
(cd firmware && cargo build --release --target "$target")
# The same image without the checks, i.e. without any use of vm-memory-core: the size baseline.
(cd firmware && cargo build --release --target "$target" --features size-baseline \
    --target-dir "$CARGO_TARGET_DIR/baseline")

step "image size"
section_size() { size -A "$1" | awk -v s="$2" '$1 == s { print $2 + 0; found = 1 } END { if (!found) print 0 }'; }
if command -v size >/dev/null && command -v nm >/dev/null; then
    size -A "$image"
    text=$(section_size "$image" .text)
    rodata=$(section_size "$image" .rodata)
    base_text=$(section_size "$baseline" .text)
    base_rodata=$(section_size "$baseline" .rodata)
    echo "image:                           .text $text B, .rodata $rodata B"
    echo "baseline (no checks, no core):   .text $base_text B, .rodata $base_rodata B"
    echo "added by the checks + the core:  .text $((text - base_text)) B, .rodata $((rodata - base_rodata)) B"
    # Functions of the image by origin. Core code that LTO inlined into the checks counts as
    # the checks', so the vm_memory_core figure is a lower bound and the difference above an
    # upper bound of what the core adds.
    nm -S -C --size-sort "$image" >"$CARGO_TARGET_DIR/symbols.txt"
    declare -A bytes=() count=()
    while read -r _ hex_size kind name; do
        case "$kind" in t | T) ;; *) continue ;; esac
        case "$name" in
            vm_memory_firmware_demo::checks::*) origin="checks (this program)" ;;
            *vm_memory_core::*) origin="vm_memory_core" ;;
            *fmt*) origin="core::fmt (messages)" ;;
            *) origin="other (startup, harness, mem*)" ;;
        esac
        bytes[$origin]=$((${bytes[$origin]:-0} + 16#$hex_size))
        count[$origin]=$((${count[$origin]:-0} + 1))
    done <"$CARGO_TARGET_DIR/symbols.txt"
    echo "functions in the image, by origin:"
    for origin in "vm_memory_core" "checks (this program)" "core::fmt (messages)" \
        "other (startup, harness, mem*)"; do
        printf '  %6d B in %3d functions  %s\n' "${bytes[$origin]:-0}" "${count[$origin]:-0}" "$origin"
    done
    echo "largest vm_memory_core functions:"
    grep ' [tT] .*vm_memory_core::' "$CARGO_TARGET_DIR/symbols.txt" | grep -v ' vm_memory_firmware_demo::' \
        | tail -n 5 | while read -r _ hex_size _ name; do
            printf '  %6d B  %s\n' "$((16#$hex_size))" "$name"
        done
else
    echo "size/nm (binutils) not found: size report skipped"
fi

step "run on qemu-system-aarch64 -M virt (timeout ${timeout_s}s)"
log="$CARGO_TARGET_DIR/qemu.log"
set +e
timeout --kill-after=10 "$timeout_s" qemu-system-aarch64 \
    -M virt -cpu cortex-a53 -smp 1 -m 128M \
    -nodefaults -display none -serial stdio \
    -semihosting-config enable=on,target=native \
    -no-reboot -kernel "$image" </dev/null >"$log" 2>&1
status=$?
set -e
tr -d '\r' <"$log" >"$log.txt"
cat "$log.txt"

last_line=$(grep -v '^[[:space:]]*$' "$log.txt" | tail -n 1 || true)
if [ "$status" -eq 0 ] && [[ "$last_line" =~ ^PASS:\ all\ [0-9]+\ checks\ passed$ ]] \
    && ! grep -q '^\[FAIL\]' "$log.txt"; then
    echo "firmware: QEMU exit status 0, every check passed"
else
    case "$status" in
        124 | 137) why="timed out after ${timeout_s}s" ;;
        2) why="a check failed" ;;
        3) why="the image panicked" ;;
        4) why="unexpected CPU exception" ;;
        *) why="QEMU exit status $status" ;;
    esac
    echo "firmware: FAILED ($why)" >&2
    exit 1
fi
