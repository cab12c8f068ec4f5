#!/usr/bin/env bash
# The questions asked of the frozen v1 store, one block per question, answers
# as printed (symbol id and name; semantic and hybrid scores are not printed).
#   tests/golden/answers_v1.sh AETHERD WORKSPACE
set -euo pipefail
A=$1 W=$2
ask() { echo "== $*"; "$A" --workspace "$W" "$@" 2>/dev/null | cut -f1,2; }
ask --search parse --search-limit 10
ask --search "merge item" --search-limit 10
ask --search "Render the cache item 3" --search-mode semantic --search-limit 10
ask --search "Render the cache item 3" --search-mode semantic --search-limit 10 --exact
ask --search "fetch probe queue" --search-mode semantic --search-limit 10
ask --search "fetch probe queue" --search-mode hybrid --search-limit 10
ask --search parse --search-mode semantic --search-limit 5 --path-prefix src/m01
echo "== --vector-status"
"$A" --workspace "$W" --vector-status 2>/dev/null
