#!/usr/bin/env bash
# aetherd --verify (docs/VERIFY.md): allow-listed commands run with `sh -lc` in the workspace;
# exit codes propagate; a command not on the list is refused with nothing run (a marker file
# proves it); container mode with a runtime that is not installed fails, or falls back to the
# host with the flag and says why; a command past its timeout is killed with its whole process
# group; output is cut at the cap; the JSON result has the reference's fields.
. "$(dirname "$0")/lib.sh"

WS=$(new_workspace ws ws_small)
mkdir -p "$WS/.aether"
cat >"$WS/.aether/config.toml" <<'TOML'
[verify]
commands = [
  "echo hello; echo to-stderr >&2",
  "  exit 7  ",
  "",
  "touch ran-marker",
  "sh -c 'sleep 60 & echo $! > child.pid; wait'",
  "head -c 50000 /dev/zero | tr '\\0' x",
  "pwd",
]
timeout_secs = 2
max_output_bytes = 4096
[verify.container]
runtime = "aether-no-such-container-runtime"
image = "debian:stable"
TOML

v() { "$AETHERD" --workspace "$WS" --verify "$@"; }

# a passing command: its output, exit 0; the command ran in the workspace
expect_exit 0 v --verify-command "echo hello; echo to-stderr >&2" &&
  [ "$OUT" = $'$ echo hello; echo to-stderr >&2\nhello\n[passed: exit 0]' ] && [ "$ERR" = "to-stderr" ] &&
  ok "allow-listed command passes, output printed" || fail "pass: [$OUT] [$ERR]"
expect_exit 0 v --verify-command pwd --output json &&
  [ "$(echo "$OUT" | jq -r '.results[0].stdout')" = "$WS" ] &&
  ok "runs in the workspace root" || fail "pwd: $OUT"

# a failing command: its exit code is aetherd's
expect_exit 7 v --verify-command " exit 7" &&
  contains "$ERR" "command failed with exit code 7: exit 7" && ok "failing command exit code 7 propagated" || fail "fail: $OUT $ERR"

# the whole list stops at the first failure (touch never runs)
rm -f "$WS/ran-marker"
expect_exit 7 v && [ ! -e "$WS/ran-marker" ] && contains "$OUT" "hello" &&
  ok "whole list stops at the first failing command" || fail "stop: $OUT"

# not on the list: refused, nothing run (not even the listed ones before it)
expect_exit 1 v --verify-command "touch ran-marker" --verify-command "touch evil-marker" &&
  contains "$ERR" 'not on the [verify] allow-list: "touch evil-marker" (nothing was run)' &&
  [ ! -e "$WS/evil-marker" ] && [ ! -e "$WS/ran-marker" ] &&
  ok "command not on the allow-list refused, nothing ran" || fail "refuse: $ERR; $(ls "$WS")"

# JSON result: the reference's fields
expect_exit 7 v --verify-command "echo hello; echo to-stderr >&2" --verify-command "exit 7" --output json
echo "$OUT" | jq -e --arg ws "$WS" '.schema_version == 1 and .workspace == $ws and .mode == "host"
  and .mode_requested == "host" and .mode_used == "host" and .fallback_reason == null
  and (.allowlisted_commands | length) == 6 and .allowlisted_commands[1] == "exit 7"
  and .requested_commands == ["echo hello; echo to-stderr >&2", "exit 7"] and .passed == false
  and (.error | test("exit code 7")) and .result_count == 2
  and .results[0] == {command: "echo hello; echo to-stderr >&2", exit_code: 0, stdout: "hello\n",
      stderr: "to-stderr\n", passed: true, timed_out: false, stdout_truncated: false, stderr_truncated: false}
  and .results[1].exit_code == 7 and .results[1].passed == false' >/dev/null &&
  ok "JSON result has the reference's fields" || fail "json: $OUT"

# container mode, runtime not installed: an error without the fallback ...
expect_exit 1 v --verify-mode container --verify-command "touch ran-marker" --output json
echo "$OUT" | jq -e '.mode_requested == "container" and .mode_used == null and .passed == false
  and (.error | test("container runtime .aether-no-such-container-runtime. is not installed"))
  and .result_count == 0' >/dev/null && [ ! -e "$WS/ran-marker" ] &&
  ok "container mode, runtime missing: fails, nothing ran" || fail "container: $OUT"
