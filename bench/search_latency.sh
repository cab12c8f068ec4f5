#!/usr/bin/env bash
# Search latency on a large workspace, before/after in one run (docs/BENCHMARKS.md).
#
#   bench/search_latency.sh WORKSPACE BUILD [BASE_BUILD] [RUNS]
#
# WORKSPACE  an indexed workspace (e.g. a copy of /usr/include + an npm
#            node_modules tree + /usr/lib/python3.11, indexed with defaults)
# BUILD      build directory with aetherd and bench_search
# BASE_BUILD optional second build (the baseline) measured the same way,
#            interleaved with BUILD run by run, on the same store (a baseline
#            ignores tables it does not know)
# RUNS       runs per (build, mode, query), default 7; medians are printed
#
# Two figures per mode:
#   process  one whole `aetherd --search Q --search-mode M` (open, query,
#            print JSON): wall time from fork to exit and the child's CPU time
#            (user + sys), medians of RUNS
#   search   ae_search() alone in one process (bench_search: median of RUNS
#            after a warm-up; the workspace opened once)
# The queries are fixed here, not taken from any quality benchmark set.
set -euo pipefail
ws=${1:?workspace}
build=${2:?build dir}
base=${3:-}
runs=${4:-7}
queries=(
  "malloc"                               # an exact C name
  "pthread_mutex_lock"                   # snake_case identifier
  "HTTPServer"                           # acronym + camelCase
  "parse"                                # a common fragment
  "xml"                                  # a short fragment
  "fd"                                   # two characters (the LIKE-scan fallback when unfilled)
  "convert a string to lower case"       # a sentence
  "read the whole file into a buffer"    # a sentence
)
modes=(lexical semantic hybrid)

echo "workspace: $ws ($(sqlite3 "$ws/.aether/meta.sqlite" 'select count(*) from symbols') symbols)"
echo "runs: $runs per figure; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "== process: whole aetherd --search, ms (median of $runs)"
python3 - "$ws" "$runs" "$build" "$base" "${modes[@]}" -- "${queries[@]}" <<'PY'
import resource, statistics, subprocess, sys, time
ws, runs, build, base = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rest = sys.argv[5:]
sep = rest.index("--")
modes, queries = rest[:sep], rest[sep + 1:]
builds = [("after", build)] + ([("before", base)] if base else [])
def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
def once(b, q, m):
    t, c = time.perf_counter(), cpu()
    subprocess.run([b + "/aetherd", "--workspace", ws, "--search", q, "--search-mode", m,
                    "--output", "json"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=True)
    return ((time.perf_counter() - t) * 1e3, (cpu() - c) * 1e3)
# wall and CPU (user + sys of the child) per build; ratio = before / after (wall)
hdr = "%-8s %-36s" % ("mode", "query") + "".join(" %9s %9s" % (n, n + "_cpu") for n, _ in builds)
if base: hdr += " %8s" % "ratio"
print(hdr)
for m in modes:
    per = {n: ([], []) for n, _ in builds}
    for q in queries:
        t = {n: ([], []) for n, _ in builds}
        for _ in range(1):  # warm-up (page cache)
            for n, b in builds: once(b, q, m)
        for _ in range(runs):  # interleaved: after, before, after, before ...
            for n, b in builds:
                w, c = once(b, q, m)
                t[n][0].append(w)
                t[n][1].append(c)
        med = {n: (statistics.median(v[0]), statistics.median(v[1])) for n, v in t.items()}
        for n in med:
            per[n][0].append(med[n][0])
            per[n][1].append(med[n][1])
        line = "%-8s %-36s" % (m, q[:36]) + "".join(" %9.1f %9.1f" % med[n] for n, _ in builds)
        if base: line += " %7.2fx" % (med["before"][0] / med["after"][0])
        print(line)
    mm = {n: (statistics.median(per[n][0]), statistics.median(per[n][1])) for n, _ in builds}
    line = "%-8s %-36s" % (m, "(median over queries)") + "".join(
        " %9.1f %9.1f" % mm[n] for n, _ in builds)
    if base: line += " %7.2fx" % (mm["before"][0] / mm["after"][0])
    print(line)
PY

for pair in "after:$build" ${base:+"before:$base"}; do
  name=${pair%%:*} dir=${pair#*:}
  echo
  echo "== search: ae_search() in-process, $name ($dir)"
  if [ -x "$dir/bench_search" ]; then
    "$dir/bench_search" --workspace "$ws" --runs "$runs" "${queries[@]}"
  else
    echo "(no $dir/bench_search: build bench/bench_search.c there)"
  fi
done
