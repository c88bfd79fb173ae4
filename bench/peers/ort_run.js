// onnxruntime-node for ventral: the oracle of imports/ort_oracle_test.go and the peer of
// `ventral bench import` (bench/imports.go, which embeds this file).
//
// Usage: node ort_run.js ORT_PACKAGE_DIR MODEL.onnx INPUT.f32 N C H W OUTPUT.f32 [THREADS] [REPEATS]
// Reads N*C*H*W little-endian float32 values, runs the model's first input and output on the
// CPU (threads: intra-op threads, default 1), and writes the output as float32. With REPEATS > 0
// it instead times REPEATS runs after one warm-up and prints {"seconds": [...]} as JSON.
const fs = require('fs');
const [ortDir, model, input, n, c, h, w, output, threads, repeats] = process.argv.slice(2);
const ort = require(ortDir);

async function main() {
  const opts = { intraOpNumThreads: Number(threads || 1), interOpNumThreads: 1, executionProviders: ['cpu'] };
  if (process.env.ORT_X64_PRECISION) {
    opts.extra = { session: { x64quantprecision: '1' } };
  }
  if (process.env.ORT_OPT_LEVEL) {
    opts.graphOptimizationLevel = process.env.ORT_OPT_LEVEL;
  }
  const sess = await ort.InferenceSession.create(model, opts);
  const buf = fs.readFileSync(input);
  const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const dims = [Number(n), Number(c), Number(h), Number(w)];
  const feeds = { [sess.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  if (Number(repeats || 0) > 0) {
    await sess.run(feeds);
    const seconds = [];
    for (let i = 0; i < Number(repeats); i++) {
      const t0 = process.hrtime.bigint();
      await sess.run(feeds);
      seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    console.log(JSON.stringify({ seconds }));
    return;
  }
  const out = await sess.run(feeds);
  const y = out[sess.outputNames[0]].data;
  fs.writeFileSync(output, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
}
main().catch((e) => { console.error(e); process.exit(1); });
