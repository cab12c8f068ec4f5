#!/usr/bin/env bash
# The retrieval-quality benchmark (bench/quality, docs/QUALITY.md) end to end on a
# small draw: 60 stdlib queries on a subset of the Python standard library and 40
# JavaScript queries (lodash and three's math classes).  Checks that the pipeline
# works, not how good search is: the corpus lost exactly the drawn docs, every
# answer is a symbol of the store, the BM25 baseline and every mode ran (no errors,
# no fallback) with consistent numbers, bad input is reported instead of scored,
# and --reuse keeps an index.
. "$(dirname "$0")/lib.sh"

QUALITY="$AE_BUILD_DIR/aether-quality"
RUN="$AE_SOURCE_DIR/bench/quality/run.sh"
STDLIB=/usr/lib/python3.11
[ -d "$STDLIB" ] || STDLIB=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
SUBSET=email,json,logging,http,argparse.py,textwrap.py,queue.py,shutil.py,tarfile.py,zipfile.py

# check_run JSON N : the sanity rules every run must pass
check_run() {
  python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); want = int(sys.argv[2])
assert d["queries"] == want, f"queries {d['queries']} != {want}"
assert d["queries_missing"] == 0, f"{d['queries_missing']} answers missing from the store"
assert d["seed"] == 16, d["seed"]
m = d["methods"]
assert set(m) == {"bm25-baseline", "bm25-sir", "lexical", "semantic", "hybrid"}, set(m)
for name, r in m.items():
    assert r["errors"] == 0, (name, r)
    assert 0.0 <= r["r1"] <= r["mrr10"] <= r["r10"] <= 1.0, (name, r)
    lo, hi = r["mrr10_ci95"]
    assert lo <= r["mrr10"] + 1e-6 and r["mrr10"] <= hi + 1e-6, (name, r)
for name in ("semantic", "hybrid"):
    assert m[name]["fallbacks"] == 0, (name, "fell back to lexical", m[name])
# A baseline that never finds an answer means the benchmark is broken, not BM25.
assert m["bm25-baseline"]["r10"] > 0 and m["bm25-sir"]["r10"] > 0, m
assert m["semantic"]["r10"] > 0, m["semantic"]
# The per-query ranks add up to the summary (the metrics are computed as documented).
import os
pq = [json.loads(l) for l in open(os.path.join(os.path.dirname(sys.argv[1]), "per-query.jsonl"))]
assert len(pq) == want, len(pq)
for name, r in m.items():
    ranks = [q["rank"][name] for q in pq]
    assert all(0 <= x <= 10 for x in ranks), ranks
    mrr = sum(1 / x for x in ranks if x) / want
    assert abs(mrr - r["mrr10"]) < 1e-4 and abs(sum(x == 1 for x in ranks) / want - r["r1"]) < 1e-5, name
    assert abs(sum(x > 0 for x in ranks) / want - r["r10"]) < 1e-5, name
print("ok run:", {k: round(v["mrr10"], 3) for k, v in m.items()})
PY
}

# 1. stdlib subset, 60 queries
expect_exit 0 bash "$RUN" --build "$AE_BUILD_DIR" --out "$TMP/q" --corpus "$STDLIB" --lang python \
  --subset "$SUBSET" --queries 60 || true
echo "$OUT" | grep -v '^QUALITY_JSON' || true
contains "$OUT" "retrieval quality of python3.11: 60 queries (0 answers missing" &&
  ok "stdlib: 60 queries, none missing" || fail "stdlib header: $OUT $ERR"
WS="$TMP/q/python3.11"
check_run "$WS/results.json" 60 && ok "stdlib: sane numbers" || fail "stdlib numbers"
held_out_absent() {
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["queries_whose_text_is_still_in_the_corpus"] == 0, m' "$1"
}
held_out_absent "$WS/manifest.json" && ok "stdlib: held-out text nowhere in the corpus" || fail "stdlib: held-out text left"
grep -q '^QUALITY_JSON {"bench":"quality"' <<<"$OUT" && ok "JSON line printed" || fail "no JSON line"
contains "$ERR" "drew 60 with seed 16" && ok "seed printed" || fail "seed: $ERR"

