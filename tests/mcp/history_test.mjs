// aether_explain, aether_symbol_timeline and aether_why_changed through the official MCP SDK
// client, on an indexed copy of tests/fixtures/ws_small outside git (so commit_hash is null).
// Ports the reference's tool tests: explain fresh and stale, the smallest span, timeline order
// and limit, why-changed by the latest pair / versions / timestamps / not found / single
// version, and bad arguments.
//
//   AE_BUILD_DIR=build AE_MCP_HIST_WS=/tmp/ws node tests/mcp/history_test.mjs
//
// AE_MCP_HIST_WS must be indexed once (tests/cli/test_mcp.sh prepares it); the test edits
// pkg/auth.py and re-indexes it to make new SIR versions.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const BUILD = process.env.AE_BUILD_DIR;
const WS = process.env.AE_MCP_HIST_WS;
assert.ok(BUILD && WS, 'set AE_BUILD_DIR and AE_MCP_HIST_WS');
const AETHERD = join(BUILD, 'aetherd');
const DB = join(WS, '.aether', 'meta.sqlite');
const SCALE = Number(process.env.AE_TEST_TIMEOUT_SCALE || 1);

const transport = new StdioClientTransport({
  command: join(BUILD, 'aether-mcp'), args: ['--workspace', WS], stderr: 'pipe',
});
const client = new Client({ name: 'aether-history-test', version: '0.0.0' });
await client.connect(transport);
after(async () => client.close());

async function callOk(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, `${name} failed: ${JSON.stringify(r.content)}`);
  assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent);
  return r.structuredContent;
}
async function callError(name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} should fail: ${JSON.stringify(r)}`);
  return r.content[0].text;
}
function sql(q) {
  return execFileSync('sqlite3', [DB, q], { encoding: 'utf8' }).trim();
}
function reindex() {
  execFileSync(AETHERD, ['--workspace', WS, '--index-once'], { stdio: 'ignore', timeout: 60_000 * SCALE });
}
// The reference's hover layout, written independently of the C code.
function expectedHover(qname, sir, staleError) {
  const list = (xs) => (xs && xs.length ? xs.map((x) => `- ${x}`).join('\n') : '(none)');
  const blocks = [`### ${qname}`, `**Confidence:** ${sir.confidence.toFixed(2)}`];
  if (staleError !== undefined) blocks.push(`> AETHER WARNING: SIR is stale. Last error: ${staleError}`);
  blocks.push(`**Intent**\n${sir.intent}`, `**Inputs**\n${list(sir.inputs)}`,
    `**Outputs**\n${list(sir.outputs)}`, `**Side Effects**\n${list(sir.side_effects)}`,
    `**Dependencies**\n${list(sir.dependencies)}`, `**Error Modes**\n${list(sir.error_modes)}`);
  return blocks.join('\n\n');
}
async function idOf(qname) {
  const r = await callOk('aether_symbol_lookup', { query: qname });
  const m = r.matches.find((x) => x.qualified_name === qname);
  assert.ok(m, `no symbol ${qname}`);
  return m.symbol_id;
}

test('tools/list publishes the explain and history tools with their schemas', async () => {
  const { tools } = await client.listTools();
  const by = Object.fromEntries(tools.map((t) => [t.name, t]));
  assert.deepEqual(by.aether_explain.inputSchema.required, ['file_path', 'line', 'column']);
  assert.equal(by.aether_explain.inputSchema.properties.line.minimum, 1);
  assert.deepEqual(by.aether_symbol_timeline.inputSchema.required, ['symbol_id']);
  assert.deepEqual(Object.keys(by.aether_why_changed.inputSchema.properties),
    ['symbol_id', 'from_version', 'to_version', 'from_created_at', 'to_created_at']);
  for (const n of ['aether_explain', 'aether_symbol_timeline', 'aether_why_changed'])
    assert.equal(by[n].inputSchema.additionalProperties, false, n);
});

