#!/usr/bin/env bash
# Interop: fragments written by libaether must read back through the official
# apache-arrow (npm) Arrow IPC file reader with the same ids, strings,
# updated_at values and bit-identical vectors.  Needs node + npm (CI installs
# them); without them this test FAILS rather than skips.
source "$(dirname "$0")/lib.sh"

interop="$AE_SOURCE_DIR/tests/interop"
command -v node >/dev/null 2>&1 || { echo "FAIL: node not found; install Node 20 and npm (scripts/install-deps.sh)" >&2; exit 1; }
if [ ! -d "$interop/node_modules/apache-arrow" ]; then
  command -v npm >/dev/null 2>&1 || { echo "FAIL: npm not found; cannot install apache-arrow into tests/interop" >&2; exit 1; }
  (cd "$interop" && { npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error; }) >&2 ||
    { echo "FAIL: npm install in $interop failed (offline?); run it by hand once with network access" >&2; exit 1; }
fi

lib="$AE_BUILD_DIR/libaether.a"
[ -f "$lib" ] || { echo "FAIL: $lib not built" >&2; exit 1; }
# same compiler as the library (an ASan runtime from another compiler would not link)
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$AE_BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
cc=${CC:-${cc:-cc}}
flags=()
if grep -q 'AE_SANITIZE:BOOL=ON' "$AE_BUILD_DIR/CMakeCache.txt" 2>/dev/null; then
  flags=(-fsanitize=address,undefined -fno-omit-frame-pointer)
fi
writer="$TMP/write_fragment"
# shellcheck disable=SC2046
"$cc" -std=c11 -O1 -D_GNU_SOURCE "${flags[@]}" -I"$AE_SOURCE_DIR/include" -I"$AE_SOURCE_DIR/src" \
  "$interop/write_fragment.c" "$lib" $(pkg-config --libs jansson sqlite3 libcurl openblas) -lm -lpthread \
  -o "$writer"

for n in 1 7 1000; do
  for dim in 3 64 768; do
    frag="$TMP/f-$n-$dim.arrow"
    if ! "$writer" "$frag" "$n" "$dim"; then fail "writer failed for $n x $dim"; continue; fi
    if ! node "$interop/read_fragment.mjs" "$frag" "$frag.got.f32" >"$frag.got.json" 2>"$frag.err"; then
      fail "apache-arrow could not read $n x $dim: $(head -c 600 "$frag.err")"
      continue
    fi
    if ! cmp -s "$frag.want.json" "$frag.got.json"; then
      fail "$n x $dim: apache-arrow read different rows"
      diff <(tr ',' '\n' <"$frag.want.json") <(tr ',' '\n' <"$frag.got.json") | head -20 >&2 || true
    elif ! cmp -s "$frag.want.f32" "$frag.got.f32"; then
      fail "$n x $dim: vectors differ bit-wise: $(cmp "$frag.want.f32" "$frag.got.f32" 2>&1 | head -1)"
    else
      ok "$n rows x $dim dims read by apache-arrow, vectors bit-identical"
    fi
  done
done

# an empty fragment is refused up front, and nothing is left behind
if expect_exit 1 "$writer" "$TMP/empty.arrow" 0 3; then
  if contains "$ERR" "at least one row" && [ ! -e "$TMP/empty.arrow" ]; then
    ok "0 rows rejected"
  else
    fail "0 rows: wrong message or a file left behind: $ERR"
  fi
fi

finish
