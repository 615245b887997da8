'use strict';
// Shared helpers of the golden writer and the benchmark peers: locating the reference runtimes,
// TF.js wasm set-up, graph model loading from files, deterministic inputs, the .gold file format.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { execFileSync } = require('child_process');

const REPO = path.resolve(__dirname, '..', '..');
const CACHE = path.resolve(process.env.MFMC_CACHE || path.join(require('os').homedir(), '.cache', 'mfmc'));
const MODELS = path.resolve(process.env.MFMC_MODELS || path.join(REPO, 'models'));

// node_modules of tools/golden/package.json, installed in the cache by node-deps.sh (run here if needed).
function nodeModules() {
  if (process.env.MFMC_NODE_MODULES) return path.resolve(process.env.MFMC_NODE_MODULES);
  const pkg = fs.readFileSync(path.join(__dirname, 'package.json'));
  const hash = crypto.createHash('sha256').update(pkg).digest('hex').slice(0, 12);
  const dir = path.join(CACHE, `node-${hash}`);
  if (fs.existsSync(path.join(dir, '.complete'))) return path.join(dir, 'node_modules');
  const out = execFileSync('bash', [path.join(__dirname, 'node-deps.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  return out.toString().trim();
}

let NM = null;
function req(name) {
  if (!NM) NM = nodeModules();
  return require(path.join(NM, name));
}

// Multi-threaded TF.js wasm under Node. tfjs-backend-wasm 4.22 switches threads off under Node
// (WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false when IS_NODE, tfjs issue #3830), and its
// threaded build expects a browser: it starts its pthread workers from blob: URLs (Node's Worker
// wants a file), passes the main script to them as a Blob, and its factory refers to bundler
// variables (require$$N, commonjsGlobal) that only exist in the main bundle. On top, XNNPACK's pool
// is capped at emscripten_num_logical_cores()/2 (= os.cpus().length/2 under Node), so a 2-core
// machine always gets 1 thread. This shim writes the blobs to temp files, defines the missing
// variables and reports 2*threads logical cores, so that setThreadsCount(threads) takes effect.
// Benchmark-only (goldens always run single-threaded on the default, non-threaded SIMD build).
let shimDir = null;
function enableNodeWasmThreads(threads) {
  if (shimDir) return;
  const os = require('os');
  const wt = require('worker_threads');
  shimDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mfmc-tfjs-wasm-'));
  process.on('exit', () => { try { fs.rmSync(shimDir, { recursive: true, force: true }); } catch (e) { /* ignore */ } });
  const parts = new WeakMap();
  let n = 0;
  const toFile = (blob) => {
    const p = parts.get(blob);
    if (!p) return null;
    let src = p.join('');
    if (src.startsWith('var WasmBackendModuleThreadedSimd')) {
      src = "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),"
        + "require$$4=require('os'),commonjsGlobal=globalThis;" + src;
    }
    const f = path.join(shimDir, `blob${n++}.js`);
    fs.writeFileSync(f, src);
    return f;
  };
  const OrigBlob = globalThis.Blob;
  globalThis.Blob = class extends OrigBlob {
    constructor(a, o) {
      super(a, o);
      if (Array.isArray(a) && a.every((x) => typeof x === 'string')) parts.set(this, a);
    }
  };
  const origCreate = URL.createObjectURL;
  URL.createObjectURL = (b) => toFile(b) || origCreate(b);
  const origPost = wt.Worker.prototype.postMessage;
  wt.Worker.prototype.postMessage = function postMessage(msg, ...rest) {
    if (msg && msg.cmd === 'load' && msg.urlOrBlob && typeof msg.urlOrBlob !== 'string') {
      const f = toFile(msg.urlOrBlob);
      if (f) msg = { ...msg, urlOrBlob: f };
    }
    return origPost.call(this, msg, ...rest);
  };
  const cpus = os.cpus();
  const want = Math.max(2 * threads, cpus.length);
  os.cpus = () => Array.from({ length: want }, (_, i) => cpus[i % cpus.length]);
}

// TF.js with the wasm backend, loaded from files (no network). threads > 1 uses the threaded SIMD
// build through enableNodeWasmThreads; info.threads is what XNNPACK really got (getThreadsCount).
async function initTf({ threads = 1, quiet = true } = {}) {
  const tf = req('@tensorflow/tfjs');
  const wasm = req('@tensorflow/tfjs-backend-wasm');
  const wasmDir = path.join(NM, '@tensorflow', 'tfjs-backend-wasm', 'dist');
  wasm.setWasmPaths(wasmDir + path.sep, false);
  if (threads > 1) {
    enableNodeWasmThreads(threads);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  }
  wasm.setThreadsCount(threads);
  if (quiet) tf.env().set('PROD', true);
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('tf.setBackend("wasm") failed');
  await tf.ready();
  const info = {
    backend: tf.getBackend(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
    threads: wasm.getThreadsCount(),
  };
  return { tf, wasm, info };
}

// A graph model from models/human/<name>.json + its weight shards, via a custom IOHandler.
async function loadHumanModel(tf, name) {
  const file = path.join(MODELS, 'human', `${name}.json`);
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run tools/setup.sh`);
  return loadGraphModelFile(tf, file);
}

async function loadGraphModelFile(tf, file) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dir = path.dirname(file);
  const weightSpecs = [];
  const buffers = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
      modelInitializer: json.modelInitializer,
      weightSpecs,
      weightData,
    }),
  };
  return tf.loadGraphModel(handler);
}

// xorshift32, deterministic across runs and machines.
function xorshift32(seed) {
  let s = (seed >>> 0) || 0x9e3779b9;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296; // [0,1)
  };
}

function seedOf(str, k = 0) {
  let h = 2166136261 >>> 0; // FNV-1a
  for (const ch of Buffer.from(`${str}#${k}`)) { h ^= ch; h = Math.imul(h, 16777619) >>> 0; }
  return h;
}

// Image-like pattern in [0,1]: smooth waves per channel plus uniform noise, for a
// [N,H,W,C] (layout 'nhwc') or [N,C,H,W] (layout 'nchw') shape.
function pattern01(shape, seed, layout = 'nhwc') {
  const [n, a, b, c] = shape;
  const [H, W, C] = layout === 'nhwc' ? [a, b, c] : [b, c, a];
  const rnd = xorshift32(seed);
  const ph = rnd() * 6.283, fx = 1 + rnd() * 2, fy = 1 + rnd() * 2;
  const out = new Float32Array(n * H * W * C);
  for (let i = 0; i < n; i++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let ch = 0; ch < C; ch++) {
          const smooth = 0.5 + 0.3 * Math.sin(6.283 * (fx * x / W + 0.25 * ch) + ph) * Math.cos(6.283 * (fy * y / H - 0.15 * ch))
            + 0.1 * Math.sin(6.283 * (x + y) / (W + H) * 3 + ch);
          let v = smooth + (rnd() - 0.5) * 0.3;
          v = v < 0 ? 0 : (v > 1 ? 1 : v);
          const idx = layout === 'nhwc' ? ((i * H + y) * W + x) * C + ch : ((i * C + ch) * H + y) * W + x;
          out[idx] = v;
        }
      }
    }
  }
  return out;
}

// Deterministic input for shape (NHWC unless layout says otherwise) mapped to [lo,hi];
// `integers` rounds (for 0..255 image-like inputs).
function makeInput(shape, seed, { lo = 0, hi = 1, integers = false, layout = 'nhwc' } = {}) {
  const v = pattern01(shape, seed, layout);
  for (let i = 0; i < v.length; i++) {
    let x = lo + v[i] * (hi - lo);
    if (integers) x = Math.round(x);
    v[i] = x;
  }
  return v;
}

// Photo-based input: the centre square of a demo photo (decoded with jpeg-js), bilinear-resized to HxW,
// mapped to [lo,hi]; C = 1 gives luma. Realistic activations make parity meaningful: with noise inputs,
// deep nets produce logits far larger than on photos and float32 rounding noise dominates the comparison.
function photoInput(file, shape, { lo = 0, hi = 1 } = {}) {
  const jpeg = req('jpeg-js');
  const img = jpeg.decode(fs.readFileSync(file), { useTArray: true, formatAsRGBA: true });
  const [n, H, W, C] = shape;
  const side = Math.min(img.width, img.height);
  const x0 = (img.width - side) / 2, y0 = (img.height - side) / 2;
  const out = new Float32Array(n * H * W * C);
  const px = (x, y, ch) => img.data[(y * img.width + x) * 4 + ch];
  for (let y = 0; y < H; y++) {
    const sy = Math.min(Math.max(y0 + (y + 0.5) * side / H - 0.5, 0), img.height - 1);
    const ya = Math.floor(sy), yb = Math.min(ya + 1, img.height - 1), fy = sy - ya;
    for (let x = 0; x < W; x++) {
      const sx = Math.min(Math.max(x0 + (x + 0.5) * side / W - 0.5, 0), img.width - 1);
      const xa = Math.floor(sx), xb = Math.min(xa + 1, img.width - 1), fx = sx - xa;
      const rgb = [0, 1, 2].map((ch) => (px(xa, ya, ch) * (1 - fx) + px(xb, ya, ch) * fx) * (1 - fy)
        + (px(xa, yb, ch) * (1 - fx) + px(xb, yb, ch) * fx) * fy);
      const vals = C === 1 ? [0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]] : rgb;
      for (let ch = 0; ch < C; ch++) {
        const v = lo + (vals[ch] / 255) * (hi - lo);
        for (let i = 0; i < n; i++) out[((i * H + y) * W + x) * C + ch] = v;
      }
    }
  }
  return out;
}

