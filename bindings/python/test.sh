#!/usr/bin/env bash
# The Python package's tests: build the wheel once (debug, abi3, reusing the workspace's target
# directory), install it into a fresh virtual environment with pytest, run tests/ (the journey on
# SQLite and PostgreSQL, error mapping, rules, the examples, the stub-drift check, the same plan
# as the `alto plan` command's, which it builds).
#
#   bindings/python/test.sh [PYTEST ARGS...]
#
# CARGO_TARGET_DIR is the workspace's (default: target/). The venvs live under $ALTO_CACHE_DIR
# (default: the target directory): maturin's, kept between runs, and the test one, made afresh.
# PostgreSQL: DATABASE_URL, else scripts/pg-env.sh finds or starts a server.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
cache="${ALTO_CACHE_DIR:-$target}"
python="${PYTHON:-python3}"
export CARGO_TARGET_DIR="$target"

if [ -z "${DATABASE_URL:-}" ]; then
  # shellcheck source=../../scripts/pg-env.sh
  source "$root/scripts/pg-env.sh"
fi

tools="$cache/python-tools"
if [ ! -x "$tools/bin/maturin" ]; then
  echo "==> maturin (from PyPI) into $tools"
  "$python" -m venv "$tools"
  "$tools/bin/pip" install --quiet --disable-pip-version-check 'maturin>=1.8,<2'
fi

echo "==> the alto wheel (debug)"
wheels="$target/python-wheels"
rm -rf "$wheels"
"$tools/bin/maturin" build --quiet --profile dev --manifest-path "$here/Cargo.toml" \
  --interpreter "$python" --out "$wheels"

echo "==> the alto command (tests/test_cli_agreement.py compares plans with it)"
cargo build --quiet -p alto-cli --bin alto --manifest-path "$root/Cargo.toml"
export ALTO_CLI="$target/debug/alto"

echo "==> a fresh virtual environment with the wheel and pytest"
venv="$cache/python-test-venv"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check pytest "$wheels"/alto-*.whl

echo "==> pytest"
# From the tests directory, so `import alto` is the installed wheel, not python/alto.
cd "$here/tests"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
