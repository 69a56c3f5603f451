#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every crate's tests (unit, integration, property
# tests and doc tests). This is the README's test command and what CI runs (.ci/run).
#
#   scripts/test.sh            # everything
#   ALTO_TEST_FAST=1 scripts/test.sh   # skip fmt and clippy
#
# The PostgreSQL tests (crates/alto-pg) need a server: scripts/pg-env.sh uses DATABASE_URL, else a
# server at 127.0.0.1:5432, else starts a throwaway cluster for the run (ALTO_PG_FORCE_TEMP=1
# forces that) and stops it at the end. None of them is skipped.
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

echo "==> PostgreSQL for the alto-pg tests"
# shellcheck source=scripts/pg-env.sh
source scripts/pg-env.sh

echo "==> S3-compatible test server (moto) for the alto-tier tests"
if ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install --quiet 'moto[server]' || {
    echo "scripts/test.sh: cannot install moto[server] from PyPI (needed by the s3:// tests)" >&2
    exit 1
  }
fi
ALTO_MOTO_SERVER="$(command -v moto_server)"
export ALTO_MOTO_SERVER

echo "==> cargo test"
cargo test --workspace --locked
