#!/usr/bin/env bash
# Drop-in proof for the `vm-memory` package in std-adapters/: fetches virtio-queue 0.18.0,
# linux-loader 0.14.0, vhost 0.18.0 and vhost-user-backend 0.24.0 from crates.io, points their
# `vm-memory` dependency at this repository with `[patch.crates-io]`, checks with `cargo tree`
# that the patch took effect, and runs their own test suites:
#   virtio-queue        `cargo test --features test-utils`   expects 54 unit + 4 doc tests
#   linux-loader        `cargo test` (default features)      expects 32 unit + 19 doc tests
#   vhost               `cargo test --features vhost-user-frontend,vhost-user-backend,vhost-vdpa`
#                                                            expects 99 unit + 0 doc tests
#   vhost-user-backend  `cargo test` (default features)      expects 27 unit/integration tests
# and, with vm-memory's `xen` feature (Xen and Unix regions side by side), in copies of their own:
#   vhost (xen)         `cargo build --all-targets` then `cargo test`, both with
#                       `--features xen,vhost-user-frontend,vhost-user-backend`
#                                                            expects 81 unit + 0 doc tests
#   vhost-user-backend (xen)  `cargo test --features xen`   expects 27 unit/integration tests
# For the xen copies `cargo tree` must also show this repository's vm-memory-xen.
# (vhost's vhost-net and vhost-vsock tests open /dev/vhost-net and /dev/vhost-vsock, which CI
# hosts lack, so those two features stay off.)
#
# Everything lives under target/downstream/ and is recreated on each run (idempotent). The
# crates come from cargo's registry cache when present, so a second run works offline.
# Environment: DOWNSTREAM_OFFLINE=1 forces --offline.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/target/downstream"
patch_path="$root/std-adapters"
export CARGO_TARGET_DIR="$work/target"

offline=()
if [ "${DOWNSTREAM_OFFLINE:-0}" = 1 ]; then offline=(--offline); fi

step() { printf '\n=== downstream: %s\n' "$*"; }
fail() { printf '\n!!! downstream: %s\n' "$*" >&2; exit 1; }

# A scratch package depending on the exact versions: `cargo metadata` tells where cargo unpacked
# their sources, which we then copy.
step "fetch the downstream crates"
mkdir -p "$work/fetch/src"
cat >"$work/fetch/Cargo.toml" <<'EOF'
[package]
name = "downstream-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
virtio-queue = "=0.18.0"
linux-loader = "=0.14.0"
vhost = "=0.18.0"
vhost-user-backend = "=0.24.0"

[workspace]
EOF
: >"$work/fetch/src/lib.rs"
fetch_meta() {
    (cd "$work/fetch" && cargo metadata --format-version 1 "${offline[@]}" "$@")
}
if ! meta="$(fetch_meta 2>"$work/fetch.log")"; then
    echo "online fetch failed, retrying from the local cache:" >&2
    cat "$work/fetch.log" >&2
    meta="$(fetch_meta --offline)" || fail "cannot fetch the downstream crates"
fi
source_dir() {
    printf '%s' "$meta" | python3 -c '
import json, os, sys
name, version = sys.argv[1], sys.argv[2]
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == name and p["version"] == version:
        print(os.path.dirname(p["manifest_path"]))
        break
else:
    sys.exit(f"{name} {version} not in the fetched graph")
' "$1" "$2"
}

# Copies a crate's packaged sources next to the others (into the directory named by the third
# argument, default the crate's name), makes it its own workspace (it sits inside ours) and
# patches vm-memory to this repository.
prepare() {
    local name=$1 version=$2 dest="$work/${3:-$1}"
    local src
    src="$(source_dir "$name" "$version")"
    rm -rf "$dest"
    cp -r "$src" "$dest"
    chmod -R u+w "$dest"
    cat >>"$dest/Cargo.toml" <<EOF

[workspace]

[patch.crates-io]
vm-memory = { path = "$patch_path" }
EOF
    echo "$name $version: $src -> $dest"
}

