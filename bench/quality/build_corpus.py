#!/usr/bin/env python3
"""Builds a retrieval-quality corpus: a copy of a source tree in which N drawn
functions lose their documentation, plus queries.jsonl (the removed first
sentence -> the function).  The method is described in docs/QUALITY.md.

    build_corpus.py --lang python --source /usr/lib/python3.11 --out OUT [--n 400] [--seed 16]
    build_corpus.py --lang javascript --source lodash=node_modules/lodash \
                    --source three=node_modules/three/src --out OUT

OUT/corpus/       the copy (the workspace to index; file paths are relative to it)
OUT/queries.jsonl one JSON object a line: query, file_path, qualified_name, language, kind
OUT/manifest.json what was built: source, seed, skipped paths, counts

Only the N drawn symbols lose their docs: every other symbol keeps its own.  The
held-out text is nowhere in the corpus (it is checked after writing the copy).
"""
import argparse
import ast
import fnmatch
import json
import os
import random
import re
import shutil
import subprocess
import sys

# Paths (relative to --source, fnmatch patterns on the path and on every
# directory prefix) that are not copied.  Chosen so the corpus is the library's
# own code, not its tests, third-party packages or a second copy of itself.
DEFAULT_SKIPS = {
    "python": [
        "test",  # the regression test package
        "*/test",  # ctypes/test, unittest/test, ... (none in Debian's python3.11)
        "*/tests",
        "site-packages",
        "dist-packages",
        "idlelib",  # not in Debian's python3.11 package (python3-idle)
        "tkinter",  # not in Debian's python3.11 package (python3-tk)
        "__pycache__",
        "*/__pycache__",
        "lib-dynload",
        "config-3.*",
    ],
    "javascript": [
        # lodash ships its per-function modules plus whole-library builds that
        # repeat every JSDoc comment: a second copy of each held-out docstring.
        "lodash.js",
        "core.js",
        "*.min.js",
        "node_modules",
        "*/node_modules",
    ],
}

EXTENSIONS = {"python": (".py",), "javascript": (".js", ".mjs", ".cjs")}
# First sentences of every documented function seen (drawn or not): a sentence
# two functions share is never drawn, since its answer would be ambiguous.
SENTENCES = []
SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def first_sentence(text):
    """First sentence of the first paragraph, whitespace collapsed."""
    para = re.split(r"\n\s*\n", text.strip(), maxsplit=1)[0]
    para = " ".join(para.split())
    m = SENTENCE_END.search(para)
    return para[: m.end()] if m else para


def skipped(rel, patterns):
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(p, pat) for p in prefixes for pat in patterns)


def list_sources(root, lang, patterns):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        reld = os.path.relpath(dirpath, root)
        reld = "" if reld == "." else reld
        dirnames[:] = sorted(
            d for d in dirnames if not skipped(os.path.join(reld, d) if reld else d, patterns)
        )
        for f in sorted(filenames):
            rel = os.path.join(reld, f) if reld else f
            if f.endswith(EXTENSIONS[lang]) and not skipped(rel, patterns):
                if os.path.isfile(os.path.join(dirpath, f)) and not os.path.islink(
                    os.path.join(dirpath, f)
                ):
                    out.append(rel)
    return out


def flat_text(blobs, lang):
    """The tree's text as one line of words, comment markers and quotes spaced out."""
    out = []
    for b in blobs:
        t = b.decode("utf-8", "replace")
        if lang == "javascript":
            t = re.sub(r"(?m)^\s*\*+ ?", " ", t)
        for mark in ('"""', "'''", "/**", "*/"):
            t = t.replace(mark, " ")
        out.append(" ".join(t.split()))
    return "\n".join(out)


def word_run_counts(flat, sentences):
    """How often each sentence occurs in flat as a run of whole words (one pass
    over the words instead of one scan of the text per sentence)."""
    def norm(text):  # words, trailing punctuation ignored ("closed" == "closed.")
        return tuple(w.rstrip(".,;:!?") for w in text.split())

    words = norm(flat)
    want = {}
    for s in sentences:
        w = norm(s)
        want.setdefault(w[0], set()).add(w)
    counts = {}
    for i, w in enumerate(words):
        for cand in want.get(w, ()):
            if words[i : i + len(cand)] == cand:
                counts[cand] = counts.get(cand, 0) + 1
    return {s: counts.get(norm(s), 0) for s in sentences}


# ---------------------------------------------------------------- Python


