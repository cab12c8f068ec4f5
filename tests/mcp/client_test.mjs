// Drives aether-mcp with the official MCP TypeScript SDK client (Client +
// StdioClientTransport) against an indexed copy of tests/fixtures/ws_small.
//
//   AE_BUILD_DIR=build AE_MCP_WS=/tmp/ws node tests/mcp/client_test.mjs
//
// AE_MCP_WS must already be indexed (`aetherd --workspace WS --index-once`);
// tests/cli/test_mcp.sh prepares it.  AE_MCP_EMPTY_WS (optional) is a copy of
// the fixture that has not been indexed yet.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

const BUILD = process.env.AE_BUILD_DIR;
const WS = process.env.AE_MCP_WS;
const EMPTY_WS = process.env.AE_MCP_EMPTY_WS;
assert.ok(BUILD && WS, 'set AE_BUILD_DIR and AE_MCP_WS');
const SERVER = join(BUILD, 'aether-mcp');
const AETHERD = join(BUILD, 'aetherd');
const TOOL_NAMES = ['aether_status', 'aether_symbol_lookup', 'aether_search', 'aether_get_sir',
  'aether_explain', 'aether_symbol_timeline', 'aether_why_changed', 'aether_verify'];

const clients = [];
async function connect(ws) {
  const transport = new StdioClientTransport({
    command: SERVER,
    args: ['--workspace', ws],
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'aether-mcp-test', version: '0.0.0' });
  await client.connect(transport);
  clients.push(client);
  return { client, stderr: () => stderr };
}
after(async () => {
  for (const c of clients) await c.close();
});

function aetherdSearch(ws, query, mode, limit = 20) {
  const out = execFileSync(
    AETHERD,
    ['--workspace', ws, '--search', query, '--search-mode', mode, '--search-limit', String(limit),
      '--output', 'json'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

// A successful call: structuredContent, and the same object as JSON text.
async function callOk(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, false, `${name} failed: ${JSON.stringify(r.content)}`);
  assert.equal(r.content.length, 1);
  assert.equal(r.content[0].type, 'text');
  assert.deepEqual(JSON.parse(r.content[0].text), r.structuredContent);
  return r.structuredContent;
}

async function callError(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, true, `${name} should fail: ${JSON.stringify(r)}`);
  assert.equal(r.content[0].type, 'text');
  return r.content[0].text;
}

const { client } = await connect(WS);

test('initialize negotiates the protocol and names the server', () => {
  const info = client.getServerVersion();
  assert.equal(info.name, 'aether-mcp');
  assert.match(info.version, /^\d+\.\d+\.\d+|dev$/);
  assert.ok(client.getServerCapabilities().tools, 'tools capability');
  assert.match(client.getInstructions() ?? '', /aether_search/);
  assert.ok(LATEST_PROTOCOL_VERSION);
});

test('ping', async () => {
  assert.deepEqual(await client.ping(), {});
});

test('tools/list: every tool with a strict input schema', async () => {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name), TOOL_NAMES);
  const by = Object.fromEntries(tools.map((t) => [t.name, t]));
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object');
    assert.equal(t.inputSchema.additionalProperties, false, t.name);
    assert.equal(t.outputSchema.type, 'object', t.name);
    assert.equal(t.annotations.readOnlyHint, t.name !== 'aether_verify', t.name);
    assert.ok(t.description.length > 20);
  }
  assert.deepEqual(Object.keys(by.aether_status.inputSchema.properties), []);
  assert.deepEqual(by.aether_symbol_lookup.inputSchema.required, ['query']);
  assert.deepEqual(Object.keys(by.aether_symbol_lookup.inputSchema.properties), ['query', 'limit']);
  assert.deepEqual(Object.keys(by.aether_search.inputSchema.properties),
    ['query', 'limit', 'mode', 'language', 'path_prefix', 'kind']);
  for (const f of ['language', 'path_prefix', 'kind'])
    assert.equal(by.aether_search.inputSchema.properties[f].type, 'string', f);
  assert.deepEqual(by.aether_search.inputSchema.properties.mode.enum, ['lexical', 'semantic', 'hybrid']);
  const limit = by.aether_search.inputSchema.properties.limit;
  assert.deepEqual([limit.type, limit.default], ['integer', 20]);
  assert.match(limit.description, /clamped to it/);
  assert.deepEqual(by.aether_get_sir.inputSchema.required, ['symbol_id']);
  assert.equal(by.aether_get_sir.inputSchema.properties.symbol_id.type, 'string');
});