test('aether_explain: the smallest span wins, fresh SIR, hover as the reference', async () => {
  const inner = await callOk('aether_explain', { file_path: 'pkg/auth.py', line: 9, column: 9 });
  assert.equal(inner.found, true);
  assert.equal(inner.qualified_name, 'SessionStore::refresh_token');
  assert.deepEqual(inner.position, { line: 9, column: 9 });
  assert.equal(inner.file_path, 'pkg/auth.py');
  assert.equal(inner.symbol_id, await idOf('SessionStore::refresh_token'));
  assert.equal(inner.sir_status, 'fresh');
  assert.equal(inner.last_error, null);
  assert.equal(typeof inner.last_attempt_at, 'number');
  assert.ok(Math.abs(inner.last_attempt_at - Date.now() / 1000) < 3600, 'last_attempt_at in seconds');
  const got = await callOk('aether_get_sir', { symbol_id: inner.symbol_id });
  assert.deepEqual(inner.sir, got.sir);
  assert.equal(inner.hover_markdown, expectedHover('SessionStore::refresh_token', inner.sir));
  assert.equal(inner.history_hint, '> AETHER WHY: only one recorded SIR version.');
  // the class around it, by a line outside the method; ./ and absolute paths work too
  const outer = await callOk('aether_explain', { file_path: './pkg/auth.py', line: 5, column: 1 });
  assert.equal(outer.qualified_name, 'SessionStore');
  const abs = await callOk('aether_explain', { file_path: join(WS, 'pkg', 'auth.py'), line: 13, column: 5 });
  assert.equal(abs.qualified_name, 'SessionStore::issue');
  // between symbols, past the end, an unknown file: found false, not an error
  for (const args of [{ file_path: 'pkg/auth.py', line: 16, column: 1 },
    { file_path: 'pkg/auth.py', line: 900, column: 1 }, { file_path: 'nope.py', line: 1, column: 1 }]) {
    const r = await callOk('aether_explain', args);
    assert.equal(r.found, false, JSON.stringify(args));
    assert.equal(r.symbol_id, null);
    assert.equal(r.hover_markdown, null);
    assert.equal(r.sir, null);
  }
});

test('aether_explain: bad arguments name the argument', async () => {
  assert.match(await callError('aether_explain', { file_path: 'pkg/auth.py', line: 0, column: 1 }),
    /argument 'line' must be 1 or more \(lines are 1-based\), not 0/);
  assert.match(await callError('aether_explain', { file_path: 'pkg/auth.py', line: 3, column: 0 }),
    /argument 'column' must be 1 or more/);
  assert.match(await callError('aether_explain', { file_path: 'pkg/auth.py', line: '3', column: 1 }),
    /argument 'line' must be an integer, not a string/);
  assert.match(await callError('aether_explain', { file_path: 7, line: 3, column: 1 }),
    /argument 'file_path' must be a string/);
  assert.match(await callError('aether_explain', { file_path: 'x', line: 1 }),
    /missing required argument 'column'/);
  assert.match(await callError('aether_explain', { file_path: 'x', line: 1.5, column: 1 }),
    /'line' must be an integer, not a number/);
});

test('timeline and why-changed with one version; empty symbol_id answers found false', async () => {
  const id = await idOf('cache_lookup');
  const t = await callOk('aether_symbol_timeline', { symbol_id: id });
  assert.equal(t.found, true);
  assert.equal(t.limit, 20);
  assert.equal(t.result_count, 1);
  assert.equal(t.timeline[0].version, 1);
  assert.equal(t.timeline[0].commit_hash, null, 'outside git the commit hash is null');
  assert.equal(t.timeline[0].provider, 'static');
  assert.match(t.timeline[0].sir_hash, /^[0-9a-f]{64}$/);
  const w = await callOk('aether_why_changed', { symbol_id: id });
  assert.equal(w.found, false);
  assert.equal(w.reason, 'single_version_only');
  assert.equal(w.selector_mode, 'auto');
  assert.equal(w.from, null);
  assert.deepEqual(w.fields_modified, []);
  for (const tool of ['aether_symbol_timeline', 'aether_why_changed']) {
    const e = await callOk(tool, { symbol_id: '' });
    assert.equal(e.found, false, tool);
  }
  assert.equal((await callOk('aether_why_changed', { symbol_id: '' })).reason, 'no_history');
  assert.equal((await callOk('aether_symbol_timeline', { symbol_id: 'f'.repeat(64) })).result_count, 0);
});

