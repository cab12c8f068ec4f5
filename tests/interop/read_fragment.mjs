// Reads an aether data fragment with the official apache-arrow reader (the
// Arrow IPC *file* path: footer first) and prints what it found as one line
// of JSON; with a second argument, also writes the embeddings there as raw
// little-endian float32, row-major, for a bit-exact comparison.
//   node read_fragment.mjs FRAGMENT [VECTORS_OUT]
import { readFileSync, writeFileSync } from 'node:fs';
import { RecordBatchReader, Table } from 'apache-arrow';

const [path, vectorsOut] = process.argv.slice(2);
if (!path) {
  console.error('usage: node read_fragment.mjs FRAGMENT [VECTORS_OUT]');
  process.exit(2);
}
const reader = RecordBatchReader.from(readFileSync(path));
reader.open();
if (!reader.isFile()) throw new Error(`${path}: not read as an Arrow IPC file`);
const table = new Table(reader.readAll());
const schema = table.schema;
const emb = table.getChild('embedding');
const dim = schema.fields.find((f) => f.name === 'embedding').type.listSize;
const col = (name) => Array.from(table.getChild(name).toArray(), (v) => String(v));

const out = {
  rows: table.numRows,
  dim,
  format_version: schema.metadata.get('aether.format_version'),
  columns: schema.fields.map((f) => `${f.name}:${f.type}`),
  ids: col('symbol_id'),
  sir_hashes: col('sir_hash'),
  providers: col('provider'),
  models: col('model'),
  updated_at: col('updated_at'),
};
const vectors = new Float32Array(table.numRows * dim);
for (let i = 0; i < table.numRows; i++) vectors.set(emb.get(i).toArray(), i * dim);
const invNorms = table.getChild('_inv_norm').toArray();
for (let i = 0; i < table.numRows; i++) {
  let ss = 0;
  for (let d = 0; d < dim; d++) ss += vectors[i * dim + d] ** 2;
  const want = ss > 0 ? 1 / Math.sqrt(ss) : 0;
  if (Math.abs(invNorms[i] - want) > 1e-5 * want) {
    throw new Error(`${path}: row ${i}: _inv_norm ${invNorms[i]}, vector gives ${want}`);
  }
}
if (vectorsOut) writeFileSync(vectorsOut, Buffer.from(vectors.buffer));
process.stdout.write(JSON.stringify(out) + '\n');
if (process.env.AE_INTEROP_VERBOSE) {
  console.error(`first vector: ${Array.from(vectors.subarray(0, Math.min(dim, 8))).join(', ')}`);
}
