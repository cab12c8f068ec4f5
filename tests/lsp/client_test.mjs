// aetherd --lsp through the npm vscode-languageserver-protocol client (vscode-jsonrpc streams):
// the lifecycle, hover against the reference's Markdown (fresh, second version, stale, stale
// without a SIR, no SIR, the smallest span), unsaved edits (full and ranged didChange),
// UTF-16 columns on non-ASCII lines, percent-encoded URIs, documents outside the workspace,
// documentSymbol (both shapes), workspace/symbol, bad parameters, exit codes, --lsp --index.
//
//   AE_BUILD_DIR=build AE_LSP_WS=/tmp/ws AE_LSP_INDEX_WS=/tmp/ws2 node tests/lsp/client_test.mjs
//
// tests/cli/test_lsp.sh prepares both workspaces.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  WS, INDEX_WS, SCALE, uriOf, startServer, initialized, stop, expectedHover, NO_SIR, lineOf, rows,
  killAll,
} from './lib.mjs';

const HIER = { textDocument: { documentSymbol: { hierarchicalDocumentSymbolSupport: true } } };
const server = startServer();
const init = await initialized(server, HIER);
after(killAll);

const read = (rel) => readFileSync(join(WS, rel), 'utf8');
const hover = (uri, line, character) =>
  server.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line, character } });
const SHAPES = uriOf('pkg/shapes.py');

test('initialize: the capabilities and the server', () => {
  assert.deepEqual(init.capabilities, {
    positionEncoding: 'utf-16',
    textDocumentSync: { openClose: true, change: 1 },
    hoverProvider: true, documentSymbolProvider: true, workspaceSymbolProvider: true,
  });
  assert.equal(init.serverInfo.name, 'aetherd');
});

test('hover: fresh SIR, the reference Markdown, the range of the symbol', async () => {
  const text = read('pkg/shapes.py');
  const line = lineOf(text, 'class Outer');
  const h = await hover(SHAPES, line, 2);
  assert.equal(h.contents.kind, 'markdown');
  assert.equal(h.contents.value, expectedHover('Outer'));
  assert.ok(h.contents.value.includes('> AETHER WHY: only one recorded SIR version.'));
  const last = lineOf(text, 'return 1 + 0');
  assert.deepEqual(h.range, { start: { line, character: 0 }, end: { line: last, character: text.split('\n')[last].length } });
});

test('hover: a position inside a nested symbol gets the smallest span', async () => {
  const text = read('pkg/shapes.py');
  const h = await hover(SHAPES, lineOf(text, 'return x * 2'), 9);
  assert.equal(h.contents.value, expectedHover('Outer::inner'));
  assert.ok(h.contents.value.startsWith('### Outer::inner\n'));
  // the class's own line between its methods is the class
  const between = await hover(SHAPES, lineOf(text, '"""Holds a value'), 4);
  assert.ok(between.contents.value.startsWith('### Outer\n'));
});

test('hover: a second SIR version names what changed', async () => {
  const h = await hover(SHAPES, lineOf(read('pkg/shapes.py'), 'total += v'), 4);
  assert.equal(h.contents.value, expectedHover('helper'));
  assert.ok(h.contents.value.endsWith('> AETHER WHY: latest v1 -> v2; added: none; removed: none; modified: intent.'),
    h.contents.value);
});

test('hover: a stale SIR keeps the previous summary under the warning', async () => {
  const h = await hover(SHAPES, lineOf(read('pkg/shapes.py'), 'return 1 + 0'), 8);
  assert.equal(h.contents.value, expectedHover('Outer::other_zz'));
  assert.match(h.contents.value, /\n\n> AETHER WARNING: SIR is stale\. Last error: .*model crashed on Outer::other_zz/);
  assert.match(h.contents.value, /\*\*Intent\*\*\nStub summary of Outer::other_zz\n/);
});

