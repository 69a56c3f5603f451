#!/usr/bin/env bash
# The Node package's test command: install the CLI, build the addon (debug) into the workspace's
# target directory, check that the committed index.d.ts and index.js match what the build
# generates, type-check a TypeScript user of the types, and run the tests with node's own runner
# (CommonJS and ESM; SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
committed=$(mktemp -d)
cp index.d.ts index.js "$committed/"
npx napi build --platform --js index.js --dts index.d.ts
for f in index.d.ts index.js; do
  if ! diff -u "$committed/$f" "$f"; then
    echo "bindings/node/$f drifted from the Rust source: commit the regenerated file" >&2
    rm -rf "$committed"
    exit 1
  fi
done
rm -rf "$committed"
# The types are valid TypeScript and type the API as documented (test/usage.ts, never run).
npx tsc --noEmit --strict --target es2022 --module nodenext --moduleResolution nodenext test/usage.ts
# PostgreSQL for test/postgres.test.cjs: DATABASE_URL, the local server, or a throwaway one.
# shellcheck source=../../scripts/pg-env.sh
source ../../scripts/pg-env.sh
node --test test/*.test.cjs test/*.test.mjs
