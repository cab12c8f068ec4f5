#!/usr/bin/env python3
"""The public API's symbol names: every function (and extern object) declared
in include/aether/*.h, one per line, sorted.  `--version-script NAME` writes a
GNU ld version script instead: those names global in version node NAME,
everything else local.  CMake runs it to build libaether.so's export list
(docs/INSTALL.md "Exported symbols"); tests/cli/test_install.sh checks its
result against the headers a second way (gcc -aux-info) and against
`nm -D --defined-only` of the installed library.

Not exported: static inline functions, typedefs (function-pointer types
included), struct members, macros, and anything under #ifdef __cplusplus."""
import re
import sys
from pathlib import Path


def strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(\\.|[^"\\])*"', '""', text)
    out, skip = [], 0
    for line in text.splitlines():
        s = line.strip()
        if skip:
            if s.startswith("#if"):
                skip += 1
            elif s.startswith("#endif"):
                skip -= 1
            continue
        if re.match(r"#\s*ifdef\s+__cplusplus\b", s):
            skip = 1
            continue
        if s.startswith("#"):
            # macro bodies continue on backslash lines; none declare functions
            continue
        out.append(line)
    return "\n".join(out)


def top_level_statements(text: str):
    """Statements at brace depth 0, bodies ({...}) dropped."""
    depth, cur = 0, []
    for ch in text:
        if ch == "{":
            if depth == 0:
                cur.append(" {} ")
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise SystemExit("public-symbols: unbalanced braces")
        elif depth == 0:
            if ch == ";":
                yield "".join(cur).strip()
                cur = []
            else:
                cur.append(ch)
    # an inline function's body ends a statement without ';': declared()
    # splits on the " {} " marker
    rest = "".join(cur).strip()
    if rest:
        yield rest


def declared(text: str):
    names = []
    for stmt in top_level_statements(strip(text)):
        # an inline definition leaves "... name(args) {} next-stmt": split
        for part in stmt.split(" {} "):
            part = " ".join(part.split())
            if not part or part.startswith("typedef"):
                continue
            if re.search(r"\bstatic\b", part):
                continue
            m = re.search(r"\b(ae_\w+)\s*\(", part)
            if m and not re.search(r"\(\s*\*\s*" + m.group(1), part):
                names.append(m.group(1))
                continue
            m = re.match(r"extern\b.*\b(ae_\w+)\s*(\[[^\]]*\])?$", part)
            if m:
                names.append(m.group(1))
    return names


def main(argv):
    args = argv[1:]
    node = None
    if args and args[0] == "--version-script":
        node, args = args[1], args[2:]
    if not args:
        raise SystemExit("usage: public-symbols.py [--version-script NODE] HEADER...")
    names = set()
    for h in args:
        names.update(declared(Path(h).read_text()))
    names = sorted(names)
    if not names:
        raise SystemExit("public-symbols: no ae_* declaration in " + " ".join(args))
    if node is None:
        print("\n".join(names))
    else:
        print(node + " {\n  global:")
        for n in names:
            print("    " + n + ";")
        print("  local:\n    *;\n};")


if __name__ == "__main__":
    main(sys.argv)