def py_defs(tree):
    """(qualified_name, node) for every function aetherd keeps as a symbol:
    module-level functions and methods of classes that are not inside a
    function, named Outer::Inner::method as ctags scopes become in aetherd."""
    out = []

    def walk(body, scope):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append(("::".join(scope + [node.name]), node))
            elif isinstance(node, ast.ClassDef):
                walk(node.body, scope + [node.name])
            elif isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.AsyncWith)):
                walk(node.body, scope)
                walk(getattr(node, "orelse", []), scope)
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                walk(node.body, scope)
                for h in node.handlers:
                    walk(h.body, scope)
                walk(node.orelse, scope)
                walk(node.finalbody, scope)

    walk(tree.body, [])
    return out


def py_docstring_node(fn):
    if fn.body and isinstance(fn.body[0], ast.Expr):
        v = fn.body[0].value
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            return fn.body[0]
    return None


def py_candidates(rel, data):
    """Functions of one file whose docstring can be removed cleanly."""
    try:
        text = data.decode("utf-8")
        tree = ast.parse(data, filename=rel)
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return [], 0
    lines = data.splitlines(keepends=True)
    defs = py_defs(tree)
    count = {}
    for q, _ in defs:
        count[q] = count.get(q, 0) + 1
    out = []
    for q, fn in defs:
        if count[q] != 1:
            continue  # two definitions under one name: ambiguous answer
        ds = py_docstring_node(fn)
        if ds is None:
            continue
        doc = ast.get_docstring(fn, clean=True) or ""
        sent = first_sentence(doc)
        SENTENCES.append(sent)
        if len(sent.split()) < 5:
            continue
        first, last = ds.lineno, ds.end_lineno
        # the docstring must sit on lines of its own (ast offsets are UTF-8 bytes)
        if lines[first - 1][: ds.col_offset].strip() or first <= fn.lineno:
            continue
        rest = lines[last - 1][ds.end_col_offset :].strip()
        if rest and not rest.startswith(b"#"):
            continue
        only = len(fn.body) == 1
        indent = lines[first - 1][: ds.col_offset]
        out.append(
            {
                "qualified_name": q,
                "kind": "method" if "::" in q else "function",
                "query": sent,
                "remove": (first, last),
                "replace": indent + b"pass\n" if only else b"",
            }
        )
    del text
    return out, len(defs)


def py_check(rel, data, drawn, before_docs):
    tree = ast.parse(data, filename=rel)
    docs = {q for q, fn in py_defs(tree) if py_docstring_node(fn) is not None}
    for q in drawn:
        if q in docs:
            raise SystemExit(f"build_corpus: {rel}: {q} still has a docstring after removal")
    if docs != before_docs - set(drawn):
        raise SystemExit(f"build_corpus: {rel}: removal changed other symbols' docstrings")


def py_doc_set(rel, data):
    tree = ast.parse(data, filename=rel)
    return {q for q, fn in py_defs(tree) if py_docstring_node(fn) is not None}


# ------------------------------------------------------------ JavaScript

CTAGS_ARGS = [
    "--options=NONE",
    "--output-format=json",
    "--fields=+nKSe",
    "--sort=no",
    "--languages=JavaScript",
    "--map-JavaScript=+.cjs",
    "-L",
    "-",
    "-o",
    "-",
]
CALLABLE_SCOPES = {"function", "func", "method", "generator", "getter", "setter"}


def js_decl_is_function(decl):
    """aetherd's rule for `const f = ... => / function` (src/symbols/ctags_json.c)."""
    i = decl.find("=")
    if i < 0 or decl[i + 1 : i + 2] in ("=", ">"):
        return False
    return "=>" in decl[i:] or "function" in decl[i:]


def js_tags(root, files):
    ctags = os.environ.get("AE_CTAGS") or "ctags"
    p = subprocess.run(
        [ctags] + CTAGS_ARGS,
        cwd=root,
        input="".join(f"./{f}\n" for f in files).encode(),
        capture_output=True,
        check=True,
    )
    tags = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            t = json.loads(line)
        except ValueError:
            continue
        if t.get("_type") != "tag":
            continue
        path = t["path"][2:] if t["path"].startswith("./") else t["path"]
        tags.setdefault(path, []).append(t)
    return tags


