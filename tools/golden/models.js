'use strict';
// The models covered by the goldens and the benchmark peer, and how each one is fed.

const path = require('path');
const lib = require('./lib');

// human-models graphs (models/human/<name>.json).
const HUMAN = [
  'blazeface', 'blazeface-front', 'facemesh-detection-short', 'facemesh-detection-full', 'facemesh', 'iris',
  'faceres', 'faceres-deep', 'mobileface', 'mobilefacenet', 'gear', 'age', 'gender', 'gender-ssrnet-imdb',
  'emotion', 'antispoof', 'selfie',
];

// face-api FaceRecognitionNet: one HxWxC image in 0..255 per call.
const FACEAPI_INPUT = [150, 150, 3];

// The single input of a human graph: name (graph node name, e.g. "input_1"), dims (-1 batch -> 1),
// value range.
function humanInput(model, name) {
  if (model.inputs.length !== 1) throw new Error(`${name}: ${model.inputs.length} inputs, expected 1`);
  const inp = model.inputs[0];
  if (!inp.shape) throw new Error(`${name}: input ${inp.name} has no shape`);
  const dims = inp.shape.map((d) => (d == null || d < 0 ? 1 : d));
  return { name: inp.name, dims, range: lib.inputRange(name) };
}

// Output tensor names "node:index" in the order model.execute returns them (model.outputs order).
// model.outputs[i].name is the graph node; the index comes from the signature's tensor name
// ("Identity_2:0") or from the output node spec, 0 when neither has one.
function outputTensorNames(model) {
  const signature = model.modelSignature || (model.artifacts && model.artifacts.signature) || {};
  const sig = signature.outputs || {};
  return model.outputs.map((o, i) => {
    const key = model.outputNodes[i];
    const full = (sig[key] && sig[key].name) || key || '';
    const m = /:(\d+)$/.exec(full);
    return `${o.name}:${m ? m[1] : 0}`;
  });
}

// face-api's node-wasm build; it requires @tensorflow/tfjs and -backend-wasm from the same
// node_modules, so it shares the TF.js instance that lib.initTf set up.
function loadFaceApi() {
  return lib.req(path.join('@vladmandic', 'face-api', 'dist', 'face-api.node-wasm.js'));
}

// The faceplugin ONNX models with golden outputs: fr_feature (ArcFace, NCHW [1,3,112,112]) and fr_detect (the
// masked-face judge's detector since occl18, NCHW [1,3,240,320]).
const ONNX = ['fr_feature', 'fr_detect'];

function onnxInputDims(session, name) {
  const meta = session.inputMetadata && session.inputMetadata[0];
  const dflt = name === 'fr_detect' ? [1, 3, 240, 320] : [1, 3, 112, 112];
  const shape = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : dflt;
  if (shape.length !== 4 || shape[1] !== 3) throw new Error(`${name}: unexpected input shape ${shape}`);
  return shape;
}

// NCHW input k of a faceplugin model: (p - 127) / 128, as faceplugin does, of an integer 0..255 pattern; for
// fr_detect, input 0 is the demo photo (centre square stretched to 320 x 240: faces in view, so the face scores
// and boxes are exercised, not only the background's) and input 1 the pattern.
function onnxInput(dims, k, name = 'fr_feature') {
  let px;
  if (name === 'fr_detect' && k === 0) {
    const [n, C, H, W] = dims;
    const photo = path.join(lib.MODELS, 'demo', 'sample1.jpg');
    const nhwc = lib.photoInput(photo, [n, H, W, C], { lo: 0, hi: 255 });
    px = new Float32Array(nhwc.length);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        for (let c = 0; c < C; c++) px[(c * H + y) * W + x] = Math.round(nhwc[(y * W + x) * C + c]);
      }
    }
  } else {
    px = lib.makeInput(dims, lib.seedOf(name, k), { lo: 0, hi: 255, integers: true, layout: 'nchw' });
  }
  for (let i = 0; i < px.length; i++) px[i] = (px[i] - 127) / 128;
  return px;
}

module.exports = { HUMAN, FACEAPI_INPUT, ONNX, humanInput, outputTensorNames, loadFaceApi, onnxInputDims, onnxInput };