test('timeline order and limit, why-changed by latest pair, versions, timestamps, not found', async () => {
  const id = await idOf('SessionStore::refresh_token');
  const file = join(WS, 'pkg', 'auth.py');
  const orig = readFileSync(file, 'utf8');
  const docs = ['Renew the oauth token of a session.', 'Rotate the session token and store it.'];
  for (const d of docs) {
    writeFileSync(file, orig.replace('Refresh the oauth token of a session.', d));
    reindex();
  }
  const all = await callOk('aether_symbol_timeline', { symbol_id: id });
  assert.deepEqual(all.timeline.map((e) => e.version), [1, 2, 3], 'oldest first');
  for (let i = 1; i < 3; i++) assert.ok(all.timeline[i].created_at >= all.timeline[i - 1].created_at);
  const last2 = await callOk('aether_symbol_timeline', { symbol_id: id, limit: 2 });
  assert.deepEqual(last2.timeline.map((e) => e.version), [2, 3], 'the last `limit` versions');
  assert.equal(last2.limit, 2);
  assert.equal((await callOk('aether_symbol_timeline', { symbol_id: id, limit: 0 })).limit, 1, 'clamped');
  assert.equal((await callOk('aether_symbol_timeline', { symbol_id: id, limit: 5000 })).limit, 1000);

  const latest = await callOk('aether_why_changed', { symbol_id: id });
  assert.equal(latest.found, true);
  assert.equal(latest.reason, null);
  assert.equal(latest.selector_mode, 'auto');
  assert.deepEqual([latest.from.version, latest.to.version], [2, 3]);
  assert.equal(latest.to.commit_hash, null);
  assert.match(latest.prior_summary, /Renew the oauth token/);
  assert.match(latest.current_summary, /Rotate the session token/);
  assert.ok(latest.fields_modified.includes('intent'), JSON.stringify(latest));
  assert.deepEqual([...latest.fields_modified].sort(), latest.fields_modified, 'sorted');

  const byv = await callOk('aether_why_changed', { symbol_id: id, from_version: 1, to_version: 3 });
  assert.equal(byv.selector_mode, 'version');
  assert.deepEqual([byv.from.version, byv.to.version], [1, 3]);
  assert.match(byv.prior_summary, /Refresh the oauth token/);

  const [v1, v2] = all.timeline;
  const byt = await callOk('aether_why_changed',
    { symbol_id: id, from_created_at: v1.created_at, to_created_at: v2.created_at });
  assert.equal(byt.selector_mode, 'timestamp');
  assert.equal(byt.found, true);
  assert.equal(byt.from.version, 1);
  assert.equal(byt.to.created_at, v2.created_at);

  const nf = await callOk('aether_why_changed', { symbol_id: id, from_version: 1, to_version: 99 });
  assert.equal(nf.found, false);
  assert.equal(nf.reason, 'selector_not_found');
  const early = await callOk('aether_why_changed',
    { symbol_id: id, from_created_at: 0, to_created_at: v2.created_at });
  assert.equal(early.reason, 'selector_not_found');

  // the hover's history hint names the latest pair
  const x = await callOk('aether_explain', { file_path: 'pkg/auth.py', line: 8, column: 1 });
  assert.match(x.history_hint, /^> AETHER WHY: latest v2 -> v3; added: .*; removed: .*; modified: .*intent.*\.$/);
});

test('aether_why_changed: mixed or half selectors are errors naming the arguments', async () => {
  const id = await idOf('cache_lookup');
  assert.match(await callError('aether_why_changed',
    { symbol_id: id, from_version: 1, to_version: 2, from_created_at: 5, to_created_at: 6 }),
  /either from_version and to_version or from_created_at and to_created_at, not both/);
  assert.match(await callError('aether_why_changed', { symbol_id: id, from_version: 1, to_created_at: 6 }),
    /not both/);
  assert.match(await callError('aether_why_changed', { symbol_id: id, from_version: 1 }),
    /argument 'from_version' needs 'to_version' too/);
  assert.match(await callError('aether_why_changed', { symbol_id: id, to_created_at: 1 }),
    /argument 'to_created_at' needs 'from_created_at' too/);
  assert.match(await callError('aether_why_changed', { symbol_id: id, from_version: 0, to_version: 1 }),
    /'from_version' must be 1 or more, not 0/);
  assert.match(await callError('aether_why_changed', { symbol_id: id, from_version: 'a', to_version: 1 }),
    /'from_version' must be an integer, not a string/);
  assert.match(await callError('aether_why_changed', { symbol_id: 3 }), /'symbol_id' must be a string/);
  assert.match(await callError('aether_symbol_timeline', { symbol_id: id, limit: 'x' }), /'limit' must be an integer/);
  assert.match(await callError('aether_symbol_timeline', {}), /missing required argument 'symbol_id'/);
  assert.deepEqual(await client.ping(), {});
});

