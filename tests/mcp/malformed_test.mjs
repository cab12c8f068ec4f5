// Raw stdio against aether-mcp: bad lines get JSON-RPC errors (or tool errors)
// with a message, the server keeps serving after each, notifications get no
// answer, stdout carries nothing but JSON-RPC lines, and EOF ends it cleanly.
//
//   AE_BUILD_DIR=build AE_MCP_WS=/tmp/ws node tests/mcp/malformed_test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BUILD = process.env.AE_BUILD_DIR;
const WS = process.env.AE_MCP_WS;
assert.ok(BUILD && WS, 'set AE_BUILD_DIR and AE_MCP_WS');
const SERVER = join(BUILD, 'aether-mcp');

// One server process; send() writes raw bytes, next() resolves with the next
// response line parsed (and fails on anything on stdout that is not JSON).
function startServer(args = ['--workspace', WS]) {
  const proc = spawn(SERVER, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let stderr = '';
  const lines = [];
  const waiters = [];
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (waiters.length) waiters.shift()(line);
      else lines.push(line);
    }
  });
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    exited,
    stderr: () => stderr,
    pending: () => lines.length + (buf.length ? 1 : 0),
    send: (text) => proc.stdin.write(text),
    next(timeoutMs = 10_000 * Number(process.env.AE_TEST_TIMEOUT_SCALE || 1)) {
      const p = lines.length
        ? Promise.resolve(lines.shift())
        : new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
          waiters.push((l) => { clearTimeout(t); resolve(l); });
        });
      return p.then((line) => {
        let msg;
        try { msg = JSON.parse(line); } catch { assert.fail(`stdout line is not JSON: ${line.slice(0, 200)}`); }
        assert.equal(msg.jsonrpc, '2.0');
        return msg;
      });
    },
  };
}

const req = (id, method, params) => JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }) + '\n';

async function expectError(s, code, re, id = null) {
  const m = await s.next();
  assert.ok(m.error, `expected error ${code}, got ${JSON.stringify(m)}`);
  assert.equal(m.error.code, code, m.error.message);
  assert.match(m.error.message, re);
  assert.equal(m.id, id);
  assert.equal(m.result, undefined);
}

async function expectPing(s, id) {
  s.send(req(id, 'ping'));
  const m = await s.next();
  assert.deepEqual(m, { jsonrpc: '2.0', id, result: {} });
}

test('malformed input never stops the server', async () => {
  const s = startServer();
  s.send(req(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } }));
  const init = await s.next();
  assert.equal(init.id, 1);
  assert.equal(init.result.protocolVersion, '2025-06-18');
  s.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) + '\n');

  // malformed JSON
  for (const bad of ['{', 'not json at all', '{"jsonrpc":"2.0","id":2,"method":"ping"', '\u0000\u0001', '{"a":}']) {
    s.send(bad + '\n');
    await expectError(s, -32700, /^parse error at column \d+: /);
  }
  // invalid UTF-8
  s.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]));
  await expectError(s, -32700, /parse error/);
  await expectPing(s, 3);

  // invalid requests
  s.send('[' + req(4, 'ping').trim() + ']\n');
  await expectError(s, -32600, /batch requests are not supported/);
  s.send('"ping"\n');
  await expectError(s, -32600, /must be a JSON object, not a string/);
  s.send(JSON.stringify({ jsonrpc: '1.0', id: 5, method: 'ping' }) + '\n');
  await expectError(s, -32600, /jsonrpc must be "2.0"/, 5);
  s.send(JSON.stringify({ jsonrpc: '2.0', id: true, method: 'ping' }) + '\n');
  await expectError(s, -32600, /id must be a string or an integer, not a boolean/);
  s.send(JSON.stringify({ jsonrpc: '2.0', id: 6 }) + '\n');
  await expectError(s, -32600, /method is missing/, 6);

  // unknown method, bad params
  s.send(req(7, 'resources/read', { uri: 'x' }));
  await expectError(s, -32601, /method not found: resources\/read/, 7);
  s.send(JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/list', params: 'all' }) + '\n');
  await expectError(s, -32602, /params must be an object, not a string/, 8);
  s.send(req(9, 'tools/call', { name: 'aether_search', arguments: [1, 2] }));
  await expectError(s, -32602, /arguments must be an object, not an array/, 9);
  s.send(req(10, 'tools/call', { arguments: {} }));
  await expectError(s, -32602, /params.name must be a string/, 10);
  s.send(req(11, 'tools/call', { name: 'drop_tables', arguments: {} }));
  await expectError(s, -32602, /unknown tool: drop_tables/, 11);

  // wrong or missing tool arguments: tool errors, not protocol errors
  const toolErr = async (id, name, args, re) => {
    s.send(req(id, 'tools/call', { name, arguments: args }));
    const m = await s.next();
    assert.equal(m.id, id);
    assert.equal(m.result.isError, true, JSON.stringify(m));
    assert.match(m.result.content[0].text, re);
  };
  await toolErr(12, 'aether_search', { query: { text: 'x' } }, /'query' must be a string, not an object/);
  await toolErr(13, 'aether_search', {}, /missing required argument 'query'/);
  await toolErr(14, 'aether_search', { query: 'x', limit: 0.5 }, /'limit' must be an integer from 1 to 100, not a number/);
  await toolErr(24, 'aether_explain', { file_path: 'a', line: 0, column: 1 }, /argument 'line' must be 1 or more/);
  await toolErr(25, 'aether_why_changed', { symbol_id: 'a', from_version: 1, to_version: 2, from_created_at: 1, to_created_at: 2 }, /not both/);
  await toolErr(15, 'aether_symbol_lookup', { query: 'x', mode: 'semantic' }, /unknown argument 'mode'/);
  await toolErr(16, 'aether_get_sir', { symbol_id: null }, /must be a string, not null/);
  await toolErr(17, 'aether_get_sir', { symbol_id: 'nope' }, /no SIR for symbol_id 'nope'/);

  // notifications and client responses get no answer: the next line is the ping's
  s.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3 } }) + '\n');
  s.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/whatever' }) + '\n');
  s.send(JSON.stringify({ jsonrpc: '2.0', id: 99, result: {} }) + '\n');
  s.send('\n\r\n');
  await expectPing(s, 'after-notifications');

  // oversized request (over 4 MiB): error, discarded, still serving
  const big = JSON.stringify({ jsonrpc: '2.0', id: 18, method: 'tools/call',
    params: { name: 'aether_search', arguments: { query: 'x'.repeat(5 << 20) } } }) + '\n';
  s.send(big);
  await expectError(s, -32600, /exceeds the 4194304-byte line limit/);
  await expectPing(s, 19);
  // a large request under the limit is served (a 1 MiB query is more than
  // the lexical search takes, which is a tool error; 30 KiB is fine)
  s.send(req(20, 'tools/call', { name: 'aether_search', arguments: { query: 'y'.repeat(1 << 20) } }));
  let m = await s.next();
  assert.equal(m.id, 20);
  assert.equal(m.result.isError, true);
  assert.match(m.result.content[0].text, /^aether_search: /);
  s.send(req(41, 'tools/call', { name: 'aether_search', arguments: { query: 'y'.repeat(30_000) } }));
  m = await s.next();
  assert.equal(m.id, 41);
  assert.equal(m.result.isError, false);
  assert.equal(m.result.structuredContent.result_count, 0);

  // pipelined requests are answered in order
  s.send(req(21, 'ping') + req(22, 'tools/list') + req(23, 'ping'));
  assert.equal((await s.next()).id, 21);
  assert.equal((await s.next()).result.tools.length, 8);
  assert.equal((await s.next()).id, 23);

  // EOF: clean exit, nothing left unsaid, no crash report
  s.proc.stdin.end();
  const { code, signal } = await s.exited;
  assert.equal(signal, null);
  assert.equal(code, 0, s.stderr());
  assert.equal(s.pending(), 0);
  assert.doesNotMatch(s.stderr(), /Sanitizer|runtime error/);
});

