// Hover latency of aetherd --lsp, by where the text comes from (docs/BENCHMARKS.md "LSP hover"):
//   disk     the file is not open: read from disk and extracted (one ctags run) per hover
//   cached   the file is open and unchanged: its symbols are cached, no ctags run
//   changed  a didChange before every hover: one ctags run over the buffer per hover
// Usage: node bench/lsp/hover_bench.mjs AETHERD WORKSPACE FILE LINE [N]
// WORKSPACE must be indexed; FILE is workspace-relative; LINE 0-based inside a symbol.
// Prints the median and p90 per case in ms (wall time: noisy on a loaded machine; compare
// the cases of one run with each other, not runs across machines).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [aetherd, ws, file, lineArg, nArg] = process.argv.slice(2);
const line = Number(lineArg), N = Number(nArg || 50);
const child = spawn(aetherd, ['--workspace', ws, '--lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
let buf = Buffer.alloc(0);
const waiting = new Map();
child.stdout.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const n = Number(/Content-Length: (\d+)/.exec(buf.subarray(0, end).toString())[1]);
    if (buf.length < end + 4 + n) return;
    const m = JSON.parse(buf.subarray(end + 4, end + 4 + n).toString());
    buf = buf.subarray(end + 4 + n);
    if (m.id !== undefined && waiting.has(m.id)) { waiting.get(m.id)(m); waiting.delete(m.id); }
  }
});
const send = (o) => { const b = Buffer.from(JSON.stringify(o)); child.stdin.write(`Content-Length: ${b.length}\r\n\r\n`); child.stdin.write(b); };
let nextId = 1;
const request = (method, params) => new Promise((r) => { const id = nextId++; waiting.set(id, r); send({ jsonrpc: '2.0', id, method, params }); });
const notify = (method, params) => send({ jsonrpc: '2.0', method, params });

const uri = pathToFileURL(join(ws, file)).href;
const text = readFileSync(join(ws, file), 'utf8');
const hover = () => request('textDocument/hover', { textDocument: { uri }, position: { line, character: 4 } });
async function time(before) {
  const ms = [];
  for (let i = 0; i < N; i++) {
    if (before) before(i);
    const t = process.hrtime.bigint();
    const r = await hover();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (!r.result) throw new Error(`no hover at ${file}:${line}`);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(N / 2)], p90: ms[Math.floor(N * 0.9)] };
}

await request('initialize', { capabilities: {} });
notify('initialized', {});
const out = {};
out.disk = await time();
notify('textDocument/didOpen', { textDocument: { uri, languageId: 'x', version: 1, text } });
out.cached = await time();
out.changed = await time((i) => notify('textDocument/didChange', {
  textDocument: { uri, version: i + 2 }, contentChanges: [{ text: text + '\n'.repeat(i % 2) }],
}));
await request('shutdown');
notify('exit');
for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(8)} median ${v.median.toFixed(2)} ms  p90 ${v.p90.toFixed(2)} ms  (n=${N})`);