// Input value range per human-models graph (what the model expects; only needs to exercise the numerics).
function inputRange(model) {
  if (/^blazeface/.test(model) || /^facemesh-detection/.test(model)) return { lo: -1, hi: 1 };
  if (model === 'faceres' || model === 'faceres-deep') return { lo: 0, hi: 255 };
  return { lo: 0, hi: 1 };
}

// ---- .gold files ------------------------------------------------------------------------------
// "MFGOLD01", u32 count, then per tensor: u8 role (0 in, 1 out), u16 name_len, name,
// u8 ndim, i32 dims[ndim], f32 data[prod(dims)]; all little-endian.
function encodeGold(tensors) {
  const parts = [Buffer.from('MFGOLD01', 'ascii')];
  const cnt = Buffer.alloc(4); cnt.writeUInt32LE(tensors.length); parts.push(cnt);
  for (const t of tensors) {
    const name = Buffer.from(t.name, 'utf8');
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new Error(`${t.name}: ${t.data.length} values for dims ${t.dims}`);
    const head = Buffer.alloc(1 + 2 + name.length + 1 + 4 * t.dims.length);
    let o = 0;
    head.writeUInt8(t.role, o); o += 1;
    head.writeUInt16LE(name.length, o); o += 2;
    name.copy(head, o); o += name.length;
    head.writeUInt8(t.dims.length, o); o += 1;
    for (const d of t.dims) { head.writeInt32LE(d, o); o += 4; }
    const data = Buffer.alloc(4 * n);
    for (let i = 0; i < n; i++) data.writeFloatLE(t.data[i], 4 * i);
    parts.push(head, data);
  }
  return Buffer.concat(parts);
}

function writeGold(file, tensors) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, encodeGold(tensors));
  fs.renameSync(tmp, file);
}

module.exports = {
  photoInput,
  REPO, CACHE, MODELS, nodeModules, req, initTf, enableNodeWasmThreads, loadHumanModel, loadGraphModelFile,
  xorshift32, seedOf, makeInput, inputRange, encodeGold, writeGold,
};
