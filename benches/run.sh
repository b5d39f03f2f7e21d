#!/usr/bin/env bash
# One command: a short pass of every benchmark (criterion wall clock, gungraun instruction
# counts, the GuestMemoryAtomic stall probe), then the report:
#   <target>/bench-report/report.md   tables of ratios (ours/upstream, ours/memcpy), targets
#   <target>/bench-report/report.svg  the plot
# where <target> is $CARGO_TARGET_DIR or target/.
#
# Usage: benches/run.sh [CRITERION_FILTER_REGEX]
# Environment:
#   BENCH_WARM_UP / BENCH_MEASURE   criterion seconds per benchmark (default 0.5 / 1)
#   BENCH_SKIP_INSTR=1              skip the instruction counts (no valgrind here)
#   BENCH_STALL_SECONDS             seconds per stall-probe run (default 0.5)
#   BENCH_COMMIT                    the commit to record (for a pass run from an exported tree)
# The whole pass takes about 15 minutes on two cores, mostly criterion (~450 benchmarks).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$target/bench-report"
warm="${BENCH_WARM_UP:-0.5}"
measure="${BENCH_MEASURE:-1}"
filter="${1:-}"
mkdir -p "$out"

loadavg() { cut -d' ' -f1 /proc/loadavg; }
# The commit measured, flagged when the crates it builds differ from it (a shared checkout can
# change under a long pass, so this is checked again at the end).
describe() {
    local c="${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
        ! git diff --quiet HEAD -- benches core std-adapters; then
        c="$c (with uncommitted changes)"
    fi
    echo "$c"
}

# Sample the 1-minute load average every 10 s while the pass runs.
: >"$out/load.txt"
(while true; do loadavg >>"$out/load.txt"; sleep 10; done) &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

{
    echo "command: benches/run.sh${filter:+ $filter} (BENCH_WARM_UP=$warm BENCH_MEASURE=$measure)"
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "commit: $(describe)"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')$(grep -q hypervisor /proc/cpuinfo && echo ' (virtual machine)')"
    echo "cpus: $(nproc)"
    echo "kernel: Linux $(uname -r)"
    echo "rustc: $(rustc --version)"
    echo "warm_up: $warm"
    echo "measurement: $measure"
    echo "gungraun: 0.20.0"
    echo "load_before: $(loadavg)"
} >"$out/meta.txt"

# Criterion keeps old results; remove them so that every number in the report is from this pass.
rm -rf "$target/criterion"
cargo bench -p vm-memory-benches --bench compare -- \
    --warm-up-time "$warm" --measurement-time "$measure" ${filter:+"$filter"}

if [ "${BENCH_SKIP_INSTR:-0}" != 1 ]; then
    cargo install --locked gungraun-runner --version 0.20.0
    rm -rf "$target/gungraun"
    GUNGRAUN_SAVE_SUMMARY=json cargo bench -p vm-memory-benches --bench instr
fi

cargo run -q --profile bench -p vm-memory-benches --bin stall-probe -- \
    "$out/stall.tsv" "${BENCH_STALL_SECONDS:-0.5}"

kill "$sampler" 2>/dev/null || true
{
    echo "load_after: $(loadavg)"
    echo "commit_after: $(describe)"
    echo "load_during: $(sort -n "$out/load.txt" | head -1)–$(sort -n "$out/load.txt" | tail -1)"
} >>"$out/meta.txt"

cargo run -q -p vm-memory-benches --bin bench-report -- "$target"