test('aether_status reports the indexed store', async () => {
  const s = await callOk(client, 'aether_status', {});
  assert.equal(s.schema_version, 1);
  assert.ok(Number.isInteger(s.generated_at));
  assert.ok(Math.abs(s.generated_at - Date.now() / 1000) < 60, `generated_at ${s.generated_at} (unix seconds)`);
  assert.equal(s.store_present, true);
  assert.ok(s.workspace.length > 0);
  assert.equal(s.sqlite_path, join(s.workspace, '.aether', 'meta.sqlite'));
  assert.equal(s.sir_dir, join(s.workspace, '.aether', 'sir'));
  assert.ok(existsSync(s.sqlite_path));
  assert.ok(s.symbol_count >= 10, `symbol_count ${s.symbol_count}`);
  assert.equal(s.sir_count, s.symbol_count);
  assert.ok(['lancedb', 'sqlite'].includes(s.vector_backend));
  assert.equal(s.vector_rows, s.sir_count);
  assert.equal(typeof s.index_state, 'string');
  assert.equal(s.embeddings_enabled, true);
  assert.equal(s.embedding_provider, 'ppmi');
  for (const k of ['schema_version', 'generated_at', 'workspace', 'store_present', 'sqlite_path',
    'sir_dir', 'symbol_count', 'sir_count', 'vector_backend', 'vector_rows', 'index_state',
    'embeddings_enabled', 'embedding_provider', 'embedding_model'])
    assert.ok(k in s, `status lacks ${k}`);
});

test('aether_symbol_lookup finds parseConfig in TypeScript and Go', async () => {
  const r = await callOk(client, 'aether_symbol_lookup', { query: 'parseConfig' });
  assert.equal(r.query, 'parseConfig');
  assert.equal(r.limit, 20);
  assert.equal(r.mode_requested, 'lexical');
  assert.equal(r.mode_used, 'lexical');
  assert.equal(r.fallback_reason, null);
  assert.equal(r.result_count, r.matches.length);
  const exact = r.matches.filter((m) => m.qualified_name === 'parseConfig');
  assert.deepEqual(exact.map((m) => m.language).sort(), ['go', 'typescript']);
  for (const m of r.matches) {
    assert.deepEqual(Object.keys(m).sort(),
      ['file_path', 'kind', 'language', 'qualified_name', 'semantic_score', 'symbol_id']);
    assert.match(m.symbol_id, /^[0-9a-f]{64}$/);
    assert.equal(m.semantic_score, null);
  }
  assert.ok(exact.every((m) => m.kind === 'function'));
  const one = await callOk(client, 'aether_symbol_lookup', { query: 'parse', limit: 1 });
  assert.equal(one.result_count, 1);
  // limits outside 1..100 are clamped, as the reference does
  const zero = await callOk(client, 'aether_symbol_lookup', { query: 'parse', limit: 0 });
  assert.equal(zero.limit, 1);
  assert.equal(zero.result_count, 1);
  const big = await callOk(client, 'aether_search', { query: 'e', limit: 5000 });
  assert.equal(big.limit, 100);
  assert.ok(big.result_count <= 100);
  assert.equal((await callOk(client, 'aether_search', { query: 'parse', limit: -3 })).limit, 1);
});

