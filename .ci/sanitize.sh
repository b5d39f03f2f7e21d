#!/usr/bin/env bash
# Sanitizer runs for the `vm-memory` package (std-adapters/): the code Miri cannot execute.
#   ASan: every integration and unit test of the package: anonymous, file-backed and shared
#         mappings, memfd, hugetlb, THP, guard pages, fd I/O.
#   TSan: the concurrency tests (atomic accesses across threads, dirty marking from many
#         threads, GuestMemoryAtomic swaps under readers), with a sanitized std (-Zbuild-std).
#   TSan (tsan-core): the core's own concurrency tests: GuestMemoryAtomic readers and writers
#         in real threads (atomic::tests), concurrent bitmap marking and harvesting.
#
# Nightly only; each sanitizer gets its own target directory under target/ because
# RUSTFLAGS change every artifact. Idempotent: installs rust-src on nightly if it is missing.
# Usage: .ci/sanitize.sh [asan|tsan|tsan-core]...   (default: all three)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

target=x86_64-unknown-linux-gnu
jobs=("$@")
if [ ${#jobs[@]} -eq 0 ]; then jobs=(asan tsan tsan-core); fi

step() { printf '\n=== sanitize: %s\n' "$*"; }

if ! rustup +nightly component list --installed | grep -q '^rust-src'; then
    rustup +nightly component add rust-src
fi
rustc +nightly --version

for job in "${jobs[@]}"; do
    case "$job" in
    asan)
        step "AddressSanitizer: all tests of vm-memory"
        # handle_segv=0: the guard-page test forks a child that must die of SIGSEGV; with ASan's
        # handler the child would exit(1) after a report instead. Real faults still fail the run.
        # --tests keeps rustdoc (which would need the same flags) out.
        RUSTFLAGS="-Zsanitizer=address" \
            ASAN_OPTIONS="handle_segv=0:detect_leaks=1:abort_on_error=0" \
            CARGO_TARGET_DIR="$root/target/sanitize-asan" \
            cargo +nightly test -p vm-memory --target "$target" --lib --tests
        ;;
    tsan)
        step "ThreadSanitizer: concurrency tests of vm-memory"
        # Without -Zbuild-std, std is not instrumented and rustc refuses the mix.
        RUSTFLAGS="-Zsanitizer=thread" \
            TSAN_OPTIONS="halt_on_error=1" \
            CARGO_TARGET_DIR="$root/target/sanitize-tsan" \
            cargo +nightly test -Zbuild-std -p vm-memory --target "$target" --test mmap \
            -- concurrency::
        ;;
    tsan-core)
        step "ThreadSanitizer: concurrency tests of vm-memory-core"
        # Not included: volatile::tests::aligned_volatile_accesses_never_tear. It races plain
        # (non-atomic) volatile accesses on purpose, to show that each aligned access is one
        # machine access; in the C11 memory model TSan checks that is a data race, and TSan
        # rightly reports it. Guest memory shared with a guest is exactly such a race, which is
        # why the crate only promises single accesses, not race freedom, for volatile copies.
        RUSTFLAGS="-Zsanitizer=thread" \
            TSAN_OPTIONS="halt_on_error=1" \
            CARGO_TARGET_DIR="$root/target/sanitize-tsan" \
            cargo +nightly test -Zbuild-std -p vm-memory-core --all-features --target "$target" --lib \
            -- atomic::tests:: bitmap::tests::atomic_bitmap::concurrent_marking_and_harvesting_lose_no_bit
        ;;
    *)
        echo "unknown job $job (expected asan, tsan or tsan-core)" >&2
        exit 2
        ;;
    esac
done
step "done: ${jobs[*]}"
