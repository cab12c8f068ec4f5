#!/usr/bin/env bash
# Every npm package the test clients and benchmarks lock
# (tests/*/package-lock.json, bench/*/package-lock.json) runs on
# the Node.js Debian 12 ships (18.20.4): its "engines.node" range, read from
# the lock, must admit that version.  (A lock once pinned @hono/node-server
# 2.x, which wants Node >= 20, and npm warned EBADENGINE on Debian 12.)
. "$(dirname "$0")/lib.sh"
DEBIAN_NODE=18.20.4
cat >"$TMP/engines.py" <<'PY'
import json, re, sys

def parse(v):
    p = [int(x) for x in re.findall(r"\d+", v)[:3]]
    return tuple(p + [0] * (3 - len(p)))

def comparator(c, v):
    m = re.match(r"^(>=|<=|>|<|=|\^|~)?\s*v?([\dx*.]+)$", c)
    if not m:
        raise ValueError("cannot read range part " + repr(c))
    op, ver = m.group(1) or "=", m.group(2)
    if ver in ("*", "x"):
        return True
    parts = ver.split(".")
    given = [p for p in parts if p not in ("x", "*")]
    b = parse(ver)
    if op == "=" and len(given) < 3:   # "18" or "18.x": that major (and minor)
        return v[: len(given)] == b[: len(given)]
    if op == "^":
        top = (b[0] + 1, 0, 0) if b[0] > 0 else (0, b[1] + 1, 0)
        return b <= v < top
    if op == "~":
        top = (b[0], b[1] + 1, 0) if len(given) > 1 else (b[0] + 1, 0, 0)
        return b <= v < top
    return {">=": v >= b, "<=": v <= b, ">": v > b, "<": v < b, "=": v == b}[op]

def satisfies(rng, v):
    for alt in rng.split("||"):
        alt = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alt.strip())
        if " - " in alt:
            lo, hi = alt.split(" - ")
            if parse(lo) <= v <= parse(hi):
                return True
            continue
        parts = alt.split() or ["*"]
        if all(comparator(p, v) for p in parts):
            return True
    return False

v = parse(sys.argv[1])
# the checker itself
for r, want in [(">=20", False), (">=18", True), (">= 18.0.0", True), ("^18 || >=20", True),
                (">=18.14.1", True), ("^20.0.0", False), ("14 - 20", True), (">=16 <18", False)]:
    assert satisfies(r, v) == want, (r, want)
bad = 0
for lock in sys.argv[2:]:
    pkgs = json.load(open(lock)).get("packages", {})
    for name, meta in pkgs.items():
        rng = (meta.get("engines") or {}).get("node") if isinstance(meta.get("engines"), dict) else None
        if rng and not satisfies(rng, v):
            print(f"{lock}: {name or '(root)'} {meta.get('version')} wants node {rng}")
            bad += 1
    print(f"checked {lock}: {len(pkgs)} entries")
sys.exit(1 if bad else 0)
PY
locks=("$AE_SOURCE_DIR"/tests/*/package-lock.json "$AE_SOURCE_DIR"/bench/*/package-lock.json)
[ -e "${locks[0]}" ] || fail "no tests/*/package-lock.json"
if python3 "$TMP/engines.py" "$DEBIAN_NODE" "${locks[@]}" >"$TMP/out" 2>&1; then
  ok "every locked package runs on Node $DEBIAN_NODE ($(grep -c '^checked' "$TMP/out") lockfiles)"
else
  fail "packages that do not run on Debian 12's Node $DEBIAN_NODE (pin older versions, e.g. with \"overrides\" in package.json):"
  cat "$TMP/out"
fi
# and the declared range of each package.json says so too
for pj in "$AE_SOURCE_DIR"/tests/*/package.json "$AE_SOURCE_DIR"/bench/*/package.json; do
  r=$(python3 -c 'import json,sys; print((json.load(open(sys.argv[1])).get("engines") or {}).get("node", ""))' "$pj")
  [ -z "$r" ] || contains "$r" "18" || fail "$pj: engines.node '$r' does not name 18"
done
finish
