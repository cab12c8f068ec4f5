// A reader beside a watching aetherd: the official MCP SDK client queries aether-mcp in a loop
// (aether_search lexical and semantic, aether_status) until AE_STOP_FILE exists, and checks
// every answer: no error, semantic without fallback, unique ids, scores sorted, and no torn row
// (a generated symbol's qualified name starts with its file's base name, so name and file must
// belong together).  Prints "mcp reader: N queries" and exits 1 on the first bad answer.
//
//   AE_BUILD_DIR=build AE_MCP_WS=/tmp/ws AE_STOP_FILE=/tmp/stop node tests/mcp/watch_reader.mjs
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const BUILD = process.env.AE_BUILD_DIR, WS = process.env.AE_MCP_WS, STOP = process.env.AE_STOP_FILE;
if (!BUILD || !WS || !STOP) { console.error('set AE_BUILD_DIR, AE_MCP_WS, AE_STOP_FILE'); process.exit(2); }
const transport = new StdioClientTransport({ command: join(BUILD, 'aether-mcp'), args: ['--workspace', WS], stderr: 'pipe' });
let stderr = '';
transport.stderr?.on('data', (d) => (stderr += d));
const client = new Client({ name: 'aether-watch-reader', version: '0.0.0' });
await client.connect(transport);

function bad(why, what) {
  console.error(`mcp reader: ${why}: ${JSON.stringify(what).slice(0, 600)}\n${stderr}`);
  process.exit(1);
}
function checkMatches(sc, mode) {
  if (mode === 'semantic' && (sc.mode_used !== 'semantic' || sc.fallback_reason !== null)) bad('semantic fell back', sc);
  const ids = sc.matches.map((m) => m.symbol_id);
  if (new Set(ids).size !== ids.length) bad('duplicate ids', ids);
  if (sc.result_count !== sc.matches.length) bad('result_count', sc);
  const scores = sc.matches.map((m) => m.semantic_score).filter((s) => s !== null && s !== undefined);
  for (let i = 1; i < scores.length; i++) if (scores[i] > scores[i - 1] + 1e-9) bad('unsorted', scores);
  for (const m of sc.matches) {
    const base = m.file_path.split('/').pop().replace(/\.py$/, '');
    if (!m.qualified_name.startsWith(base + '_')) bad('torn row', m);
  }
}

let n = 0;
while (!existsSync(STOP)) {
  const mode = n % 2 ? 'semantic' : 'lexical';
  const query = mode === 'lexical' ? `m${n % 20}_f${n % 4}` : `step ${n % 4} revision`;
  const r = await client.callTool({ name: 'aether_search', arguments: { query, mode, limit: 10 } });
  if (r.isError) bad('aether_search failed', r.content);
  checkMatches(r.structuredContent, mode);
  if (n % 10 === 0) {
    const s = await client.callTool({ name: 'aether_status', arguments: {} });
    if (s.isError || !s.structuredContent.store_present) bad('aether_status', s);
  }
  n++;
}
await client.close();
console.log(`mcp reader: ${n} queries`);
if (n < 5) { console.error('mcp reader: too few queries'); process.exit(1); }
