// A model server stub for CLI tests: Ollama and OpenAI-compatible embeddings and chat on
// 127.0.0.1 (ephemeral port, written to the file named by argv[2]).  Plain node, no packages.
//
//   POST /api/embed, /v1/embeddings, /api/embeddings   deterministic vectors of DIM floats
//   POST /api/chat, /v1/chat/completions               a valid SIR naming the prompt's symbol
//   POST /__control {"fail_chat_after": N | null, "dim": D, "fail_chat_for": NAME | null,
//                    "intent_suffix": S, "chat_delay_ms": MS}   change behaviour
//   GET  /__stats                                      request counts by path
// After fail_chat_after successful chat replies, every chat request gets HTTP 500; a chat
// request whose "Qualified name:" contains fail_chat_for gets HTTP 500 too.  intent_suffix is
// appended to every intent (so a regenerated SIR has a new hash); chat_delay_ms delays every
// chat reply (concurrent requests are served concurrently).
'use strict';
const http = require('http');
const fs = require('fs');

let DIM = 16;
let failChatAfter = null;
let chatOk = 0;
let failChatFor = null;
let intentSuffix = '';
let chatDelayMs = 0;
const counts = {};

function vector(text) {
  const v = [];
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  for (let j = 0; j < DIM; j++) {
    h = Math.imul(h ^ (j + 1), 16777619) >>> 0;
    v.push(((h % 2000) - 1000) / 1000);
  }
  return v;
}

function nameOf(body) {
  const msgs = body.messages || [];
  const user = msgs.length ? String(msgs[msgs.length - 1].content) : '';
  const m = /Qualified name: (.*)/.exec(user);
  return m ? m[1] : 'unknown';
}

function sirFor(body) {
  const name = nameOf(body);
  return JSON.stringify({
    intent: 'Stub summary of ' + name + intentSuffix, inputs: [], outputs: [], side_effects: [],
    dependencies: [], error_modes: [], confidence: 0.75,
  });
}

function reply(res, status, obj) {
  const s = typeof obj === 'string' ? obj : JSON.stringify(obj);
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s)});
  res.end(s);
}

const server = http.createServer((req, res) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => {
    const path = req.url;
    if (req.method === 'GET' && path === '/__stats') return reply(res, 200, counts);
    counts[path] = (counts[path] || 0) + 1;
    let body;
    try { body = JSON.parse(data || '{}'); } catch (e) { return reply(res, 400, {error: 'bad json'}); }
    if (path === '/__control') {
      if ('fail_chat_after' in body) { failChatAfter = body.fail_chat_after; chatOk = 0; }
      if (body.dim) DIM = body.dim;
      if ('fail_chat_for' in body) failChatFor = body.fail_chat_for;
      if ('intent_suffix' in body) intentSuffix = body.intent_suffix || '';
      if ('chat_delay_ms' in body) chatDelayMs = body.chat_delay_ms || 0;
      if (body.reset_counts) for (const k of Object.keys(counts)) delete counts[k];
      return reply(res, 200, {ok: true});
    }
    if (path === '/api/embed') return reply(res, 200, {embeddings: body.input.map(vector)});
    if (path === '/v1/embeddings')
      return reply(res, 200, {data: body.input.map((t, i) => ({index: i, embedding: vector(t)}))});
    if (path === '/api/embeddings') return reply(res, 200, {embedding: vector(body.prompt)});
    if (path === '/api/chat' || path === '/v1/chat/completions') {
      const answer = () => {
        if (failChatAfter !== null && chatOk >= failChatAfter)
          return reply(res, 500, {error: 'model crashed'});
        if (failChatFor !== null && nameOf(body).includes(failChatFor))
          return reply(res, 500, {error: 'model crashed on ' + nameOf(body)});
        chatOk++;
        const content = sirFor(body);
        if (path === '/api/chat') return reply(res, 200, {message: {role: 'assistant', content}, done: true});
        return reply(res, 200, {choices: [{index: 0, message: {role: 'assistant', content}}]});
      };
      if (chatDelayMs > 0) return setTimeout(answer, chatDelayMs);
      return answer();
    }
    return reply(res, 404, {error: 'not found'});
  });
});

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], String(server.address().port));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
