#!/usr/bin/env bash
# Benchmarks in CI: build every bench target, then run the instruction-count benches (gungraun
# under valgrind), which are deterministic and so meaningful on a shared machine. The criterion
# wall-clock pass is not run here (it drifts with load); humans run `benches/run.sh`. The counts
# are checked: ours must stay below upstream on every in-region small-object path and must not grow
# with the number of regions (`bench-report --check-instr`).
#
# Needs valgrind (apt) and gungraun-runner 0.20.0, the version of the `gungraun` library the
# benches pin; `cargo install` below is a no-op when that version is already installed.
# About 3 minutes on two cores from a cold target directory (2 to build, 1 to run 145 benches).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
    sudo_if_needed apt-get update
    sudo_if_needed apt-get install -y valgrind
fi
cargo install --locked gungraun-runner --version 0.20.0

cargo bench -p vm-memory-benches --no-run
GUNGRAUN_SAVE_SUMMARY=json cargo bench -p vm-memory-benches --bench instr
# Gate: ours below upstream on every in-region small-object path, and flat in the region count.
cargo run -q -p vm-memory-benches --bin bench-report -- --check-instr "${CARGO_TARGET_DIR:-target}"
