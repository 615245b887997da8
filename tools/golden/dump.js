'use strict';
// Reads .gold files (MFGOLD01) and prints each tensor's role, name, shape and value summary.
// Usage: node tools/golden/dump.js FILE.gold... [--values N]
// Needs nothing but Node (no runtimes), so it also proves the format independently of the writer.

const fs = require('fs');

function readGold(file) {
  const b = fs.readFileSync(file);
  if (b.length < 12 || b.toString('latin1', 0, 8) !== 'MFGOLD01') throw new Error(`${file}: bad magic`);
  const count = b.readUInt32LE(8);
  let o = 12;
  const out = [];
  for (let k = 0; k < count; k++) {
    const role = b.readUInt8(o); o += 1;
    const nameLen = b.readUInt16LE(o); o += 2;
    const name = b.toString('utf8', o, o + nameLen); o += nameLen;
    const ndim = b.readUInt8(o); o += 1;
    const dims = [];
    for (let i = 0; i < ndim; i++) { dims.push(b.readInt32LE(o)); o += 4; }
    const n = dims.reduce((a, c) => a * c, 1);
    if (o + 4 * n > b.length) throw new Error(`${file}: truncated in tensor ${name}`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = b.readFloatLE(o + 4 * i);
    o += 4 * n;
    out.push({ role, name, dims, data });
  }
  if (o !== b.length) throw new Error(`${file}: ${b.length - o} trailing bytes`);
  return out;
}

function main() {
  const args = process.argv.slice(2);
  let nvals = 4;
  const files = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--values') nvals = Number(args[++i]);
    else files.push(args[i]);
  }
  if (!files.length) {
    process.stderr.write('usage: node dump.js FILE.gold... [--values N]\n');
    process.exit(2);
  }
  for (const f of files) {
    const ts = readGold(f);
    console.log(`${f}: ${ts.length} tensors`);
    for (const t of ts) {
      let min = Infinity, max = -Infinity, sum = 0;
      for (const v of t.data) { if (v < min) min = v; if (v > max) max = v; sum += v; }
      const head = Array.from(t.data.slice(0, nvals), (v) => v.toPrecision(6)).join(' ');
      console.log(`  ${t.role === 0 ? 'in ' : t.role === 1 ? 'out' : `role${t.role}`} ${t.name} [${t.dims.join(',')}]`
        + ` min ${min.toPrecision(5)} max ${max.toPrecision(5)} mean ${(sum / t.data.length).toPrecision(5)} | ${head}`);
    }
  }
}

if (require.main === module) main();
module.exports = { readGold };