test('hover: stale without any SIR, and no SIR at all', async () => {
  const doomed = await hover(uriOf('pkg/doomed.py'), 1, 4);
  assert.equal(doomed.contents.value, expectedHover('doomed_zz'));
  assert.match(doomed.contents.value, /^AETHER WARNING: SIR is stale\. Last error: .*\n\nAETHER: No SIR yet/);
  const late = await hover(uriOf('pkg/late.py'), 0, 5); // written after the last index run
  assert.equal(late.contents.value, NO_SIR);
  assert.equal(rows("SELECT id FROM symbols WHERE qualified_name = 'late_fn'").length, 0);
});

test('hover: nothing at a blank line, a position past the end, a non-symbol file', async () => {
  const text = read('pkg/shapes.py');
  assert.equal(await hover(SHAPES, lineOf(text, 'class Outer') - 1, 0), null);
  assert.equal(await hover(SHAPES, 5000, 0), null);
  assert.equal(await hover(uriOf('README.none'), 0, 0), null);
});

test('didChange: hover follows the unsaved buffer (full and ranged changes), didClose reverts', async () => {
  const orig = read('pkg/shapes.py');
  server.conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri: SHAPES, languageId: 'python', version: 1, text: orig },
  });
  const edited = '\n\n\ndef fresh_fn(y):\n    return y\n' + orig;
  server.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: SHAPES, version: 2 }, contentChanges: [{ text: edited }],
  });
  const h = await hover(SHAPES, lineOf(edited, 'total += v'), 4); // 5 lines further down now
  assert.equal(h.contents.value, expectedHover('helper'));
  assert.equal(h.range.start.line, lineOf(edited, 'def helper'));
  const fresh = await hover(SHAPES, lineOf(edited, 'return y'), 4);
  assert.equal(fresh.contents.value, NO_SIR);
  assert.notEqual(read('pkg/shapes.py'), edited, 'the file on disk is untouched');

  // a ranged change: rename helper -> helper2 in place (its id changes: no SIR)
  const l = lineOf(edited, 'def helper');
  server.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri: SHAPES, version: 3 },
    contentChanges: [{ range: { start: { line: l, character: 10 }, end: { line: l, character: 10 } }, text: '2' }],
  });
  const renamed = await hover(SHAPES, l + 1, 4);
  assert.equal(renamed.contents.value, NO_SIR);
  const syms = await server.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: SHAPES } });
  assert.deepEqual(syms.map((s) => s.name), ['fresh_fn', 'Outer', 'helper2']);

  server.conn.sendNotification('textDocument/didClose', { textDocument: { uri: SHAPES } });
  const back = await hover(SHAPES, lineOf(orig, 'total += v'), 4);
  assert.equal(back.contents.value, expectedHover('helper'));
});

test('UTF-16 columns: non-ASCII lines, surrogate pairs, clamping', async () => {
  const uri = uriOf('web/uni.js');
  const text = read('web/uni.js');
  const lines = text.split('\n');
  const l = lineOf(text, 'afterEmoji');
  // inside the surrogate pair of the emoji, and far past the end of the line
  for (const ch of [4, lines[l].length + 100]) {
    const h = await hover(uri, l, ch);
    assert.equal(h.contents.value, expectedHover('afterEmoji'), `character ${ch}`);
    assert.deepEqual(h.range.end, { line: l, character: lines[l].length });
  }
  const syms = await server.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
  const after = syms.find((s) => s.name === 'afterEmoji');
  assert.deepEqual(after.selectionRange, {
    start: { line: l, character: lines[l].indexOf('afterEmoji') },
    end: { line: l, character: lines[l].indexOf('afterEmoji') + 'afterEmoji'.length },
  });
  assert.deepEqual(after.range.end, { line: l, character: lines[l].length });
  const wide = syms.find((s) => s.name === 'wide');
  const wl = lineOf(text, 'return s + b');
  assert.equal(wide.range.end.line, lines.indexOf('}'));
  // an unsaved edit that puts astral characters before the name on its line: the selection
  // range counts UTF-16 units; the declaration text changed, so (as for the indexer) the
  // symbol has a new id and no SIR yet
  server.conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'javascript', version: 1, text: text.replace('function wide', '/*𝄞ü*/ function wide') },
  });
  const syms2 = await server.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
  const w2 = syms2.find((s) => s.name === 'wide');
  assert.equal(w2.selectionRange.start.character, '/*𝄞ü*/ function '.length);
  assert.equal((await hover(uri, wl, 3)).contents.value, NO_SIR);
  // an edit inside the body with astral characters keeps the id: the stored SIR, on the
  // buffer's lines
  const body = text.replace('  return s + b;', '  const t = "😀😀";\n  return s + b + t;');
  server.conn.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 }, contentChanges: [{ text: body }],
  });
  const blines = body.split('\n');
  const rl = lineOf(body, 'return s + b + t');
  const hw = await hover(uri, rl, 30);
  assert.equal(hw.contents.value, expectedHover('wide'));
  assert.deepEqual(hw.range, { start: { line: lineOf(body, 'function wide'), character: 0 },
    end: { line: blines.indexOf('}'), character: 1 } });
  server.conn.sendNotification('textDocument/didClose', { textDocument: { uri } });
});