# Fails unless every vm-memory in the crate's graph (normal and dev) is this repository's. Extra
# arguments (features) go to `cargo tree`.
check_patched() {
    local dir=$1 tree
    shift
    tree="$(cd "$dir" && cargo tree "${offline[@]}" "$@" -e normal,dev -i vm-memory --prefix none \
        2>"$work/tree.err")" || fail "cargo tree failed in $dir: $(cat "$work/tree.err")"
    echo "$tree" | head -n 1
    if grep -q "Patch .* was not used" "$work/tree.err"; then
        fail "the [patch.crates-io] entry was not used in $dir"
    fi
    if ! echo "$tree" | head -n 1 | grep -q "^vm-memory v0\.18\.[0-9]* ($patch_path)"; then
        fail "vm-memory in $dir does not come from $patch_path"
    fi
    if (cd "$dir" && cargo tree "${offline[@]}" "$@" -e normal,dev --prefix none 2>/dev/null) |
        grep "^vm-memory v" | grep -vq "($patch_path)"; then
        fail "a crates.io vm-memory is still in the graph of $dir"
    fi
}

# Runs `cargo test` and checks the unit and doc test counts.
run_suite() {
    local name=$1 want_unit=$2 want_doc=$3
    shift 3
    local dir="$work/$name" log="$work/$name.log"
    step "$name: cargo test $*"
    set +e
    (cd "$dir" && cargo test "${offline[@]}" "$@" 2>&1) | tee "$log"
    local status=${PIPESTATUS[0]}
    set -e
    [ "$status" -eq 0 ] || fail "$name: cargo test failed (exit $status)"
    # libtest prints one "test result" line per test binary; those after "Doc-tests" are doc
    # tests, the others unit (and integration) tests.
    local unit doc failed
    read -r unit doc failed < <(awk '
        /^ *Doc-tests / { in_doc = 1 }
        /test result:/ {
            match($0, /[0-9]+ passed/); n = substr($0, RSTART, RLENGTH) + 0
            match($0, /[0-9]+ failed/); f += substr($0, RSTART, RLENGTH) + 0
            if (in_doc) d += n; else u += n
        }
        END { print u + 0, d + 0, f + 0 }' "$log")
    echo "$name: $unit unit + $doc doc tests passed, $failed failed"
    [ "$failed" -eq 0 ] || fail "$name: $failed tests failed"
    [ "$unit" -eq "$want_unit" ] || fail "$name: expected $want_unit unit tests, ran $unit"
    [ "$doc" -eq "$want_doc" ] || fail "$name: expected $want_doc doc tests, ran $doc"
    summary+=("$name: $unit unit + $doc doc tests passed")
}

summary=()
suites=(virtio-queue:0.18.0 linux-loader:0.14.0 vhost:0.18.0 vhost-user-backend:0.24.0)
for suite in "${suites[@]}"; do prepare "${suite%%:*}" "${suite#*:}"; done

step "check that the patch took effect"
for suite in "${suites[@]}"; do check_patched "$work/${suite%%:*}"; done

# Fails unless the crate's graph with these features holds this repository's vm-memory-xen.
check_xen() {
    local dir=$1
    shift
    check_patched "$dir" "$@"
    (cd "$dir" && cargo tree "${offline[@]}" "$@" -e normal --prefix none 2>/dev/null) |
        grep -q "^vm-memory-xen v0\.18\.[0-9]* ($root/xen)" ||
        fail "vm-memory-xen from $root/xen is not in the graph of $dir with $*"
    echo "$dir $*: vm-memory-xen from this repository"
}

vhost_xen=(--features xen,vhost-user-frontend,vhost-user-backend)
prepare vhost 0.18.0 vhost-xen
prepare vhost-user-backend 0.24.0 vhost-user-backend-xen
check_xen "$work/vhost-xen" "${vhost_xen[@]}"
check_xen "$work/vhost-user-backend-xen" --features xen

run_suite virtio-queue 54 4 --features test-utils
run_suite linux-loader 32 19
run_suite vhost 99 0 --features vhost-user-frontend,vhost-user-backend,vhost-vdpa
run_suite vhost-user-backend 27 0

step "vhost-xen: cargo build --all-targets ${vhost_xen[*]}"
(cd "$work/vhost-xen" && cargo build "${offline[@]}" --all-targets "${vhost_xen[@]}") ||
    fail "vhost-xen: build with ${vhost_xen[*]} failed"
summary+=("vhost-xen: builds (all targets) with ${vhost_xen[*]}")
run_suite vhost-xen 81 0 "${vhost_xen[@]}"
run_suite vhost-user-backend-xen 27 0 --features xen

step "summary"
printf '%s\n' "${summary[@]}"
