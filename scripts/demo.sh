#!/usr/bin/env bash
set -euo pipefail
build=${1:-build}
"$build/aetherd" --version