test('URIs: percent-encoded paths, localhost, outside the workspace, other schemes', async () => {
  const rel = 'dir with space/ünï.py';
  const uri = pathToFileURL(join(WS, rel)).href;
  assert.ok(uri.includes('%20') && uri.includes('%C3%BC'), uri);
  const h = await hover(uri, 2, 4);
  assert.equal(h.contents.value, expectedHover('spaced'));
  const h2 = await hover(uri.replace('file:///', 'file://localhost/'), 2, 4);
  assert.equal(h2.contents.value, h.contents.value);
  // a document outside the workspace: opened and edited fine, every answer null
  const out = 'file:///tmp/aether-lsp-outside/x.py';
  server.conn.sendNotification('textDocument/didOpen', {
    textDocument: { uri: out, languageId: 'python', version: 1, text: 'def x():\n    pass\n' },
  });
  assert.equal(await hover(out, 0, 4), null);
  assert.equal(await server.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: out } }), null);
  server.conn.sendNotification('textDocument/didClose', { textDocument: { uri: out } });
  assert.equal(await hover('untitled:Untitled-1', 0, 0), null);
  assert.equal(await hover(`file://${WS}/../outside.py`, 0, 0), null);
});

test('documentSymbol: the outline as a tree', async () => {
  const text = read('pkg/shapes.py');
  const syms = await server.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: SHAPES } });
  const shape = (s) => ({ name: s.name, detail: s.detail, kind: s.kind, line: s.range.start.line, children: s.children.map(shape) });
  assert.deepEqual(syms.map(shape), [
    { name: 'Outer', detail: 'Outer', kind: 5, line: lineOf(text, 'class Outer'), children: [
      { name: 'inner', detail: 'Outer::inner', kind: 6, line: lineOf(text, 'def inner'), children: [] },
      { name: 'other_zz', detail: 'Outer::other_zz', kind: 6, line: lineOf(text, 'def other_zz'), children: [] },
    ] },
    { name: 'helper', detail: 'helper', kind: 12, line: lineOf(text, 'def helper'), children: [] },
  ]);
  for (const s of [syms[0], ...syms[0].children]) {
    const r = s.range, sel = s.selectionRange;
    assert.ok(sel.start.line >= r.start.line && sel.end.line <= r.end.line, 'selectionRange inside range');
  }
});

test('documentSymbol: SymbolInformation for a client without hierarchy support', async () => {
  const s2 = startServer();
  await initialized(s2, {});
  const syms = await s2.conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: SHAPES } });
  assert.deepEqual(syms.map((s) => [s.name, s.kind, s.containerName, s.location.uri]), [
    ['Outer', 5, undefined, SHAPES], ['inner', 6, 'Outer', SHAPES],
    ['other_zz', 6, 'Outer', SHAPES], ['helper', 12, undefined, SHAPES],
  ]);
  assert.equal(await stop(s2), 0);
});