def js_symbol(t, decl):
    """(qualified_name, kind) of a tag aetherd keeps as a function/method, else None."""
    k, sk, scope = t.get("kind"), t.get("scopeKind"), t.get("scope")
    if sk in CALLABLE_SCOPES or t["name"].startswith("__anon"):
        return None
    if k in ("function", "generator"):
        kind = "function"
    elif k == "method":
        kind = "method"
    elif k in ("constant", "variable"):
        if scope and sk not in ("package", "module", "namespace"):
            return None
        if not js_decl_is_function(decl):
            return None
        kind = "function"
    else:
        return None
    q = t["name"]
    if scope:
        q = "::".join([p for p in scope.split(".") if p] + [t["name"]])
    return q, kind


def jsdoc_block(lines, line):
    """(first, last) 1-based lines of the /** ... */ block ending right above line."""
    i = line - 2
    if i < 0 or not lines[i].strip().endswith(b"*/"):
        return None
    j = i
    while j >= 0 and not lines[j].lstrip().startswith(b"/**"):
        if j != i and b"*/" in lines[j]:
            return None
        j -= 1
    if j < 0 or (j != i and b"*/" in lines[j]):
        return None
    return j + 1, i + 1


def jsdoc_description(block):
    out = []
    for raw in block:
        s = raw.strip()
        s = re.sub(r"^/\*\*", "", s)
        s = re.sub(r"\*/$", "", s)
        s = re.sub(r"^\*", "", s.strip())
        if s.strip().startswith("@"):
            break
        out.append(s.strip())
    return "\n".join(out)


def js_candidates(rel, data, tags):
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return [], 0
    lines = data.splitlines(keepends=True)
    syms = []
    for t in tags:
        if not 1 <= t.get("line", 0) <= len(lines):
            continue
        decl = lines[t["line"] - 1].decode("utf-8", "replace")
        s = js_symbol(t, decl)
        if s:
            syms.append((s[0], s[1], t["line"]))
    count = {}
    for q, _, _ in syms:
        count[q] = count.get(q, 0) + 1
    lines_used = {}
    for _, _, ln in syms:
        lines_used[ln] = lines_used.get(ln, 0) + 1
    out = []
    for q, kind, ln in syms:
        if count[q] != 1 or lines_used[ln] != 1:
            continue  # ambiguous name, or two symbols share the comment's line
        blk = jsdoc_block(lines, ln)
        if not blk:
            continue
        desc = jsdoc_description(
            [lines[k].decode("utf-8", "replace") for k in range(blk[0] - 1, blk[1])]
        )
        sent = first_sentence(desc)
        SENTENCES.append(sent)
        if len(sent.split()) < 5:
            continue
        out.append(
            {"qualified_name": q, "kind": kind, "query": sent, "remove": blk, "replace": b""}
        )
    return out, len(syms)


# ------------------------------------------------------------------ main


