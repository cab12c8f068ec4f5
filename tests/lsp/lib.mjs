// Shared by the LSP client tests: start aetherd --lsp, read the store, and the reference's hover
// text written independently of the C code (reference-contract section 4).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, StreamMessageReader, StreamMessageWriter,
} from 'vscode-languageserver-protocol/node.js';

export const BUILD = process.env.AE_BUILD_DIR;
export const WS = process.env.AE_LSP_WS;
export const INDEX_WS = process.env.AE_LSP_INDEX_WS;
assert.ok(BUILD && WS, 'set AE_BUILD_DIR and AE_LSP_WS (tests/cli/test_lsp.sh prepares them)');
export const AETHERD = join(BUILD, 'aetherd');
export const SCALE = Number(process.env.AE_TEST_TIMEOUT_SCALE || 1);

export const uriOf = (rel, root = WS) => pathToFileURL(join(root, rel)).href;

// The server process with a protocol connection on its stdio.  `exited` resolves to the exit
// status; stderr is collected.
const children = [];
// Kills every server still running (a failed test must not leave one keeping node alive).
export function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export function startServer(args = [], ws = WS) {
  const child = spawn(AETHERD, ['--workspace', ws, '--lsp', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ? `signal ${signal}` : code)));
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const logs = [];
  conn.onNotification('window/logMessage', (p) => logs.push(p));
  conn.listen();
  return { child, conn, exited, logs, stderr: () => stderr };
}

export async function initialized(server, capabilities = {}, initializationOptions) {
  const r = await server.conn.sendRequest('initialize', {
    processId: process.pid, rootUri: pathToFileURL(WS).href, capabilities, initializationOptions,
  });
  server.conn.sendNotification('initialized', {});
  return r;
}

export async function stop(server) {
  await server.conn.sendRequest('shutdown');
  server.conn.sendNotification('exit');
  const code = await server.exited;
  server.conn.dispose();
  return code;
}

const DB = join(WS, '.aether', 'meta.sqlite');
export function rows(q, db = DB) {
  const out = execFileSync('sqlite3', ['-json', db, q], { encoding: 'utf8' }).trim();
  return out ? JSON.parse(out) : [];
}

// What the store says about a qualified name: the SIR row and the history.
export function stored(qname, db = DB) {
  const [sym] = rows(`SELECT id FROM symbols WHERE qualified_name = '${qname}'`, db);
  assert.ok(sym, `no stored symbol ${qname}`);
  const [sir] = rows(`SELECT sir_json, sir_status, last_error FROM sir WHERE id = '${sym.id}'`, db);
  const history = rows(`SELECT version, sir_json FROM sir_history WHERE symbol_id = '${sym.id}' ORDER BY version`, db);
  return { id: sym.id, sir, history };
}

export const NO_SIR = 'AETHER: No SIR yet for this symbol. Run aetherd indexing and try again.';

// The reference's hover: heading, confidence, stale warning, six blocks, then the history hint.
export function expectedHover(qname, db = DB) {
  const { sir, history } = stored(qname, db);
  const stale = sir && sir.sir_status === 'stale';
  const err = stale && sir.last_error && sir.last_error.trim();
  const warning = stale ? `AETHER WARNING: SIR is stale.${err ? ` Last error: ${err}` : ''}` : null;
  if (!sir || sir.sir_json === null) return warning ? `${warning}\n\n${NO_SIR}` : NO_SIR;
  const s = JSON.parse(sir.sir_json);
  const list = (xs) => (xs && xs.length ? xs.map((x) => `- ${x.trim()}`).join('\n') : '(none)');
  const blocks = [`### ${qname}`, `**Confidence:** ${s.confidence.toFixed(2)}`];
  if (warning) blocks.push(`> ${warning}`);
  blocks.push(`**Intent**\n${s.intent}`, `**Inputs**\n${list(s.inputs)}`,
    `**Outputs**\n${list(s.outputs)}`, `**Side Effects**\n${list(s.side_effects)}`,
    `**Dependencies**\n${list(s.dependencies)}`, `**Error Modes**\n${list(s.error_modes)}`);
  let md = blocks.join('\n\n');
  if (history.length === 1) md += '\n\n> AETHER WHY: only one recorded SIR version.';
  if (history.length > 1) {
    const a = JSON.parse(history.at(-2).sir_json), b = JSON.parse(history.at(-1).sir_json);
    const empty = (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length);
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    const added = keys.filter((k) => empty(a[k]) && !empty(b[k]));
    const removed = keys.filter((k) => !empty(a[k]) && empty(b[k]));
    const modified = keys.filter((k) => !empty(a[k]) && !empty(b[k]) && JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    const f = (xs) => (xs.length ? xs.join(',') : 'none');
    md += `\n\n> AETHER WHY: latest v${history.at(-2).version} -> v${history.at(-1).version}; ` +
      `added: ${f(added)}; removed: ${f(removed)}; modified: ${f(modified)}.`;
  }
  return md;
}

// 0-based line of the first line of text containing needle.
export function lineOf(text, needle) {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `no line with ${needle}`);
  return i;
}
