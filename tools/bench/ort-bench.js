'use strict';
// Speed peer: onnxruntime-node 1.30 (CPU) on faceplugin's ONNX models, same input as the goldens.
// Usage: node tools/bench/ort-bench.js [--models fr_feature] [--runs 30] [--warmup 5] [--threads 1]
// Prints one JSON line per model:
//   {"model":..,"runtime":"onnxruntime","threads":T,"median_ms":..,"min_ms":..,"runs":N}
// T is the session's intraOpNumThreads (interOpNumThreads 1, sequential execution).

const fs = require('fs');
const path = require('path');
const lib = require('../golden/lib');
const models = require('../golden/models');

function usage(msg) {
  if (msg) process.stderr.write(`ort-bench: ${msg}\n`);
  process.stderr.write('usage: node tools/bench/ort-bench.js [--models fr_feature] [--runs N] [--warmup N] [--threads T]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const a = { models: ['fr_feature'], runs: 30, warmup: 5, threads: 1 };
  const int = (v, name, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) usage(`${name} must be an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--models') { a.models = (v || '').split(',').filter(Boolean); i++; }
    else if (k === '--runs') { a.runs = int(v, '--runs', 1); i++; }
    else if (k === '--warmup') { a.warmup = int(v, '--warmup', 0); i++; }
    else if (k === '--threads') { a.threads = int(v, '--threads', 1); i++; }
    else if (k === '--ftz') { a.ftz = true; } // flush denormals to zero, as mfmc does (a fair peer)
    else if (k === '-h' || k === '--help') usage();
    else usage(`unknown argument ${k}`);
  }
  if (!a.models.length) usage('--models is empty');
  return a;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = lib.req('onnxruntime-node');
  for (const name of args.models) {
    const file = path.join(lib.MODELS, 'faceplugin', `${name}.onnx`);
    if (!fs.existsSync(file)) throw new Error(`${file} not found (run tools/setup.sh)`);
    const session = await ort.InferenceSession.create(file, {
      intraOpNumThreads: args.threads, interOpNumThreads: 1, executionMode: 'sequential', executionProviders: ['cpu'],
      ...(args.ftz ? { extra: { session: { set_denormal_as_zero: '1' } } } : {}),
    });
    const dims = models.onnxInputDims(session);
    const feed = { [session.inputNames[0]]: new ort.Tensor('float32', models.onnxInput(dims, 0), dims) };
    const run = async () => {
      const out = await session.run(feed);
      for (const k of Object.keys(out)) if (!out[k].data.length) throw new Error(`empty output ${k}`);
    };
    for (let i = 0; i < args.warmup; i++) await run();
    const times = [];
    for (let i = 0; i < args.runs; i++) {
      const t0 = process.hrtime.bigint();
      await run();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    await session.release();
    const s = [...times].sort((a, b) => a - b);
    const mid = s.length >> 1;
    const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    const r3 = (x) => Math.round(x * 1000) / 1000;
    process.stdout.write(`${JSON.stringify({
      model: name, runtime: args.ftz ? 'onnxruntime-ftz' : 'onnxruntime', threads: args.threads, median_ms: r3(median), min_ms: r3(s[0]), runs: args.runs,
    })}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`ort-bench: ERROR: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
