'use strict';
// Speed peer: TF.js 4.22 (wasm backend, XNNPACK) on the same models and inputs as the goldens.
// Usage: node tools/bench/tfjs-bench.js --models a,b,c [--runs 30] [--warmup 5] [--threads 1]
//        node tools/bench/tfjs-bench.js --work model:count,... [--label L]  (one run = all of them)
// Prints one JSON line per model:
//   {"model":..,"runtime":"tfjs-wasm","threads":T,"median_ms":..,"min_ms":..,"runs":N}
// "threads" is what XNNPACK really got (getThreadsCount). Under Node, threads > 1 needs the shim in
// tools/golden/lib.js (enableNodeWasmThreads); it is probed in a child process first, and when it
// fails the benchmark says so on stderr and runs with 1 thread.

const path = require('path');
const { spawnSync } = require('child_process');
const lib = require('../golden/lib');
const models = require('../golden/models');

const KNOWN = [...models.HUMAN, 'faceapi-recognition'];

function usage(msg) {
  if (msg) process.stderr.write(`tfjs-bench: ${msg}\n`);
  process.stderr.write('usage: node tools/bench/tfjs-bench.js --models a,b,c [--runs N] [--warmup N] [--threads T]\n'
    + `models: ${KNOWN.join(', ')} (fr_feature: tools/bench/ort-bench.js)\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = { models: null, runs: 30, warmup: 5, threads: 1, probe: false, work: null, label: 'pipeline' };
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
    else if (k === '--probe-threads') { a.probe = true; }
    else if (k === '--work') { // "model:count,model:count": one run = all these inferences in sequence
      a.work = (v || '').split(',').filter(Boolean).map((w) => {
        const [m, c] = w.split(':');
        return { model: m, count: c === undefined ? 1 : int(c, '--work count', 0) };
      });
      i++;
    } else if (k === '--label') { a.label = v; i++; }
    else if (k === '-h' || k === '--help') usage();
    else usage(`unknown argument ${k}`);
  }
  if (a.work) a.models = [...new Set(a.work.map((w) => w.model))];
  if (!a.probe) {
    if (!a.models || !a.models.length) usage('--models or --work is required');
    for (const m of a.models) if (!KNOWN.includes(m)) usage(`unknown model ${m}`);
  }
  return a;
}

// Runs in a child: can the wasm backend start with `threads` threads here?
async function probe(threads) {
  const { info } = await lib.initTf({ threads });
  process.stdout.write(`${JSON.stringify(info)}\n`);
  process.exit(0);
}

function threadsAvailable(threads) {
  if (threads <= 1) return 1;
  const r = spawnSync(process.execPath, [__filename, '--probe-threads', '--threads', String(threads)],
    { encoding: 'utf8', timeout: 60000, env: process.env });
  let got = 1;
  try { got = JSON.parse(r.stdout.trim().split('\n').pop()).threads; } catch (e) { got = 1; }
  if (r.status !== 0 || got !== threads) {
    process.stderr.write(`tfjs-bench: TF.js wasm could not start ${threads} threads under Node `
      + `(probe: status ${r.status}, threads ${got}); running with 1 thread\n`);
    if (r.stderr) process.stderr.write(r.stderr.split('\n').slice(0, 5).map((l) => `  ${l}`).join('\n') + '\n');
    return 1;
  }
  return threads;
}

function stats(times) {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0] };
}

const r3 = (x) => Math.round(x * 1000) / 1000;

// One model: returns a function that runs one inference to completion (outputs read back).
async function prepare(tf, name) {
  if (name === 'faceapi-recognition') {
    const faceapi = models.loadFaceApi();
    const net = faceapi.nets.faceRecognitionNet;
    if (!net.isLoaded) await net.loadFromDisk(path.join(lib.MODELS, 'faceapi'));
    const dims = models.FACEAPI_INPUT;
    const x = tf.tensor3d(lib.makeInput([1, ...dims], lib.seedOf(name, 0), { lo: 0, hi: 255, integers: true }), dims, 'float32');
    return {
      run: async () => { await net.computeFaceDescriptor(x); },
      dispose: () => tf.dispose(x),
    };
  }
  const model = await lib.loadHumanModel(tf, name);
  const spec = models.humanInput(model, name);
  const x = tf.tensor(lib.makeInput(spec.dims, lib.seedOf(name), spec.range), spec.dims, 'float32');
  const feed = { [spec.name]: x };
  return {
    run: async () => {
      let y = model.execute(feed);
      if (!Array.isArray(y)) y = [y];
      await Promise.all(y.map((t) => t.data()));
      tf.dispose(y);
    },
    dispose: () => { tf.dispose(x); model.dispose(); },
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.probe) return probe(args.threads);
  const threads = threadsAvailable(args.threads);
  const { tf, info } = await lib.initTf({ threads });
  if (info.backend !== 'wasm') throw new Error(`backend is ${info.backend}, not wasm`);
  if (args.work) { // the inferences of one analysis, as a whole: median of the total
    const prepared = {};
    for (const name of args.models) prepared[name] = await prepare(tf, name);
    const once = async () => { for (const w of args.work) for (let i = 0; i < w.count; i++) await prepared[w.model].run(); };
    for (let i = 0; i < args.warmup; i++) await once();
    const times = [];
    for (let i = 0; i < args.runs; i++) {
      const t0 = process.hrtime.bigint();
      await once();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const s = stats(times);
    process.stdout.write(`${JSON.stringify({
      model: args.label, runtime: 'tfjs-wasm', threads: info.threads, median_ms: r3(s.median), min_ms: r3(s.min),
      runs: args.runs, work: args.work,
    })}\n`);
    process.exit(0);
  }
  for (const name of args.models) {
    const m = await prepare(tf, name);
    for (let i = 0; i < args.warmup; i++) await m.run();
    const times = [];
    for (let i = 0; i < args.runs; i++) {
      const t0 = process.hrtime.bigint();
      await m.run();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    m.dispose();
    const s = stats(times);
    process.stdout.write(`${JSON.stringify({
      model: name, runtime: 'tfjs-wasm', threads: info.threads, median_ms: r3(s.median), min_ms: r3(s.min), runs: args.runs,
    })}\n`);
  }
  process.exit(0); // pthread workers (threads > 1) would keep Node alive
}

main().catch((e) => {
  process.stderr.write(`tfjs-bench: ERROR: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
