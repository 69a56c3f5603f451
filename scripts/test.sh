#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every crate's tests (unit, integration, property
# tests and doc tests). This is the README's test command and what CI runs (.ci/run).
#
#   scripts/test.sh            # everything
#   ALTO_TEST_FAST=1 scripts/test.sh   # skip fmt and clippy
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "scripts/test.sh: cargo is not installed; install Rust from https://rustup.rs" >&2
  exit 1
fi

if [ -z "${ALTO_TEST_FAST:-}" ]; then
  echo "==> cargo fmt --check"
  cargo fmt --all --check
  echo "==> cargo clippy"
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi

echo "==> cargo test"
cargo test --workspace --locked
