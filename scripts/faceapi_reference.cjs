// face-api's expression net run by face-api itself (its dist/face-api.node-wasm.js build on tfjs's CPU backend):
// the original runtime of scripts/convert_teachers.py's parity check.
//   NODE_PATH=<dir with @tensorflow/tfjs> node faceapi_reference.cjs <face-api package dir> <inputs.bin> <N> <out.json>
// inputs.bin: N uint8 RGB images of 112x112x3, back to back. out.json: {"probabilities": N x 7, face-api's order}.
const fs = require('fs');
const path = require('path');

async function main() {
  const [pkg, inputs, n, out] = process.argv.slice(2);
  const faceapi = require(path.resolve(pkg, 'dist', 'face-api.node-wasm.js'));
  const tf = faceapi.tf;
  await tf.setBackend('cpu');
  await tf.ready();
  const dir = path.join(pkg, 'model');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'face_expression_model-weights_manifest.json')));
  const buffers = manifest[0].paths.map((p) => fs.readFileSync(path.join(dir, p)));
  const all = Buffer.concat(buffers);
  const weights = tf.io.decodeWeights(all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    manifest[0].weights);
  const net = new faceapi.FaceExpressionNet();
  net.loadFromWeightMap(weights);
  const count = Number(n);
  const pixels = new Uint8Array(fs.readFileSync(inputs));
  const batch = tf.tensor4d(pixels, [count, 112, 112, 3], 'int32');
  const probs = net.forwardInput(await faceapi.toNetInput(tf.unstack(batch)));
  const data = Array.from(await probs.data());
  const rows = [];
  for (let i = 0; i < count; i += 1) rows.push(data.slice(i * 7, i * 7 + 7));
  fs.writeFileSync(out, JSON.stringify({ probabilities: rows, tfjs: tf.version_core, backend: tf.getBackend() }));
}

main().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err).slice(0, 2000));
  process.exit(1);
});