test('aether_search semantic returns scores', async () => {
  const r = await callOk(client, 'aether_search',
    { query: 'parse the configuration file', mode: 'semantic', limit: 5 });
  assert.equal(r.mode_requested, 'semantic');
  assert.equal(r.mode_used, 'semantic');
  assert.equal(r.fallback_reason, null);
  assert.equal(r.matches.length, 5);
  for (let i = 0; i < r.matches.length; i++) {
    const s = r.matches[i].semantic_score;
    assert.equal(typeof s, 'number');
    assert.ok(s >= -1 && s <= 1);
    if (i) assert.ok(s <= r.matches[i - 1].semantic_score, 'scores descend');
  }
  const h = await callOk(client, 'aether_search', { query: 'parseConfig', mode: 'hybrid' });
  assert.equal(h.mode_used, 'hybrid');
  assert.ok(h.matches.length > 0);
  const d = await callOk(client, 'aether_search', { query: 'parseConfig' });
  assert.equal(d.mode_requested, 'lexical');
});

test('aether_search equals aetherd --search --output json', async () => {
  for (const mode of ['lexical', 'semantic', 'hybrid']) {
    for (const query of ['parse', 'parseConfig', 'cache lookup', 'vector dot product', 'Server']) {
      const cli = aetherdSearch(WS, query, mode, 10);
      const mcp = await callOk(client, 'aether_search', { query, mode, limit: 10 });
      assert.equal(mcp.mode_used, cli.mode_used, `${mode} ${query}`);
      assert.equal(mcp.fallback_reason, cli.fallback_reason);
      assert.deepEqual(mcp.matches.map((m) => m.symbol_id), cli.matches.map((m) => m.symbol_id),
        `${mode} "${query}": same ids in the same order`);
      for (let i = 0; i < cli.matches.length; i++) {
        const a = mcp.matches[i], b = cli.matches[i];
        assert.equal(a.qualified_name, b.qualified_name);
        if (b.semantic_score === null) assert.equal(a.semantic_score, null);
        else assert.ok(Math.abs(a.semantic_score - b.semantic_score) < 1e-6);
      }
    }
  }
});

test('aether_get_sir returns the parsed SIR and its canonical JSON', async () => {
  const lookup = await callOk(client, 'aether_symbol_lookup', { query: 'parseConfig' });
  const id = lookup.matches[0].symbol_id;
  const r = await callOk(client, 'aether_get_sir', { symbol_id: id });
  assert.equal(r.symbol_id, id);
  assert.match(r.sir_hash, /^[0-9a-f]{64}$/);
  assert.equal(typeof r.sir.intent, 'string');
  assert.ok(r.sir.intent.length > 0);
  assert.deepEqual(JSON.parse(r.sir_json), r.sir);
  assert.equal(r.found, true);
  assert.equal(r.sir_status, 'fresh');
  assert.equal(r.last_error, null);
  assert.ok(Number.isInteger(r.last_attempt_at) && r.last_attempt_at > 1.7e9, 'unix seconds');
  // the mirror file holds the same canonical JSON
  const mirror = join(WS, '.aether', 'sir', `${id}.json`);
  if (existsSync(mirror)) {
    const { readFileSync } = await import('node:fs');
    assert.deepEqual(JSON.parse(readFileSync(mirror, 'utf8')), r.sir);
  }
  const msg = await callError(client, 'aether_get_sir', { symbol_id: '0'.repeat(64) });
  assert.match(msg, /no SIR for symbol_id '0{64}'/);
});

test('bad arguments are tool errors with a message, and the session goes on', async () => {
  assert.match(await callError(client, 'aether_search', {}), /missing required argument 'query'/);
  assert.match(await callError(client, 'aether_search', { query: 5 }), /'query' must be a string, not an integer/);
  assert.match(await callError(client, 'aether_search', { query: 'x', limit: '3' }), /'limit' must be an integer/);
  assert.match(await callError(client, 'aether_search', { query: 'x', mode: 'fuzzy' }), /'mode' must be/);
  assert.match(await callError(client, 'aether_symbol_lookup', { query: 'x', extra: 1 }), /unknown argument 'extra'/);
  assert.match(await callError(client, 'aether_get_sir', { symbol_id: [] }), /must be a string, not an array/);
  await assert.rejects(client.callTool({ name: 'aether_nope', arguments: {} }),
    (e) => e.code === -32602 && /unknown tool: aether_nope/.test(e.message));
  assert.deepEqual(await client.ping(), {});
});