def remove_spans(data, cands):
    lines = data.splitlines(keepends=True)
    for c in sorted(cands, key=lambda c: c["remove"][0], reverse=True):
        first, last = c["remove"]
        lines[first - 1 : last] = [c["replace"]] if c["replace"] else []
    return b"".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lang", choices=sorted(EXTENSIONS), default="python")
    ap.add_argument(
        "--source",
        action="append",
        default=None,
        metavar="[NAME=]DIR",
        help="source tree (default /usr/lib/python3.11); repeat as NAME=DIR to put several "
        "trees side by side, each under NAME/ in the corpus",
    )
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=400, help="queries to draw (default 400)")
    ap.add_argument("--seed", type=int, default=16, help="random seed (default 16)")
    ap.add_argument(
        "--subset",
        default="",
        help="comma-separated paths of the corpus to keep (default: all)",
    )
    ap.add_argument("--skip", action="append", default=None, help="extra skip pattern")
    a = ap.parse_args()

    sources = []  # (prefix in the corpus, absolute root)
    for spec in a.source or ["/usr/lib/python3.11"]:
        name, eq, path = spec.partition("=")
        if not eq:
            name, path = "", spec
        elif not name or "/" in name or name in (".", ".."):
            raise SystemExit(f"build_corpus: --source {spec}: NAME must be one path component")
        sources.append((name, os.path.abspath(path)))
    if len(sources) > 1 and any(not n for n, _ in sources):
        raise SystemExit("build_corpus: several --source trees need a NAME= each")
    if len({n for n, _ in sources}) != len(sources):
        raise SystemExit("build_corpus: two --source trees with the same NAME")
    patterns = DEFAULT_SKIPS[a.lang] + (a.skip or [])
    files, origin = [], {}  # corpus path -> (root, path in root)
    for name, root in sources:
        if not os.path.isdir(root):
            raise SystemExit(f"build_corpus: source tree {root} is not a directory")
        for f in list_sources(root, a.lang, patterns):
            rel = f"{name}/{f}" if name else f
            files.append(rel)
            origin[rel] = (root, f)
    if a.subset:
        keep = [s.strip().rstrip("/") for s in a.subset.split(",") if s.strip()]
        files = [f for f in files if any(f == k or f.startswith(k + "/") for k in keep)]
    roots = ", ".join(f"{n}={r}" if n else r for n, r in sources)
    if not files:
        raise SystemExit(f"build_corpus: no {a.lang} files under {roots}")

    datas = {}
    for f in files:
        with open(os.path.join(*origin[f]), "rb") as fh:
            datas[f] = fh.read()
    tags = {}
    if a.lang == "javascript":
        for name, root in sources:
            mine = [origin[f][1] for f in files if origin[f][0] == root]
            for f, t in js_tags(root, mine).items():
                tags[f"{name}/{f}" if name else f] = t
    cands, nsyms = [], 0
    for f in files:
        if a.lang == "python":
            c, n = py_candidates(f, datas[f])
        else:
            c, n = js_candidates(f, datas[f], tags.get(f, []))
        for x in c:
            x["file_path"] = f
        cands += c
        nsyms += n

    uses = {}
    for x in SENTENCES:
        uses[x] = uses.get(x, 0) + 1
    shared = sum(1 for c in cands if uses[c["query"]] > 1)
    cands = [c for c in cands if uses[c["query"]] == 1]
    # ... nor one whose text is anywhere else in the tree (a comment, a class or
    # module docstring, an object literal's copy of the JSDoc): held out means absent.
    flat = flat_text([datas[f] for f in files], a.lang)
    before = len(cands)
    seen = word_run_counts(flat, [c["query"] for c in cands])
    cands = [c for c in cands if seen[c["query"]] <= 1]
    shared += before - len(cands)
    rng = random.Random(a.seed)
    n = min(a.n, len(cands))
    drawn = rng.sample(cands, n)
    drawn.sort(key=lambda c: (c["file_path"], c["remove"][0]))

    out = os.path.abspath(a.out)
    corpus = os.path.join(out, "corpus")
    if os.path.exists(corpus):
        shutil.rmtree(corpus)
    os.makedirs(corpus)
    by_file = {}
    for c in drawn:
        by_file.setdefault(c["file_path"], []).append(c)
    for f in files:
        data = datas[f]
        if f in by_file:
            before = py_doc_set(f, data) if a.lang == "python" else None
            data = remove_spans(data, by_file[f])
            if a.lang == "python":
                py_check(f, data, [c["qualified_name"] for c in by_file[f]], before)
        dst = os.path.join(corpus, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as fh:
            fh.write(data)

    # The held-out sentences are nowhere in the corpus (checked, not assumed).
    flat = flat_text([open(os.path.join(corpus, f), "rb").read() for f in files], a.lang)
    left = word_run_counts(flat, [c["query"] for c in drawn])
    still = [c for c in drawn if left[c["query"]]]
    for c in still[:5]:
        print(
            f"build_corpus: held-out text still in the corpus: {c['file_path']} "
            f"{c['qualified_name']}: {c['query']!r}",
            file=sys.stderr,
        )
    still = len(still)

    with open(os.path.join(out, "queries.jsonl"), "w") as fh:
        for c in drawn:
            fh.write(
                json.dumps(
                    {
                        "query": c["query"],
                        "file_path": c["file_path"],
                        "qualified_name": c["qualified_name"],
                        "language": a.lang,
                        "kind": c["kind"],
                    }
                )
                + "\n"
            )
    manifest = {
        "language": a.lang,
        "sources": [{"name": n, "path": r} for n, r in sources],
        "subset": a.subset,
        "skipped_patterns": patterns,
        "files": len(files),
        "functions_seen": nsyms,
        "candidates": len(cands),
        "candidates_dropped_shared_sentence": shared,
        "drawn": n,
        "seed": a.seed,
        "queries_whose_text_is_still_in_the_corpus": still,
    }
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
    print(
        f"build_corpus: {a.lang}: {len(files)} files from {roots}, {nsyms} functions/methods, "
        f"{len(cands)} candidates with a first sentence of >= 5 words found nowhere else in "
        f"the tree ({shared} left out that were), drew {n} with seed {a.seed} -> {out}; "
        f"{still} of the {n} held-out sentences are still in the corpus",
        file=sys.stderr,
    )
    if n < a.n:
        print(f"build_corpus: warning: only {n} candidates, asked for {a.n}", file=sys.stderr)


if __name__ == "__main__":
    main()
