/** Names common files people upload by mistake, so a `not-onnx` error can say what it got. */
const SIGNATURES: Array<[string, number[]]> = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['a ZIP archive (a PyTorch .pt/.pth checkpoint or a zipped model?)', [0x50, 0x4b, 0x03, 0x04]],
  ['a gzip file', [0x1f, 0x8b]],
  ['an HDF5 file (a Keras .h5 model?)', [0x89, 0x48, 0x44, 0x46]],
  ['a TensorRT engine (Kiln builds engines from the ONNX model)', [0x66, 0x74, 0x72, 0x74]],
];

export function describeBytes(head: Buffer): string {
  for (const [what, magic] of SIGNATURES) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return what;
  }
  const sample = head.subarray(0, 512);
  const printable = sample.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80);
  if (sample.length > 0 && printable) {
    return sample.includes(Buffer.from('ir_version')) ? 'ONNX text format (save it in the binary format)' : 'a text file';
  }
  return 'bytes that do not parse as an ONNX protobuf';
}
