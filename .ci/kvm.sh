#!/usr/bin/env bash
# The KVM example (examples/kvm-guest): its tests, then the example itself, whose report shows
# what the guest computed and KVM's dirty log against the pages the guest wrote.
#
# Where /dev/kvm cannot run a guest (absent, no permission, no nested virtualisation), the KVM
# tests pass without running anything and say "skipped: <reason>"; this script repeats the
# reason and exits 0. With --require such a host is a failure instead.
# Usage: .ci/kvm.sh [--require]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

require=0
case "${1:-}" in
"") ;;
--require) require=1 ;;
*)
    echo "usage: $0 [--require]" >&2
    exit 2
    ;;
esac
export VM_MEMORY_KVM_REQUIRED=$require

step() { printf '\n=== kvm: %s\n' "$*"; }

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

step "cargo test -p vm-memory-kvm-example"
cargo test -p vm-memory-kvm-example --all-targets 2>&1 | tee "$log"

step "cargo run -p vm-memory-kvm-example"
status=0
cargo run -q -p vm-memory-kvm-example || status=$?
case "$status" in
0) step "done: the guest ran and every check passed" ;;
2)
    # The example printed why; the tests said the same.
    reason="$(grep -m1 -o 'skipped: .*' "$log" || echo 'skipped: see above')"
    [ "$require" -eq 0 ] || { echo "KVM is required (--require) but cannot run a guest" >&2; exit 1; }
    step "$reason"
    ;;
*) exit "$status" ;;
esac