# The copy lost exactly the 60 drawn docstrings: every other function keeps its own,
# and each drawn one has none.
python3 - "$STDLIB" "$WS/corpus" "$WS/queries.jsonl" "$SUBSET" <<'PY' && ok "exactly the drawn docstrings removed" || fail "docstring removal"
import ast, json, os, sys
src, dst, qpath, subset = sys.argv[1:]
keep = subset.split(",")
def documented(root):
    out = set()
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".aether", ".git", "__pycache__")]
        for f in files:
            rel = os.path.relpath(os.path.join(d, f), root)
            if not f.endswith(".py") or not any(rel == k or rel.startswith(k + "/") for k in keep):
                continue
            def walk(node, scope):  # every def outside a function body
                for n in ast.iter_child_nodes(node):
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        if ast.get_docstring(n) is not None:
                            out.add((rel, "::".join(scope + [n.name]), n.lineno))
                    elif isinstance(n, ast.ClassDef):
                        walk(n, scope + [n.name])
                    else:
                        walk(n, scope)
            walk(ast.parse(open(os.path.join(d, f), "rb").read()), [])
    return out
a = {(f, q) for f, q, _ in documented(src)}
b = {(f, q) for f, q, _ in documented(dst)}
drawn = {(x["file_path"], x["qualified_name"]) for x in map(json.loads, open(qpath))}
assert len(drawn) == 60, len(drawn)
assert not (drawn & b), sorted(drawn & b)[:5]
assert a - b == drawn, (sorted((a - b) - drawn)[:5], sorted(drawn - (a - b))[:5])
PY

# 2. The benchmark reports bad input instead of scoring it.
cp "$WS/queries.jsonl" "$TMP/bad.jsonl"
echo '{"query": "no such function anywhere", "file_path": "nope.py", "qualified_name": "nope"}' >>"$TMP/bad.jsonl"
expect_exit 0 "$QUALITY" --workspace "$WS/corpus" --queries "$TMP/bad.jsonl" --modes lexical || true
contains "$OUT" "60 queries (1 answers missing from the store, dropped)" &&
  contains "$ERR" "answer not in the store, dropped: nope.py nope" && ok "missing answer reported and dropped" ||
  fail "missing answer: $OUT $ERR"
echo '{"query": 7}' >"$TMP/bad.jsonl"
expect_exit 1 "$QUALITY" --workspace "$WS/corpus" --queries "$TMP/bad.jsonl" || true
contains "$ERR" "bad.jsonl:1: expected a JSON object with string fields" && ok "malformed query line named" ||
  fail "malformed: $ERR"
expect_exit 1 "$QUALITY" --workspace "$TMP" --queries "$WS/queries.jsonl" || true
contains "$ERR" "has no index" && ok "unindexed workspace refused" || fail "no index: $ERR"

# 3. JavaScript with JSDoc: lodash's function modules and three's math classes, 40 queries
expect_exit 0 bash "$RUN" --build "$AE_BUILD_DIR" --out "$TMP/q" --corpus js --subset lodash,three/math \
  --queries 40 || true
echo "$OUT" | grep -v '^QUALITY_JSON' || true
check_run "$TMP/q/js/results.json" 40 && ok "js: sane numbers" || fail "js numbers: $ERR"
held_out_absent "$TMP/q/js/manifest.json" && ok "js: held-out text nowhere in the corpus" || fail "js: held-out text left"
python3 - "$TMP/q/js" <<'PY' && ok "js: drawn JSDoc removed, methods named Class::method" || fail "js corpus"
import json, os, sys
d = sys.argv[1]
qs = [json.loads(l) for l in open(os.path.join(d, "queries.jsonl"))]
assert len(qs) == 40, len(qs)
for q in qs:
    text = open(os.path.join(d, "corpus", q["file_path"])).read()
    flat = " ".join(" ".join(l.strip().lstrip("*").strip() for l in text.splitlines()).split())
    assert q["query"] not in flat, q
tops = {q["file_path"].split("/")[0] for q in qs}
assert tops == {"lodash", "three"}, tops
assert any(q["kind"] == "method" and "::" in q["qualified_name"] for q in qs), "no Class::method answer"
PY

# 4. --reuse keeps the corpus and its index: the second pass has nothing to do.
expect_exit 0 bash "$RUN" --build "$AE_BUILD_DIR" --out "$TMP/q" --corpus js --subset lodash,three/math \
  --queries 40 --reuse || true
contains "$ERR" "reusing $TMP/q/js/corpus" && contains "$ERR" "(0 changed, 0 removed)" &&
  ok "--reuse: incremental pass only" || fail "--reuse: $ERR"
finish