test('workspace/symbol: lexical search with locations', async () => {
  const text = read('pkg/shapes.py');
  const r = await server.conn.sendRequest('workspace/symbol', { query: 'helper' });
  const h = r.find((s) => s.name === 'helper');
  assert.ok(h, JSON.stringify(r));
  assert.equal(h.kind, 12);
  assert.equal(h.location.uri, SHAPES);
  assert.equal(h.location.range.start.line, lineOf(text, 'def helper'));
  const inner = (await server.conn.sendRequest('workspace/symbol', { query: 'inner' })).find((s) => s.name === 'inner');
  assert.equal(inner.containerName, 'Outer');
  assert.equal(inner.kind, 6);
  const spaced = (await server.conn.sendRequest('workspace/symbol', { query: 'spaced' })).find((s) => s.name === 'spaced');
  assert.equal(spaced.location.uri, uriOf('dir with space/ünï.py'));
  assert.deepEqual(await server.conn.sendRequest('workspace/symbol', { query: '' }), []);
  assert.deepEqual(await server.conn.sendRequest('workspace/symbol', { query: 'zzqqxxnothing' }), []);
});

test('bad parameters: InvalidParams naming the field; unknown methods: MethodNotFound', async () => {
  const cases = [
    [{ textDocument: { uri: SHAPES }, position: { line: '3', character: 0 } }, /params\.position\.line must be an integer.*not a string/],
    [{ textDocument: { uri: SHAPES }, position: { line: -1, character: 0 } }, /params\.position\.line must be an integer/],
    [{ textDocument: { uri: 5 }, position: { line: 0, character: 0 } }, /params\.textDocument\.uri must be a string, not an integer/],
    [{ position: { line: 0, character: 0 } }, /params\.textDocument must be an object, not missing/],
    [{ textDocument: { uri: SHAPES } }, /params\.position must be an object/],
    [[1, 2], /params must be an object, not an array/],
  ];
  for (const [params, re] of cases) {
    await assert.rejects(server.conn.sendRequest('textDocument/hover', params),
      (e) => e.code === -32602 && re.test(e.message), JSON.stringify(params));
  }
  await assert.rejects(server.conn.sendRequest('workspace/symbol', { query: 5 }), (e) => e.code === -32602 && /query must be a string/.test(e.message));
  await assert.rejects(server.conn.sendRequest('textDocument/definition', { textDocument: { uri: SHAPES }, position: { line: 0, character: 0 } }),
    (e) => e.code === -32601 && /textDocument\/definition/.test(e.message));
  await assert.rejects(server.conn.sendRequest('initialize', { capabilities: {} }), (e) => e.code === -32600);
  // a malformed notification is dropped with a log message, and the server goes on
  server.conn.sendNotification('textDocument/didOpen', { textDocument: { uri: SHAPES, text: 7 } });
  server.conn.sendNotification('$/unknownNotification', { x: 1 });
  const h = await hover(SHAPES, lineOf(read('pkg/shapes.py'), 'total += v'), 4);
  assert.equal(h.contents.value, expectedHover('helper'));
  assert.ok(server.logs.some((m) => m.type === 2 && /didOpen: params\.textDocument\.text must be a string, not an integer: ignored/.test(m.message)),
    JSON.stringify(server.logs));
});

test('lifecycle: before initialize, after shutdown, exit codes', async () => {
  const s = startServer();
  await assert.rejects(s.conn.sendRequest('textDocument/hover', { textDocument: { uri: SHAPES }, position: { line: 0, character: 0 } }),
    (e) => e.code === -32002);
  await initialized(s, {});
  assert.equal(await s.conn.sendRequest('shutdown'), null);
  await assert.rejects(s.conn.sendRequest('workspace/symbol', { query: 'helper' }), (e) => e.code === -32600);
  s.conn.sendNotification('exit');
  assert.equal(await s.exited, 0, 'exit after shutdown');

  const s2 = startServer();
  await initialized(s2, {});
  await s2.conn.sendNotification('exit');
  assert.equal(await s2.exited, 1, 'exit without shutdown');

  const s3 = startServer();
  await initialized(s3, {});
  await s3.conn.sendRequest('workspace/symbol', { query: '' }); // everything written
  s3.conn.dispose();
  s3.child.stdin.end();
  assert.equal(await s3.exited, 1, 'EOF without exit');
  for (const x of [s, s2]) x.conn.dispose();
});

