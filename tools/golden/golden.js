'use strict';
// Writes golden outputs of the reference runtimes, one MFGOLD01 file per model, into OUTDIR:
//   <model>.gold              human-models graphs on TF.js 4.22.0 (wasm backend, 1 thread)
//   faceapi-recognition.gold  face-api 1.7.15 FaceRecognitionNet on TF.js wasm
//   fr_feature.gold           faceplugin fr_feature.onnx on onnxruntime-node 1.30.0 (1 thread)
//   fr_detect.gold            faceplugin fr_detect.onnx, the same way
// plus INDEX.txt listing every tensor. Usage: node golden.js OUTDIR [--only m1,m2]
// Format and conventions: docs/setup.md and lib.js (encodeGold).

const fs = require('fs');
const path = require('path');
const lib = require('./lib');
const models = require('./models');

function parseArgs(argv) {
  const a = { out: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') a.only = argv[++i].split(',').filter(Boolean);
    else if (!a.out) a.out = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!a.out) throw new Error('usage: node golden.js OUTDIR [--only m1,m2]');
  return a;
}

async function humanGolden(tf, name) {
  const model = await lib.loadHumanModel(tf, name);
  const spec = models.humanInput(model, name);
  const photo = path.join(lib.MODELS, 'demo', 'sample1.jpg');
  if (!fs.existsSync(photo)) throw new Error(`${photo} not found: run tools/setup.sh`);
  const data = lib.photoInput(photo, spec.dims, spec.range);
  const x = tf.tensor(data, spec.dims, 'float32');
  const outNames = models.outputTensorNames(model);
  let y = model.execute({ [spec.name]: x });
  if (!Array.isArray(y)) y = [y];
  if (y.length !== outNames.length) throw new Error(`${name}: ${y.length} outputs, expected ${outNames.length}`);
  const tensors = [{ role: 0, name: spec.name, dims: spec.dims, data }];
  for (let i = 0; i < y.length; i++) {
    const v = await y[i].data();
    tensors.push({ role: 1, name: outNames[i], dims: y[i].shape.slice(), data: Float32Array.from(v) });
  }
  tf.dispose([x, ...y]);
  model.dispose();
  return tensors;
}

async function faceapiGolden(tf) {
  const faceapi = models.loadFaceApi();
  if (faceapi.tf.getBackend() !== 'wasm') throw new Error(`face-api runs on ${faceapi.tf.getBackend()}, not wasm`);
  const net = faceapi.nets.faceRecognitionNet;
  if (!net.isLoaded) await net.loadFromDisk(path.join(lib.MODELS, 'faceapi'));
  const dims = models.FACEAPI_INPUT; // [150,150,3] per run
  const ins = [];
  const outs = [];
  for (let k = 0; k < 2; k++) {
    const data = lib.makeInput([1, ...dims], lib.seedOf('faceapi-recognition', k), { lo: 0, hi: 255, integers: true });
    const x = tf.tensor3d(data, dims, 'float32');
    const d = await net.computeFaceDescriptor(x);
    tf.dispose(x);
    if (!(d instanceof Float32Array) || d.length !== 128) throw new Error('face-api: descriptor is not a 128-float array');
    ins.push(data);
    outs.push(d);
  }
  return [
    { role: 0, name: 'input', dims: [2, ...dims], data: concat(ins) },
    { role: 1, name: 'descriptor', dims: [2, 128], data: concat(outs) },
  ];
}

async function onnxGolden(name) {
  const ort = lib.req('onnxruntime-node');
  const file = path.join(lib.MODELS, 'faceplugin', `${name}.onnx`);
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
  const inName = session.inputNames[0];
  const outNames = session.outputNames;
  const dims = models.onnxInputDims(session, name); // [1,3,112,112] or [1,3,240,320]
  const ins = [];
  const outs = outNames.map(() => []);
  let outDims = null;
  for (let k = 0; k < 2; k++) {
    const data = models.onnxInput(dims, k, name);
    const res = await session.run({ [inName]: new ort.Tensor('float32', data, dims) });
    ins.push(data);
    outDims = outNames.map((n) => res[n].dims.slice());
    outNames.forEach((n, i) => outs[i].push(Float32Array.from(res[n].data)));
  }
  await session.release();
  const tensors = [{ role: 0, name: inName, dims: [2, ...dims.slice(1)], data: concat(ins) }];
  outNames.forEach((n, i) => tensors.push({ role: 1, name: n, dims: [2, ...outDims[i].slice(1)], data: concat(outs[i]) }));
  return tensors;
}

function concat(arrays) {
  const out = new Float32Array(arrays.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const a of arrays) { out.set(a, o); o += a.length; }
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });
  const all = [...models.HUMAN, 'faceapi-recognition', ...models.ONNX];
  const todo = args.only || all;
  for (const m of todo) if (!all.includes(m)) throw new Error(`unknown model ${m}`);
  const { tf, info } = await lib.initTf({ threads: 1 });
  if (info.backend !== 'wasm') throw new Error(`backend is ${info.backend}, not wasm`);
  const index = [];
  for (const m of todo) {
    const t0 = Date.now();
    let tensors;
    if (m === 'faceapi-recognition') tensors = await faceapiGolden(tf);
    else if (models.ONNX.includes(m)) tensors = await onnxGolden(m);
    else tensors = await humanGolden(tf, m);
    for (const t of tensors) {
      for (const v of t.data) if (!Number.isFinite(v)) throw new Error(`${m}: non-finite value in ${t.name}`);
    }
    const file = path.join(args.out, `${m}.gold`);
    lib.writeGold(file, tensors);
    for (const t of tensors) index.push(`${m}.gold\t${t.role ? 'out' : 'in'}\t${t.name}\t[${t.dims.join(',')}]`);
    process.stderr.write(`golden: ${m}.gold (${tensors.length} tensors, ${Date.now() - t0} ms)\n`);
  }
  if (!args.only) fs.writeFileSync(path.join(args.out, 'INDEX.txt'), `${index.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`golden: ERROR: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
