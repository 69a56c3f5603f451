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
#
# The s3:// tests need moto's server (installed from PyPI when missing) and the az:// tests
# Azurite's blob emulator (installed from the npm registry into ~/.cache/alto when missing; needs
# Node.js with npm). Each test starts its own server on a free loopback port. The HTML report test
# renders a page in headless Chromium (Debian's chromium package, installed with apt-get when
# missing).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "scripts/test.sh: cargo is not installed; install Rust from https://rustup.rs" >&2
  exit 1
fi

# A test run builds once from a clean tree: incremental caches would only double the disk it needs.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

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

echo "==> Azure Blob emulator (Azurite) for the az:// tests"
# Installed from the npm registry into a cache directory outside the work tree, once.
# ALTO_AZURITE may name an azurite-blob binary already installed.
if [ -z "${ALTO_AZURITE:-}" ]; then
  azurite_dir="${ALTO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/alto}/azurite-${ALTO_AZURITE_VERSION:-3.35.0}"
  ALTO_AZURITE="$azurite_dir/node_modules/.bin/azurite-blob"
  if [ ! -x "$ALTO_AZURITE" ]; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "scripts/test.sh: npm is not installed; the az:// tests need Azurite from the npm registry" \
           "(install Node.js with npm, or set ALTO_AZURITE to an azurite-blob binary)" >&2
      exit 1
    fi
    mkdir -p "$azurite_dir"
    npm install --prefix "$azurite_dir" --no-audit --no-fund --loglevel=error \
      "azurite@${ALTO_AZURITE_VERSION:-3.35.0}" >&2 || {
      echo "scripts/test.sh: cannot install azurite from the npm registry (needed by the az:// tests)" >&2
      exit 1
    }
  fi
fi
if [ ! -x "$ALTO_AZURITE" ]; then
  echo "scripts/test.sh: ALTO_AZURITE=$ALTO_AZURITE is not an executable azurite-blob" >&2
  exit 1
fi
export ALTO_AZURITE

echo "==> Headless Chromium for the HTML report test"
# Debian's chromium package, installed with apt-get when missing; ALTO_CHROMIUM may name another
# Chromium or Chrome binary.
if [ -z "${ALTO_CHROMIUM:-}" ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "scripts/test.sh: chromium is not installed and apt-get is not available; the HTML" \
           "report test needs it (install Chromium, or set ALTO_CHROMIUM to its binary)" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null; } || {
      echo "scripts/test.sh: cannot install the chromium package (needed by the HTML report test)" >&2
      exit 1
    }
  fi
  ALTO_CHROMIUM="$(command -v chromium)"
fi
if [ ! -x "$ALTO_CHROMIUM" ]; then
  echo "scripts/test.sh: ALTO_CHROMIUM=$ALTO_CHROMIUM is not an executable Chromium" >&2
  exit 1
fi
export ALTO_CHROMIUM

echo "==> cargo test"
cargo test --workspace --locked

echo "==> Node package (bindings/node: the real addon, called from Node)"
bindings/node/test.sh

echo "==> Python package (bindings/python: the real wheel, called from Python)"
bindings/python/test.sh