test('aether_explain: a stale SIR shows the warning; a symbol without SIR the reference text', async () => {
  const id = await idOf('cache_lookup');
  const cols = sql('SELECT name FROM pragma_table_info(\'sir\')').split('\n');
  if (!cols.includes('sir_status')) // a store written before SIR status existed
    sql('ALTER TABLE sir ADD COLUMN sir_status TEXT; ALTER TABLE sir ADD COLUMN last_error TEXT; ' +
      'ALTER TABLE sir ADD COLUMN last_attempt_at INTEGER;');
  sql(`UPDATE sir SET sir_status = 'stale', last_error = 'provider timed out after 30 s', ` +
    `last_attempt_at = 1760000000 WHERE id = '${id}'`);
  const x = await callOk('aether_explain', { file_path: 'pkg/auth.py', line: 18, column: 5 });
  assert.equal(x.symbol_id, id);
  assert.equal(x.sir_status, 'stale');
  assert.equal(x.last_error, 'provider timed out after 30 s');
  assert.equal(x.last_attempt_at, 1760000000);
  assert.equal(x.hover_markdown, expectedHover('cache_lookup', x.sir, 'provider timed out after 30 s'));

  sql(`DELETE FROM sir WHERE id = '${id}'`);
  const none = await callOk('aether_explain', { file_path: 'pkg/auth.py', line: 18, column: 5 });
  assert.equal(none.found, true);
  assert.equal(none.sir, null);
  assert.equal(none.sir_status, null);
  assert.equal(none.hover_markdown,
    'AETHER: No SIR yet for this symbol. Run aetherd indexing and try again.');
});

test('aether_verify runs allow-listed commands through the library, refuses others', async () => {
  const { appendFileSync, existsSync } = await import('node:fs');
  appendFileSync(join(WS, '.aether', 'config.toml'),
    '\n[verify]\ncommands = ["echo verified", "exit 4"]\ntimeout_secs = 5\n' +
    '[verify.container]\nruntime = "aether-no-such-runtime"\nimage = "x"\n');
  const t2 = new StdioClientTransport({
    command: join(BUILD, 'aether-mcp'), args: ['--workspace', WS], stderr: 'pipe',
  });
  const c2 = new Client({ name: 'aether-verify-test', version: '0.0.0' });
  await c2.connect(t2);
  try {
    const call = async (args) => {
      const r = await c2.callTool({ name: 'aether_verify', arguments: args });
      return r;
    };
    let r = await call({ commands: ['echo verified'] });
    assert.equal(r.isError, false);
    const ok = r.structuredContent;
    assert.equal(ok.schema_version, 1);
    assert.equal(ok.passed, true);
    assert.equal(ok.mode_used, 'host');
    assert.deepEqual(ok.allowlisted_commands, ['echo verified', 'exit 4']);
    assert.deepEqual(ok.results.map((x) => [x.command, x.exit_code, x.stdout, x.passed]),
      [['echo verified', 0, 'verified\n', true]]);
    r = await call({});
    assert.equal(r.structuredContent.passed, false);
    assert.equal(r.structuredContent.result_count, 2);
    assert.equal(r.structuredContent.results[1].exit_code, 4);
    r = await call({ commands: ['touch mcp-marker'] });
    assert.equal(r.structuredContent.passed, false);
    assert.match(r.structuredContent.error, /not on the \[verify\] allow-list/);
    assert.equal(existsSync(join(WS, 'mcp-marker')), false, 'a refused command ran');
    r = await call({ commands: ['echo verified'], mode: 'container' });
    assert.match(r.structuredContent.error, /is not installed/);
    r = await call({ commands: ['echo verified'], mode: 'container', fallback_to_host_on_unavailable: true });
    assert.equal(r.structuredContent.mode_used, 'host');
    assert.match(r.structuredContent.fallback_reason, /not installed/);
    assert.equal(r.structuredContent.passed, true);
    r = await call({ commands: 'echo verified' });
    assert.equal(r.isError, true);
    assert.match(r.content[0].text, /argument 'commands' must be an array of strings/);
  } finally {
    await c2.close();
  }
});