test('workspace/symbol mode from initializationOptions; a bad mode is InvalidParams', async () => {
  const s = startServer();
  await assert.rejects(initialized(s, {}, { workspaceSymbolMode: 'fuzzy' }), (e) => e.code === -32602 && /workspaceSymbolMode/.test(e.message));
  await initialized(s, {}, { workspaceSymbolMode: 'hybrid' });
  const r = await s.conn.sendRequest('workspace/symbol', { query: 'helper' });
  assert.ok(r.some((x) => x.name === 'helper'), JSON.stringify(r)); // embeddings are off: lexical fallback
  assert.equal(await stop(s), 0);
});

test('--lsp --index: the watcher in the same process indexes, then follows changes', { skip: !INDEX_WS }, async () => {
  assert.ok(!existsSync(join(INDEX_WS, '.aether', 'meta.sqlite')));
  const s = startServer(['--index', '--debounce-ms', '50'], INDEX_WS);
  const logged = (re) => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no log ${re}: ${JSON.stringify(s.logs)} ${s.stderr()}`)), 60000 * SCALE);
    const check = () => {
      const m = s.logs.find((x) => re.test(x.message));
      if (m) { clearTimeout(t); resolve(m); } else setTimeout(check, 20);
    };
    check();
  });
  await initialized(s, {});
  await logged(/^aether: indexed \(full pass\): \d+ files/);
  const db = join(INDEX_WS, '.aether', 'meta.sqlite');
  const text = readFileSync(join(INDEX_WS, 'pkg/auth.py'), 'utf8');
  const h = await s.conn.sendRequest('textDocument/hover', {
    textDocument: { uri: uriOf('pkg/auth.py', INDEX_WS) }, position: { line: lineOf(text, 'return table.get'), character: 4 },
  });
  assert.equal(h.contents.value, expectedHover('cache_lookup', db));
  // a file written while the server runs: the watcher indexes it, hover shows its SIR
  writeFileSync(join(INDEX_WS, 'pkg', 'watched.py'), 'def watched_fn(v):\n    """Return v."""\n    return v\n');
  await logged(/^aether: indexed \(batch\): 1 files, 1 symbols changed \(\+1 -0 ~0\)/);
  const w = await s.conn.sendRequest('textDocument/hover', {
    textDocument: { uri: uriOf('pkg/watched.py', INDEX_WS) }, position: { line: 2, character: 4 },
  });
  assert.equal(w.contents.value, expectedHover('watched_fn', db));
  assert.ok(w.contents.value.startsWith('### watched_fn\n'));
  // a second --lsp --index on the same workspace: the watch lock is taken, it serves anyway
  const s2 = startServer(['--index'], INDEX_WS);
  await initialized(s2, {});
  const w2 = await s2.conn.sendRequest('textDocument/hover', {
    textDocument: { uri: uriOf('pkg/watched.py', INDEX_WS) }, position: { line: 2, character: 4 },
  });
  assert.equal(w2.contents.value, w.contents.value);
  assert.equal(await stop(s2), 0);
  assert.match(s2.stderr(), /the watcher did not start: .*watched by pid/);
  assert.equal(await stop(s), 0);
  assert.match(s.stderr(), /aetherd: indexed \(full pass\)/);
});

test('without --index the server never writes the workspace', async () => {
  assert.ok(!existsSync(join(WS, 'pkg', '.aether')));
  const before = rows('SELECT count(*) AS n FROM symbols')[0].n;
  assert.equal(before, rows('SELECT count(*) AS n FROM symbols')[0].n);
  assert.equal(rows("SELECT count(*) AS n FROM symbols WHERE qualified_name = 'late_fn'")[0].n, 0);
});

test('shutdown and exit of the main connection', async () => {
  assert.equal(await stop(server), 0, server.stderr());
  assert.equal(server.stderr(), '');
});
