// face-api's nets run by face-api itself (its dist/face-api.node-wasm.js build on tfjs's CPU backend): the original
// runtime of the parity checks of scripts/convert_teachers.py (expression) and scripts/convert_face_embedder.py
// (recognition).
//   NODE_PATH=<dir with @tensorflow/tfjs> node faceapi_reference.cjs <face-api package dir> <inputs.bin> <N> <out.json> [net]
// net: expression (default; inputs N uint8 RGB 112x112x3 images, out {"probabilities": N x 7, face-api's order}) or
// recognition (inputs N uint8 RGB 150x150x3, out {"outputs": N x 128 descriptors}).
const fs = require('fs');
const path = require('path');

const NETS = {
  expression: { manifest: 'face_expression_model-weights_manifest.json', size: 112, make: (f) => new f.FaceExpressionNet(), key: 'probabilities' },
  recognition: { manifest: 'face_recognition_model-weights_manifest.json', size: 150, make: (f) => new f.FaceRecognitionNet(), key: 'outputs' },
};

async function main() {
  const [pkg, inputs, n, out, which = 'expression'] = process.argv.slice(2);
  const spec = NETS[which];
  if (!spec) throw new Error(`unknown net ${which}`);
  const faceapi = require(path.resolve(pkg, 'dist', 'face-api.node-wasm.js'));
  const tf = faceapi.tf;
  await tf.setBackend('cpu');
  await tf.ready();
  const dir = path.join(pkg, 'model');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, spec.manifest)));
  const buffers = manifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p)));
  const all = Buffer.concat(buffers);
  const weights = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    manifest[0].weights);
  const net = spec.make(faceapi);
  net.loadFromWeightMap(weights);
  const count = Number(n);
  const pixels = new Uint8Array(fs.readFileSync(inputs));
  const batch = tf.tensor4d(pixels, [count, spec.size, spec.size, 3], 'int32');
  const result = net.forwardInput(await faceapi.toNetInput(tf.unstack(batch)));
  const data = Array.from(await result.data());
  const width = data.length / count;
  const rows = [];
  for (let i = 0; i < count; i += 1) rows.push(data.slice(i * width, (i + 1) * width));
  fs.writeFileSync(out, JSON.stringify({ [spec.key]: rows, tfjs: tf.version_core, backend: tf.getBackend() }));
}

main().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err).slice(0, 2000));
  process.exit(1);
});
