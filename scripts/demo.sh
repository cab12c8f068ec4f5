#!/usr/bin/env bash
# make demo: index a real workspace (this repository's own sources) and search it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
aetherd="$build/aetherd"
ws=${DEMO_WORKSPACE:-.}

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "aetherd --workspace $ws --index-once"
"$aetherd" --workspace "$ws" --index-once

say "lexical search: 'parse' (first 10)"
"$aetherd" --workspace "$ws" --search parse --search-limit 10

say "semantic search: 'hash bytes with blake3'"
"$aetherd" --workspace "$ws" --search "hash bytes with blake3" --search-mode semantic --search-limit 5

say "hybrid search, JSON envelope: 'reciprocal rank fusion'"
"$aetherd" --workspace "$ws" --search "reciprocal rank fusion" --search-mode hybrid --search-limit 3 --output json

say "the vector tables (.aether/vectors/)"
"$aetherd" --workspace "$ws" --vector-status

say "second pass (incremental: nothing changed)"
"$aetherd" --workspace "$ws" --index-once
