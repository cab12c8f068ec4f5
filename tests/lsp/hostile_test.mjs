// aetherd --lsp against a hostile client writing raw bytes: malformed headers, bad lengths, bad
// JSON, junk between messages, a huge Content-Length, oversized bodies, byte-by-byte delivery,
// non-request JSON.  Every case is followed by a valid request that must still be answered,
// and memory must stay bounded while gigabytes are announced.
//
//   AE_BUILD_DIR=build AE_LSP_WS=/tmp/ws node tests/lsp/hostile_test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AETHERD, WS, SCALE } from './lib.mjs';

// A client that writes bytes and parses the server's frames itself.
const raws = [];
after(() => { for (const r of raws) if (r.child.exitCode === null) r.child.kill('SIGKILL'); });

class Raw {
  constructor() {
    this.child = spawn(AETHERD, ['--workspace', WS, '--lsp'], { stdio: ['pipe', 'pipe', 'pipe'] });
    raws.push(this);
    this.buf = Buffer.alloc(0);
    this.queue = [];
    this.waiters = [];
    this.stderr = '';
    this.child.stderr.on('data', (d) => { this.stderr += d; });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise((r) => this.child.on('exit', (c, s) => r(s ? `signal ${s}` : c)));
    this.child.stdout.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (;;) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) break;
        const m = /Content-Length: (\d+)/.exec(this.buf.subarray(0, end).toString());
        assert.ok(m, `server header: ${this.buf.subarray(0, end)}`);
        const n = Number(m[1]);
        if (this.buf.length < end + 4 + n) break;
        const msg = JSON.parse(this.buf.subarray(end + 4, end + 4 + n).toString());
        this.buf = this.buf.subarray(end + 4 + n);
        const w = this.waiters.shift();
        if (w) w(msg); else this.queue.push(msg);
      }
    });
  }
  write(data) { return new Promise((r) => this.child.stdin.write(data, r)); }
  frame(obj) {
    const body = Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj));
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
  }
  send(obj) { return this.write(this.frame(obj)); }
  next(ms = 20000 * SCALE) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no message in ${ms} ms; stderr: ${this.stderr}`)), ms);
      this.waiters.push((m) => { clearTimeout(t); resolve(m); });
    });
  }
  async request(id, method, params) {
    await this.send({ jsonrpc: '2.0', id, method, params });
    return this.next();
  }
  rss() {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return Number(m[1]) * 1024;
  }
  async close() {
    this.child.stdin.end();
    return this.exited;
  }
}

async function expectParseError(raw, re) {
  const m = await raw.next();
  assert.equal(m.id, null, JSON.stringify(m));
  assert.equal(m.error.code, -32700, JSON.stringify(m));
  if (re) assert.match(m.error.message, re);
}

async function alive(raw, id) {
  const m = await raw.request(id, 'workspace/symbol', { query: 'helper' });
  assert.equal(m.id, id, JSON.stringify(m));
  assert.ok(Array.isArray(m.result), JSON.stringify(m));
}

test('requests before initialize are refused; notifications before it are dropped', async () => {
  const raw = new Raw();
  const m = await raw.request(1, 'textDocument/hover', { textDocument: { uri: 'file:///x' }, position: { line: 0, character: 0 } });
  assert.equal(m.error.code, -32002);
  await raw.send({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { textDocument: { uri: 'file:///x.py', text: 'x' } } });
  const i = await raw.request(2, 'initialize', { capabilities: {} });
  assert.equal(i.id, 2);
  assert.ok(i.result.capabilities.hoverProvider);
  assert.equal(await raw.close(), 1);
});

test('malformed frames: ParseError, then the next message is served', async () => {
  const raw = new Raw();
  await raw.request(0, 'initialize', { capabilities: {} });
  let id = 1;
  // bad JSON
  await raw.write(raw.frame('{"jsonrpc": "2.0", "id": 7, "method": '));
  await expectParseError(raw, /parse error/);
  await alive(raw, id++);
  // no Content-Length; a length that is not a number; a negative one
  for (const h of ['Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n',
    'Content-Length: abc\r\n\r\n', 'Content-Length: -5\r\n\r\n', 'Content-Length: 1e3\r\n\r\n']) {
    await raw.write(h);
    await expectParseError(raw, /Content-Length/);
    await alive(raw, id++);
  }
  // junk before a header: reported, and the header after it is used
  await raw.write(Buffer.concat([Buffer.from('}}garbage'), raw.frame({ jsonrpc: '2.0', id: 900, method: 'workspace/symbol', params: { query: 'helper' } })]));
  await expectParseError(raw, /not a header/);
  assert.equal((await raw.next()).id, 900);
  // a header block that never ends within 8 KiB
  await raw.write('X-Pad: ' + 'a'.repeat(20000) + '\r\n\r\n');
  await expectParseError(raw, /header block longer/);
  await alive(raw, id++);
  // "\n\n" header terminators, lower-case names, extra headers
  const body = JSON.stringify({ jsonrpc: '2.0', id: 901, method: 'workspace/symbol', params: { query: 'helper' } });
  await raw.write(`content-length: ${Buffer.byteLength(body)}\nX-Other: 1\n\n${body}`);
  assert.equal((await raw.next()).id, 901);
  // one byte at a time
  const f = raw.frame({ jsonrpc: '2.0', id: 902, method: 'workspace/symbol', params: { query: 'helper' } });
  for (const b of f) await raw.write(Buffer.from([b]));
  assert.equal((await raw.next()).id, 902);
  // two messages in one write
  await raw.write(Buffer.concat([raw.frame({ jsonrpc: '2.0', id: 903, method: 'workspace/symbol', params: { query: 'x' } }),
    raw.frame({ jsonrpc: '2.0', id: 904, method: 'workspace/symbol', params: { query: 'y' } })]));
  assert.equal((await raw.next()).id, 903);
  assert.equal((await raw.next()).id, 904);
  assert.equal(await raw.close(), 1);
  assert.doesNotMatch(raw.stderr, /Sanitizer|runtime error/);
});

test('JSON that is not a request: InvalidRequest; responses from the client: ignored', async () => {
  const raw = new Raw();
  await raw.request(0, 'initialize', { capabilities: {} });
  for (const [body, re] of [['[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]', /JSON object, not an array/],
    ['5', /not an integer/], ['"x"', /not a string/],
    ['{"jsonrpc":"1.0","id":3,"method":"shutdown"}', /jsonrpc must be "2.0"/],
    ['{"jsonrpc":"2.0","id":{"a":1},"method":"shutdown"}', /id must be a string or an integer, not an object/],
    ['{"jsonrpc":"2.0","id":4,"method":17}', /method must be a string/]]) {
    await raw.write(raw.frame(body));
    const m = await raw.next();
    assert.equal(m.error.code, -32600, body);
    assert.match(m.error.message, re, body);
  }
  await raw.send({ jsonrpc: '2.0', id: 77, result: { ok: true } }); // a response: nothing back
  await raw.send({ jsonrpc: '2.0', method: '$/cancelRequest', params: { id: 1 } });
  await alive(raw, 5);
  const m = await raw.request('str-id', 'workspace/symbol', { query: 'helper' });
  assert.equal(m.id, 'str-id');
  assert.equal(await raw.close(), 1);
});

test('a huge Content-Length is refused and its bytes dropped without holding them', async () => {
  const raw = new Raw();
  await raw.request(0, 'initialize', { capabilities: {} });
  await raw.write('Content-Length: 99999999999999\r\n\r\n');
  await expectParseError(raw, /over the limit/);
  const before = raw.rss();
  const chunk = Buffer.alloc(1 << 20, 0x78);
  for (let i = 0; i < 256; i++) await raw.write(chunk); // 256 MiB of a body nobody keeps
  const grown = raw.rss() - before;
  console.log(`RSS before ${before} bytes, after 256 MiB dropped: +${grown} bytes`);
  assert.ok(grown < 32 << 20, `RSS grew by ${grown} bytes while 256 MiB were dropped`);
  assert.equal(await raw.close(), 1, raw.stderr);
});

test('a body over the 64 MiB limit is dropped, the next message served', async () => {
  const raw = new Raw();
  await raw.request(0, 'initialize', { capabilities: {} });
  const n = (64 << 20) + 1;
  await raw.write(`Content-Length: ${n}\r\n\r\n`);
  await expectParseError(raw, /over the limit of 67108864 bytes/);
  const chunk = Buffer.alloc(1 << 20, 0x20);
  for (let left = n; left > 0; left -= chunk.length) await raw.write(left >= chunk.length ? chunk : chunk.subarray(0, left));
  await alive(raw, 1);
  assert.equal(await raw.close(), 1);
});

test('a message cut off by EOF: exit status 1, no crash', async () => {
  const raw = new Raw();
  await raw.request(0, 'initialize', { capabilities: {} });
  await raw.write('Content-Length: 500\r\n\r\n{"jsonrpc":"2.0"');
  assert.equal(await raw.close(), 1);
  assert.doesNotMatch(raw.stderr, /Sanitizer|runtime error/);
});

test('shutdown then exit: status 0, even with junk before exit', async () => {
  const raw = new Raw();
  await raw.request(0, 'initialize', { capabilities: {} });
  assert.equal((await raw.request(1, 'shutdown')).result, null);
  await raw.write('Content-Length: zz\r\n\r\n');
  await expectParseError(raw);
  await raw.send({ jsonrpc: '2.0', method: 'exit' });
  assert.equal(await raw.exited, 0);
});