test('a request cut off by EOF is still answered', async () => {
  const s = startServer();
  s.send(req(1, 'ping').trim());
  s.proc.stdin.end();
  assert.deepEqual(await s.next(), { jsonrpc: '2.0', id: 1, result: {} });
  assert.equal((await s.exited).code, 0);
});

test('command line: --help, --version, bad flags, missing workspace', async () => {
  const run = async (args) => {
    const s = startServer(args);
    s.proc.stdin.end();
    let out = '';
    s.proc.stdout.removeAllListeners('data');
    s.proc.stdout.on('data', (d) => (out += d));
    const { code } = await s.exited;
    return { code, out, err: s.stderr() };
  };
  let r = await run(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /usage: aether-mcp \[--workspace DIR\]/);
  r = await run(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^aether-mcp \S+\n$/);
  r = await run(['--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown argument '--bogus'/);
  assert.equal(r.out, '');
  r = await run(['--workspace']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--workspace needs a directory/);
  r = await run(['--workspace', join(WS, 'does-not-exist')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /does-not-exist: No such file or directory/);
  assert.equal(r.out, '');
});

test('a bad config.toml is reported by every tool call until it is fixed', async () => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'aether-mcp-badcfg-'));
  try {
    mkdirSync(join(dir, '.aether'));
    const cfg = join(dir, '.aether', 'config.toml');
    writeFileSync(cfg, '[embeddings]\nvector_backend = "nope"\n');
    const s = startServer(['--workspace', dir]);
    s.send(req(1, 'tools/call', { name: 'aether_status', arguments: {} }));
    let m = await s.next();
    assert.equal(m.result.isError, true, JSON.stringify(m));
    assert.match(m.result.content[0].text, /^aether_status: .*config\.toml:2/);
    s.send(req(2, 'tools/call', { name: 'aether_search', arguments: { query: 'x' } }));
    m = await s.next();
    assert.equal(m.result.isError, true);
    assert.match(m.result.content[0].text, /vector_backend/);
    writeFileSync(cfg, '[embeddings]\nvector_backend = "sqlite"\n');
    s.send(req(3, 'tools/call', { name: 'aether_status', arguments: {} }));
    m = await s.next();
    assert.equal(m.result.isError, false, JSON.stringify(m));
    assert.equal(m.result.structuredContent.vector_backend, 'sqlite');
    assert.equal(m.result.structuredContent.store_present, false);
    s.proc.stdin.end();
    assert.equal((await s.exited).code, 0);
    assert.match(s.stderr(), /config\.toml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