test('the server does not block a concurrent index run, and sees its result', async () => {
  // The session above is still open on WS; index a changed file meanwhile.
  appendFileSync(join(WS, 'pkg', 'auth.py'),
    '\n\ndef rotate_session_token(token):\n    return token[::-1]\n');
  execFileSync(AETHERD, ['--workspace', WS, '--index-once'], { stdio: 'ignore', timeout: 60_000 * Number(process.env.AE_TEST_TIMEOUT_SCALE || 1) });
  const r = await callOk(client, 'aether_symbol_lookup', { query: 'rotate_session_token' });
  // the exact name first; ranked word matches (session, token) may follow
  assert.ok(r.result_count >= 1);
  assert.equal(r.matches[0].qualified_name, 'rotate_session_token');
  assert.equal(r.matches.filter((m) => m.qualified_name === 'rotate_session_token').length, 1);
  assert.equal(r.matches[0].language, 'python');
  // semantic search sees the new vectors too (no stale snapshot)
  for (const mode of ['semantic', 'hybrid']) {
    const cli = aetherdSearch(WS, 'rotate session token', mode, 20);
    const mcp = await callOk(client, 'aether_search', { query: 'rotate session token', mode, limit: 20 });
    assert.equal(mcp.mode_used, mode);
    assert.deepEqual(mcp.matches.map((m) => m.symbol_id), cli.matches.map((m) => m.symbol_id), mode);
    assert.ok(mcp.matches.some((m) => m.qualified_name.endsWith('rotate_session_token')), mode);
  }
  const s = await callOk(client, 'aether_status', {});
  assert.equal(s.vector_rows, s.sir_count);
});

test('an unindexed workspace is reported, never created, and picked up after indexing', { skip: !EMPTY_WS }, async () => {
  const { client: c2 } = await connect(EMPTY_WS);
  const s = await callOk(c2, 'aether_status', {});
  assert.equal(s.store_present, false);
  assert.equal(s.symbol_count, 0);
  assert.equal(existsSync(join(EMPTY_WS, '.aether')), false, 'read-only server created .aether/');
  const r = await callOk(c2, 'aether_search', { query: 'parseConfig' });
  assert.equal(r.result_count, 0);
  // semantic search without a store falls back to lexical and says why
  for (const mode of ['semantic', 'hybrid']) {
    const f = await callOk(c2, 'aether_search', { query: 'parse the configuration', mode });
    assert.equal(f.mode_requested, mode);
    assert.equal(f.mode_used, 'lexical', mode);
    assert.equal(typeof f.fallback_reason, 'string', mode);
    assert.ok(f.fallback_reason.length > 0);
    assert.equal(f.result_count, 0);
  }
  for (const tool of ['aether_symbol_timeline', 'aether_why_changed'])
    assert.equal((await callOk(c2, tool, { symbol_id: 'a'.repeat(64) })).found, false, tool);
  assert.equal((await callOk(c2, 'aether_explain', { file_path: 'pkg/auth.py', line: 9, column: 1 })).found, false);
  execFileSync(AETHERD, ['--workspace', EMPTY_WS, '--index-once'], { stdio: 'ignore', timeout: 60_000 * Number(process.env.AE_TEST_TIMEOUT_SCALE || 1) });
  const s2 = await callOk(c2, 'aether_status', {});
  assert.equal(s2.store_present, true);
  assert.ok(s2.symbol_count >= 10);
  const r2 = await callOk(c2, 'aether_symbol_lookup', { query: 'parseConfig' });
  assert.ok(r2.result_count >= 2);
});
