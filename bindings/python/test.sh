#!/usr/bin/env bash
# The Python package's tests: build the wheel once (debug, abi3, reusing the workspace's target
# directory), install it into a fresh virtual environment with pytest and pyarrow (pandas and
# polars too, as Arrow producers), run tests/ (the journey on SQLite and PostgreSQL, error
# mapping, rules and evaluate_arrow, the tenant's upkeep (settings, maintain, reconcile, report),
# the examples, the stub-drift check, the same plan as the `alto plan` command's, which it
# builds).
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

echo "==> a fresh virtual environment with the wheel, pytest, pyarrow, pandas and polars"
# pyarrow for RuleSet.evaluate_arrow (the `arrow` extra), pandas and polars as Arrow producers
# of its tests. Their wheels are downloaded once into a wheelhouse under $ALTO_CACHE_DIR; later
# runs install from it without the network.
venv="$cache/python-test-venv"
wheelhouse="$cache/python-wheelhouse"
deps=(pytest 'pyarrow>=14' pandas polars)
rm -rf "$venv"
"$python" -m venv "$venv"
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
if ! "${pip[@]}" --no-index --find-links "$wheelhouse" "${deps[@]}" 2>/dev/null; then
  echo "    (downloading ${deps[*]} into $wheelhouse)"
  "$venv/bin/pip" download --quiet --disable-pip-version-check -d "$wheelhouse" "${deps[@]}"
  "${pip[@]}" --no-index --find-links "$wheelhouse" "${deps[@]}"
fi
"${pip[@]}" --no-deps "$wheels"/alto-*.whl

echo "==> pytest"
# From the tests directory, so `import alto` is the installed wheel, not python/alto.
cd "$here/tests"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
