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

function onnxInputDims(session) {
  const meta = session.inputMetadata && session.inputMetadata[0];
  const shape = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : [1, 3, 112, 112];
  if (shape.length !== 4 || shape[1] !== 3) throw new Error(`fr_feature: unexpected input shape ${shape}`);
  return shape;
}

// NCHW input of fr_feature.onnx: (p - 127) / 128 of an integer 0..255 pattern, as faceplugin does.
function onnxInput(dims, k) {
  const px = lib.makeInput(dims, lib.seedOf('fr_feature', k), { lo: 0, hi: 255, integers: true, layout: 'nchw' });
  for (let i = 0; i < px.length; i++) px[i] = (px[i] - 127) / 128;
  return px;
}

module.exports = { HUMAN, FACEAPI_INPUT, humanInput, outputTensorNames, loadFaceApi, onnxInputDims, onnxInput };
