#!/usr/bin/env bash
# Seeds the invoke_bytes corpus with every event under testdata/ (every front door's, the invalid
# ones, and the pass-through ones: events of other services) and every kept crash input.
# (invoke_structured builds its events from arbitrary structure and needs no seeds.)
set -euo pipefail
cd "$(dirname "$0")"
corpus=corpus/invoke_bytes
mkdir -p "$corpus"
for event in ../testdata/*/*.json ../crates/lambda-gateway/tests/mutation/crashes/*; do
    [ -f "$event" ] || continue
    # expected answers and replies are no events; the crashes directory has a README
    case "$event" in *.expected.json | *.reply.json | */README.md) continue ;; esac
    cp "$event" "$corpus/seed-$(basename "$(dirname "$event")")-$(basename "$event")"
done
echo "$(ls "$corpus" | wc -l) files in fuzz/$corpus"
