#!/usr/bin/env bash
# Builds and runs one unit test against just the sources it names, with the
# test build's flags (ASan + UBSan, -Werror).  For working on one module while
# the rest of the tree is in flux:
#   scripts/unit.sh tests/unit/test_blake3.c src/util/blake3.c src/util/err.c
# CC=clang scripts/unit.sh ... checks the other compiler.
set -euo pipefail
cd "$(dirname "$0")/.."
test_src=$1; shift
name=$(basename "$test_src" .c)
out=${UNIT_OUT:-/tmp/ae-unit-$(id -u)}/$name
mkdir -p "$(dirname "$out")"
${CC:-gcc} -std=c11 -g -O1 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter \
  -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
  -D_GNU_SOURCE -DAE_TESTING=1 -DAE_VERSION='"dev"' -Iinclude -Isrc -Itests \
  "$test_src" "$@" -o "$out" \
  $(pkg-config --cflags --libs cmocka jansson sqlite3 libcurl openblas) -lm -lpthread
AE_SOURCE_DIR=$PWD "$out"
