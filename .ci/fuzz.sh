#!/usr/bin/env bash
# Fuzz smoke: builds the cargo-fuzz targets of fuzz/ (nightly, AddressSanitizer, debug assertions)
# and runs each on a scratch copy of its committed seed corpus (fuzz/corpus/<target>/) for
# FUZZ_SECONDS seconds (default 30), FUZZ_JOBS targets at a time (default 2). Prints the
# executions of each target and the total; fails if any target crashes (a panic is a crash: the
# differential checks panic on the first difference from the model). The crashing input is kept
# in fuzz/artifacts/<target>/; replay it with
#     cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
# and decode it with the model's property tests, which call the same checks.
#
# Usage: .ci/fuzz.sh [target]...   (default: every target of fuzz/Cargo.toml)
# Idempotent: installs cargo-fuzz 0.13.2 if it is missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/fuzz"

NIGHTLY=${NIGHTLY:-nightly}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_JOBS=${FUZZ_JOBS:-2}
target_dir="$root/target/fuzz"

if ! cargo fuzz --version 2>/dev/null | grep -q '^cargo-fuzz 0\.13\.2$'; then
    cargo install --locked cargo-fuzz --version 0.13.2
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo "+$NIGHTLY" fuzz list)
fi

start=$SECONDS
for t in "${targets[@]}"; do
    cargo "+$NIGHTLY" fuzz build --target-dir "$target_dir" "$t" 2>&1 | tail -n 1
done
echo "=== fuzz: built ${#targets[@]} targets in $((SECONDS - start)) s"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

run_one() {
    local t=$1 began=$SECONDS
    mkdir -p "$scratch/$t" "corpus/$t"
    # New inputs go to the scratch directory (listed first); the seeds stay as committed.
    if cargo "+$NIGHTLY" fuzz run --target-dir "$target_dir" "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$FUZZ_SECONDS" -timeout=10 -print_final_stats=1 \
        >"$scratch/$t.log" 2>&1; then
        echo ok >"$scratch/$t.status"
    else
        echo crashed >"$scratch/$t.status"
    fi
    echo $((SECONDS - began)) >"$scratch/$t.seconds"
}

running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$FUZZ_JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait

total=0
failed=()
printf '\n%-16s %14s %8s  %s\n' target executions seconds result
for t in "${targets[@]}"; do
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t.log" | tail -n 1)
    status=$(cat "$scratch/$t.status")
    printf '%-16s %14s %8s  %s\n' "$t" "${runs:-?}" "$(cat "$scratch/$t.seconds")" "$status"
    total=$((total + ${runs:-0}))
    if [ "$status" != ok ]; then
        failed+=("$t")
        echo "--- $t: last lines of the log"
        tail -n 40 "$scratch/$t.log"
        ls -1 "artifacts/$t" 2>/dev/null | sed "s|^|    fuzz/artifacts/$t/|" || true
    fi
done
printf '%-16s %14s\n' total "$total"
echo "=== fuzz: done in $((SECONDS - start)) s"
if [ ${#failed[@]} -ne 0 ]; then
    echo "fuzz: crashes in: ${failed[*]}" >&2
    exit 1
fi
