# Helpers for the fault tests (sourced after tests/cli/lib.sh).

# gen_workspace DIR FILES FUNCS: a workspace of generated Python sources with a
# mock embedder, so indexing is real but needs no network.
gen_workspace() {
  local ws=$1 files=$2 funcs=$3
  mkdir -p "$ws/src" "$ws/.aether"
  printf '[embeddings]\nprovider = "mock"\n' >"$ws/.aether/config.toml"
  for ((f = 0; f < files; f++)); do gen_file "$ws/src/mod_$f.py" "$funcs" 0; done
}

# gen_file PATH FUNCS SALT: FUNCS functions whose bodies depend on SALT, so
# every edit gives new content (hashes never repeat across the run).
gen_file() {
  local path=$1 funcs=$2 salt=$3 base
  base=$(basename "$path" .py)
  {
    for ((i = 0; i < funcs; i++)); do
      printf 'def %s_fn_%d(value, limit=%d):\n' "$base" "$i" "$i"
      printf '    """Compute %s step %d, revision %s."""\n' "$base" "$i" "$salt"
      printf '    return value * %d + limit - %s\n\n' "$i" "$salt"
    done
  } >"$path"
}

# verify_json WS: runs --fsck --output json; sets VJ (stdout) and returns its exit code.
verify_json() {
  set +e
  VJ=$("$AETHERD" --workspace "$1" --fsck --output json 2>"$TMP/verify.err")
  local rc=$?
  set -e
  return $rc
}

# jget JSON EXPR: a field of a JSON document, e.g. jget "$VJ" '["cross_store"]["sirs_pending"]'
jget() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); exec("v=d"+sys.argv[2]); print(v)' "$1" "$2"; }

# converged JSON: verify passed and every current SIR has its current embedding.
converged() {
  python3 - "$1" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); c = d["cross_store"]
ok = d["ok"] and c["sirs_pending"] == 0 and c["prune_pending"] == 0 \
    and c["sirs_embedded"] == c["sirs_current"] == c["store_rows"] == c["embedding_state_rows"]
sys.exit(0 if ok else 1)
PY
}
