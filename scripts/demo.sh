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

say "semantic search: 'cosine similarity of two vectors'"
"$aetherd" --workspace "$ws" --search "cosine similarity of two vectors" --search-mode semantic --search-limit 5

say "hybrid search, JSON envelope: 'open workspace'"
"$aetherd" --workspace "$ws" --search "open workspace" --search-mode hybrid --search-limit 3 --output json

say "second pass (incremental: nothing changed)"
"$aetherd" --workspace "$ws" --index-once
