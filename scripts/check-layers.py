#!/usr/bin/env python3
"""The layering of src/, checked from the #include lines (make check-layers).

Reads every .c and .h under src/ and include/aether/, maps each quoted
include to the src/ folder it names ("store/migrate.h" -> store), and fails
when
  1. the folders include each other in a cycle;
  2. a folder includes one at the same or a higher layer (LAYERS below);
  3. a front end (cli, mcp, lsp) includes anything but the public headers
     (<aether/...>), src/util/ and what FRONT_END_MAY_ALSO allows;
  4. a public header includes a src/ header;
  5. a folder under src/ is not in LAYERS (say where a new module sits).
Every failure names the file, the line, the include and the rule it breaks.
The layer order is written down in docs/ARCHITECTURE.md; change both together.

usage: check-layers.py [--root DIR] [--graph]
  --root DIR  the tree to check (default: the repository this script is in)
  --graph     print the folder graph (edges with include counts) and layers
Exit status: 0 the layering holds, 1 it does not, 2 usage.
"""
import argparse
import os
import re
import sys

# Lowest first.  A folder may include folders of lower layers only (and its
# own files).  Folders that do not exist yet are allowed to be listed.
LAYERS = [
    ("util",),                                       # errors, memory, files, hashing, HTTP, heaps
    ("config", "text", "lang", "index"),             # TOML+config, tokenizer, language rules,
                                                     # IVF-PQ + distance kernels
    ("symbols", "embed"),                            # file listing, ctags, spans, ids; embedders
                                                     # (they tokenize with text/)
    ("meta", "sir", "vectors"),                      # meta.sqlite, SIR providers, vector table
    ("store",),                                      # VectorStore backends, migration
    ("workspace",),                                  # the handle, index pipeline, migration policy
    ("search", "admin", "watch", "explain", "checks"),  # search; fsck/repair/import/...;
                                                     # watching; explain/history; --verify
    ("cli", "mcp", "lsp"),                           # front ends
]
FRONT_ENDS = {"cli", "mcp", "lsp"}
# Beyond <aether/...> and util/: aetherd is src/cli + src/lsp in one program.
FRONT_END_MAY_ALSO = {"cli": {"lsp"}}
PUBLIC = "include/aether"

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of():
    return {folder: i for i, group in enumerate(LAYERS) for folder in group}


def sources(root):
    for top in ("src", PUBLIC):
        base = os.path.join(root, top)
        for d, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                if f.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(d, f), root)


def folder_of(path):
    """src/store/migrate.c -> store; include/aether/admin.h -> include/aether."""
    parts = path.split(os.sep)
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if path.startswith(PUBLIC + os.sep):
        return PUBLIC
    return None


def includes(root, path):
    """(line number, include text, target folder or None) for each include."""
    here = os.path.dirname(path)
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            kind, inc = m.groups()
            if inc.startswith("aether/"):
                yield n, inc, PUBLIC
                continue
            if kind == "<":
                continue  # system and third-party headers
            if os.path.exists(os.path.join(root, here, inc)):
                yield n, inc, folder_of(os.path.normpath(os.path.join(here, inc)))
            elif os.path.exists(os.path.join(root, "src", inc)):
                yield n, inc, folder_of(os.path.join("src", inc))
            else:
                yield n, inc, None  # generated or missing: not a layering question


def find_cycles(edges):
    """Strongly connected components with more than one folder (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check(root):
    layers = layer_of()
    edges = {}  # folder -> {folder: [(file, line, include)]}
    problems = []
    folders = set()
    for path in sources(root):
        src = folder_of(path)
        if src is None:
            continue
        folders.add(src)
        for n, inc, dst in includes(root, path):
            if dst is None or dst == src:
                continue
            edges.setdefault(src, {}).setdefault(dst, []).append((path, n, inc))
            where = f"{path}:{n}: #include {inc}"
            if src == PUBLIC:
                problems.append(f"{where}: a public header includes src/{dst}/ "
                                "(public headers include only <aether/...> and system headers)")
            elif src in FRONT_ENDS:
                allowed = {PUBLIC, "util"} | FRONT_END_MAY_ALSO.get(src, set())
                if dst not in allowed:
                    problems.append(f"{where}: front end src/{src}/ includes the internal "
                                    f"src/{dst}/ (front ends use <aether/...> and src/util/ only; "
                                    "move what it needs behind include/aether/)")
            elif dst != PUBLIC and src in layers and dst in layers and layers[dst] >= layers[src]:
                rel = "the same layer as" if layers[dst] == layers[src] else "a higher layer than"
                problems.append(f"{where}: src/{src}/ (layer {layers[src]}) includes src/{dst}/, "
                                f"{rel} it (layer {layers[dst]}); a folder includes only lower "
                                "layers")
    for f in sorted(folders - set(layers) - {PUBLIC}):
        problems.append(f"src/{f}/: folder not in the layer table; add it to LAYERS in "
                        "scripts/check-layers.py and to docs/ARCHITECTURE.md")
    graph = {s: set(d) - {PUBLIC} for s, d in edges.items()}
    for comp in find_cycles(graph):
        ties = []
        for s in comp:
            for d in comp:
                for path, n, inc in edges.get(s, {}).get(d, [])[:1]:
                    ties.append(f"{s} -> {d} ({path}:{n}: #include {inc})")
        problems.insert(0, "folder cycle: " + ", ".join(comp) + "; " + "; ".join(ties))
    return problems, edges, folders


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--graph", action="store_true")
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.root, "src")):
        print(f"check-layers: {a.root}: no src/ folder", file=sys.stderr)
        return 2
    problems, edges, folders = check(a.root)
    if a.graph:
        layers = layer_of()
        for s in sorted(edges, key=lambda f: (layers.get(f, 99), f)):
            outs = ", ".join(f"{d} ({len(v)})" for d, v in sorted(edges[s].items()))
            lay = layers.get(s, "public" if s == PUBLIC else "?")
            print(f"{s} [layer {lay}] -> {outs}")
    n_edges = sum(len(set(d) - {PUBLIC}) for d in edges.values())
    if problems:
        for p in problems:
            print(f"check-layers: {p}", file=sys.stderr)
        print(f"check-layers: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check-layers: {len(folders)} folders, {n_edges} folder-to-folder edges: "
          "no cycle, every include follows the layer order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