# ... and on the host with it, saying why
expect_exit 0 v --verify-mode container --verify-fallback-host-on-unavailable --verify-command "touch ran-marker" --output json
echo "$OUT" | jq -e '.mode_requested == "container" and .mode_used == "host" and .passed == true
  and (.fallback_reason | test("not installed"))' >/dev/null && [ -e "$WS/ran-marker" ] &&
  ok "container mode, runtime missing, fallback: ran on the host with fallback_reason" || fail "fallback: $OUT"
rm -f "$WS/ran-marker"
# the config's fallback flag does the same
WS2=$(new_workspace ws2 ws_small); mkdir -p "$WS2/.aether"
printf '[verify]\ncommands = ["true"]\nmode = "container"\n[verify.container]\nruntime = "aether-no-such-rt"\nimage = "x"\nfallback_to_host_on_unavailable = true\n' >"$WS2/.aether/config.toml"
expect_exit 0 "$AETHERD" --workspace "$WS2" --verify && contains "$ERR" "running in host mode: container mode is unavailable" &&
  ok "[verify.container] fallback_to_host_on_unavailable from the config" || fail "config fallback: $ERR"
# microvm: unavailable unless configured; falls back to container, then host
expect_exit 1 v --verify-mode microvm --output json
echo "$OUT" | jq -e '(.error | test("microvm mode is unavailable"))' >/dev/null && ok "microvm unavailable" || fail "microvm: $OUT"
expect_exit 0 v --verify-mode microvm --verify-fallback-container-on-unavailable --verify-fallback-host-on-unavailable --verify-command pwd --output json
echo "$OUT" | jq -e '.mode_used == "host" and (.fallback_reason | test("microvm.*; container mode is unavailable"))' >/dev/null &&
  ok "microvm -> container -> host fallback chain" || fail "chain: $OUT"

# timeout: the command and its background child are killed
rm -f "$WS/child.pid"
start=$(date +%s)
expect_exit 1 v --verify-command "sh -c 'sleep 60 & echo \$! > child.pid; wait'" --output json
took=$(( $(date +%s) - start ))
echo "$OUT" | jq -e '.results[0].timed_out == true and .results[0].exit_code == null
  and (.error | test("timed out after 2 s"))' >/dev/null && [ "$took" -lt 30 ] &&
  ok "timeout kills the command (${took}s), exit_code null" || fail "timeout: $OUT (${took}s)"
# alive = exists and not a zombie waiting for its (re)parent to reap it; SIGKILL may take a moment
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ -n "$st" ] && [ "${st#Z}" = "$st" ]; }
child=$(cat "$WS/child.pid" 2>/dev/null || true)
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -n "$child" ] && alive "$child" || break; sleep 0.5; done
if [ -z "$child" ]; then fail "the background child did not start"
elif alive "$child"; then fail "the background child $child survived the timeout"; kill "$child"
else ok "the whole process group was killed"; fi

# output cap: 50000 bytes cut to 4096, flagged
expect_exit 0 v --verify-command "head -c 50000 /dev/zero | tr '\\0' x" --output json
echo "$OUT" | jq -e '(.results[0].stdout | length) == 4096 and .results[0].stdout_truncated == true
  and .max_output_bytes == 4096' >/dev/null && ok "stdout capped at max_output_bytes" || fail "cap: $(echo "$OUT" | cut -c1-300)"

# no allow-list: a clear message saying how to configure it
WS3=$(new_workspace ws3 ws_small)
expect_exit 1 "$AETHERD" --workspace "$WS3" --verify &&
  contains "$ERR" "no verification commands are configured" && contains "$ERR" 'commands = ["make test"]' &&
  ok "empty allow-list: says how to configure it" || fail "empty: $ERR"

# usage errors
expect_exit 2 v --verify-mode vm && contains "$ERR" "--verify-mode expects host, container or microvm, not 'vm'" &&
  ok "bad --verify-mode is a usage error" || fail "usage: $ERR"
expect_exit 2 "$AETHERD" --workspace "$WS" --verify-command x && ok "--verify-command needs --verify" || fail "needs --verify: $ERR"
finish
