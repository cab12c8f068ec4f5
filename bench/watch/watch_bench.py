#!/usr/bin/env python3
"""Watch-mode benchmarks (docs/BENCHMARKS.md, "Watch mode").

  watch_bench.py --build build --symbols 20000 [--saves 100] [--debounce 300] [--checkout 1200]
                 [--idle 60] [--workdir DIR] [--keep]

1. A generated Python workspace of --symbols functions (50 per file) in a git repository,
   indexed with --index-once (default providers: static SIRs, ppmi embeddings; offline).
2. `aetherd --workspace WS` (watch mode) starts.  Save-to-searchable: --saves times a new
   function is written into an existing file; the clock runs from the write until the new
   symbol is returned by aether-mcp (one long-lived server, aether_search lexical, polled
   every 5 ms) and by `aetherd --search` (a new process per poll, polled back to back).
   p50/p95/max of both.
3. Branch switch: a branch `other` rewriting --checkout files is committed (once; --reuse
   keeps it), then `git checkout other` and back to main; time from the checkout's start until
   the daemon processed all of it (a marker file written after the checkout is searchable: due
   paths are processed in event order), and the daemon's peak RSS (VmHWM) over the run.  Then, while the
   ANN index build the storms made due runs in the background, more saves (up to 30).
4. Idle: the daemon's CPU time (utime+stime, and its reaped children's: the ANN index builds
   run in a child) over --idle seconds with nothing changing, once no build runs.
5. Background ANN builds (docs/ARCHITECTURE.md, "Watching"): the daemon's index_build /
   index_built notices; the saves made while a build ran and their latencies; the build
   children's peak RSS (sampled from /proc every 0.2 s); the time SIGTERM takes to end the
   daemon at the end (and whether a build was running then).
The load average (1 min) is sampled every second: min / median / max are reported.
Prints one JSON object with every number.
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, threading, time

def gen_file(path, base, n, rev):
    with open(path, "w") as f:
        for i in range(n):
            f.write(f"def {base}_fn_{i}(value, limit={i}):\n"
                    f'    """Compute {base} step {i}, revision {rev}."""\n'
                    f"    return value * {i} + limit - {rev}\n\n")

def git(ws, *args):
    subprocess.run(["git", "-C", ws, "-c", "user.email=b@b", "-c", "user.name=b", *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def pct(xs, p):
    xs = sorted(xs)
    if not xs: return None
    k = (len(xs) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)

class Mcp:
    def __init__(self, binary, ws):
        self.p = subprocess.Popen([binary, "--workspace", ws], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.i = 0
        self.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                 "clientInfo": {"name": "bench", "version": "0"}})
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}) + "\n")
        self.p.stdin.flush()
    def call(self, method, params):
        self.i += 1
        self.p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": self.i, "method": method, "params": params}) + "\n")
        self.p.stdin.flush()
        r = json.loads(self.p.stdout.readline())
        if "error" in r: raise RuntimeError(r)
        return r["result"]
    def finds(self, name):
        r = self.call("tools/call", {"name": "aether_search", "arguments": {"query": name, "limit": 5}})
        return any(m["qualified_name"] == name for m in r["structuredContent"]["matches"])
    def close(self):
        self.p.stdin.close(); self.p.wait()

def cli_finds(aetherd, ws, name):
    out = subprocess.run([aetherd, "--workspace", ws, "--search", name, "--search-limit", "5", "--output", "json"],
                         capture_output=True, text=True).stdout
    try:
        return any(m["qualified_name"] == name for m in json.loads(out)["matches"])
    except ValueError:
        return False

def proc_cpu(pid, children=True):
    """utime+stime (and the reaped children's cutime+cstime), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    t = int(parts[11]) + int(parts[12]) + (int(parts[13]) + int(parts[14]) if children else 0)
    return t / os.sysconf("SC_CLK_TCK")

def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []

def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"): return int(line.split()[1])
    except OSError:
        pass
    return None

def vmhwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"): return int(line.split()[1])
    return None

def building(events):
    """Is an index build running (an index_build notice not yet followed by its end)?"""
    state = False
    for _, ev, _ in list(events):
        if ev == "index_build": state = True
        elif ev in ("index_built", "index", "abandoned"): state = False
    return state

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--symbols", type=int, default=20000)
    ap.add_argument("--per-file", type=int, default=50)
    ap.add_argument("--saves", type=int, default=100)
    ap.add_argument("--debounce", type=int, default=300)
    ap.add_argument("--checkout", type=int, default=1200)
    ap.add_argument("--idle", type=int, default=60)
    ap.add_argument("--workdir")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reuse", action="store_true", help="keep an indexed --workdir/ws (no generation, no --index-once)")
    ap.add_argument("--cli-poll-ms", type=int, default=20, help="pause between aetherd --search polls")
    ap.add_argument("--no-cli", action="store_true", help="measure through aether-mcp only")
    a = ap.parse_args()
    aetherd = os.path.abspath(os.path.join(a.build, "aetherd"))
    mcp_bin = os.path.abspath(os.path.join(a.build, "aether-mcp"))
    root = a.workdir or tempfile.mkdtemp(prefix="aether-watch-bench-")
    ws = os.path.join(root, "ws")
    nfiles = max(1, a.symbols // a.per_file)
    reuse = a.reuse and os.path.isdir(os.path.join(ws, ".aether"))
    if not reuse:
        shutil.rmtree(ws, ignore_errors=True)
        os.makedirs(os.path.join(ws, "src"))
    for i in (range(0) if reuse else range(nfiles)):
        d = os.path.join(ws, "src", f"d{i // 100}")
        os.makedirs(d, exist_ok=True)
        gen_file(os.path.join(d, f"m{i}.py"), f"m{i}", a.per_file, 0)
    res = {"symbols": nfiles * a.per_file, "files": nfiles, "debounce_ms": a.debounce}
    if not reuse:
        with open(os.path.join(ws, ".gitignore"), "w") as f: f.write(".aether/\n")
        git(ws, "init", "-q", "-b", "main"); git(ws, "add", "-A"); git(ws, "commit", "-qm", "base")
        t = time.monotonic()
        subprocess.run([aetherd, "--workspace", ws, "--index-once"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        res["index_once_s"] = round(time.monotonic() - t, 2)

    logpath = os.path.join(root, "daemon.log")
    log = open(logpath, "w")
    d = subprocess.Popen([aetherd, "--workspace", ws, "--log-format", "json", "--debounce-ms", str(a.debounce)],
                         stdout=subprocess.DEVNULL, stderr=log)
    seen = []  # (monotonic time the line appeared, record), filled by a tail thread every 20 ms
    events = []  # (time, event, message) of the daemon's notices
    stop = threading.Event()
    sampled = {"load": [], "child_hwm_kb": 0, "children": set()}
    def sampler():
        while not stop.is_set():
            sampled["load"].append(os.getloadavg()[0])
            for _ in range(5):
                for c in children_of(d.pid):
                    try:
                        with open(f"/proc/{c}/comm") as f:
                            if f.read().strip() != "aetherd": continue
                    except OSError:
                        continue
                    sampled["children"].add(c)
                    kb = status_kb(c, "VmHWM")
                    if kb and kb > sampled["child_hwm_kb"]: sampled["child_hwm_kb"] = kb
                time.sleep(0.2)
    res["sampled"] = sampled
    def tail():
        with open(logpath) as f:
            buf = ""
            while not stop.is_set():
                chunk = f.read()
                if chunk:
                    buf += chunk
                    *lines, buf = buf.split("\n")
                    now = time.monotonic()
                    for l in lines:
                        if '"kind"' in l: seen.append((now, json.loads(l)))
                        elif '"event"' in l:
                            r = json.loads(l)
                            events.append((now, r["fields"]["event"], r["message"]))
                else:
                    time.sleep(0.02)
    tt = threading.Thread(target=tail, daemon=True); tt.start()
    st = threading.Thread(target=sampler, daemon=True); st.start()
    res["events"] = events
    def batches():
        return [r for _, r in seen]
    while not any(b["fields"]["kind"] == "full" for b in batches()):
        time.sleep(0.05)
    mcp = Mcp(mcp_bin, ws)
    lat_mcp, lat_cli, lat_during = [], [], []
    counter = [0]
    def save(k):
        """Appends a new function to an existing file; ms until aether-mcp (and the CLI) find it."""
        i = (k * 7919) % nfiles
        path = os.path.join(ws, "src", f"d{i // 100}", f"m{i}.py")
        counter[0] += 1
        name = f"probe_{k}_{counter[0]}_{int(time.time() * 1000) % 100000}_fn"
        with open(path, "a") as f:
            f.write(f"def {name}(x):\n    return x + {k}\n\n")
        t0 = time.monotonic()
        during_build = building(events)
        done = {}
        def cli_poll():
            while not cli_finds(aetherd, ws, name): time.sleep(a.cli_poll_ms / 1000.0)
            done["cli"] = time.monotonic() - t0
        th = threading.Thread(target=cli_poll)
        if not a.no_cli: th.start()
        while not mcp.finds(name): time.sleep(0.005)
        ms = (time.monotonic() - t0) * 1000
        if not a.no_cli: th.join()
        time.sleep(0.05)
        return ms, (done["cli"] * 1000 if not a.no_cli else None), during_build and building(events)
    cpu0 = proc_cpu(d.pid)
    for k in range(a.saves):
        m, c, during = save(k)
        lat_mcp.append(m)
        if c is not None: lat_cli.append(c)
        if during: lat_during.append(m)
    bl = [b["fields"]["ms"] for b in batches() if b["fields"]["kind"] == "paths"][-a.saves:]
    if a.saves:
        res["batch_ms"] = {"p50": pct(bl, 50), "p95": pct(bl, 95)}
        # CPU the daemon (with its ctags / git children) spent per save: independent of load
        res["daemon_cpu_ms_per_save"] = round((proc_cpu(d.pid) - cpu0) * 1000 / a.saves, 1)

    markers = [0]
    def settle(t_start):
        """Seconds from t_start until the daemon processed everything that changed before now:
        a marker file is written after the change, and the watcher processes due paths in
        event order, so the marker is searchable once every earlier path was processed."""
        markers[0] += 1
        name = f"settle_marker_{markers[0]}_{int(time.time() * 1000) % 100000}"
        n0 = len(seen)
        with open(os.path.join(ws, "src", f"{name}.py"), "w") as f:
            f.write(f"def {name}(x):\n    return x\n")
        while not mcp.finds(name): time.sleep(0.05)
        return time.monotonic() - t_start, len(seen) - n0
    if a.checkout > 0:
        # branch switch: `other` rewrites the first --checkout files (made once; --reuse keeps it)
        git(ws, "add", "-A"); git(ws, "commit", "--allow-empty", "-qm", "saves")
        n = min(a.checkout, nfiles)
        have = subprocess.run(["git", "-C", ws, "rev-parse", "-q", "--verify", "other"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
        if not have:
            git(ws, "checkout", "-qb", "other")
            for i in range(n):
                gen_file(os.path.join(ws, "src", f"d{i // 100}", f"m{i}.py"), f"m{i}", a.per_file, 1)
            git(ws, "add", "-A"); git(ws, "commit", "-qm", "other")
            settle(time.monotonic())  # the branch's own commit: let the daemon catch up
            git(ws, "checkout", "-q", "main")
            settle(time.monotonic())
        elif subprocess.run(["git", "-C", ws, "rev-parse", "--abbrev-ref", "HEAD"], capture_output=True,
                            text=True).stdout.strip() != "main":
            git(ws, "checkout", "-q", "main")
            settle(time.monotonic())
        res["checkout"] = []
        for target in ("other", "main"):
            t0 = time.monotonic()
            git(ws, "checkout", "-q", target)
            conv, nb = settle(t0)
            res["checkout"].append({"to": target, "files": n, "converge_s": round(conv, 2), "batches": nb})
    # saves while an ANN index build runs (the storms made one due): none may wait for it
    t = time.monotonic()
    while not building(events) and time.monotonic() - t < 20: time.sleep(0.1)
    k = 10000
    while building(events) and len(lat_during) < 30:
        m, c, during = save(k); k += 1
        if during: lat_during.append(m)
    mcp.close()
    for key, xs in (("save_to_mcp_ms", lat_mcp), ("save_to_cli_ms", lat_cli),
                    ("save_to_mcp_during_build_ms", lat_during)):
        if not xs: continue
        res[key] = {"p50": round(pct(xs, 50), 1), "p95": round(pct(xs, 95), 1), "max": round(max(xs), 1), "n": len(xs)}
    return finish(a, res, d, stop, root)

def finish(a, res, d, stop, root):
    res["daemon_peak_rss_mb"] = round(vmhwm(d.pid) / 1024, 1)
    # a build running now (the storms' last): SIGTERM must end the daemon at once
    if building(res["events"]):
        t = time.monotonic(); d.terminate(); d.wait()
        res["sigterm_during_build"] = {"exit": d.returncode, "ms": round((time.monotonic() - t) * 1000, 1)}
        d = subprocess.Popen([os.path.abspath(os.path.join(a.build, "aetherd")), "--workspace",
                              os.path.join(root, "ws"), "--log-format", "json"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(root, "daemon2.log"), "w"))
    # idle: once the daemon's CPU time stood still for 5 s (a due ANN index rebuild after the
    # storms runs first), its CPU time over --idle seconds with nothing changing
    last, still = proc_cpu(d.pid), 0
    while still < 5:
        time.sleep(1); now = proc_cpu(d.pid)
        still = still + 1 if now == last and not children_of(d.pid) else 0
        last = now
    c0 = proc_cpu(d.pid); time.sleep(a.idle); c1 = proc_cpu(d.pid)
    res["idle"] = {"seconds": a.idle, "cpu_s": round(c1 - c0, 3)}
    t = time.monotonic(); d.terminate(); d.wait()
    res["sigterm_idle_ms"] = round((time.monotonic() - t) * 1000, 1)
    stop.set()
    res["daemon_exit"] = d.returncode
    sm = res.pop("sampled")
    ld = sorted(sm["load"]) or [0]
    res["loadavg_1min"] = {"min": ld[0], "median": ld[len(ld) // 2], "max": ld[-1]}
    res["build_children"] = len(sm["children"])
    res["build_child_peak_rss_mb"] = round(sm["child_hwm_kb"] / 1024, 1)
    evs = res.pop("events")
    res["index_builds"] = {"started": sum(1 for e in evs if e[1] == "index_build"),
                           "published": sum(1 for e in evs if e[1] == "index_built"),
                           "messages": [m for _, ev, m in evs if ev in ("index_built", "index")][-6:]}
    print(json.dumps(res))
    if not a.keep and not a.workdir: shutil.rmtree(root, ignore_errors=True)

if __name__ == "__main__":
    main()
