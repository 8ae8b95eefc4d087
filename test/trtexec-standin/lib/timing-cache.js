'use strict';
/**
 * The stand-in's timing cache: a magic line and JSON of entries. An entry stands for a timed
 * tactic choice and is keyed like TensorRT's (layer kind, shapes, precision, device, version), so
 * a cache made on another GPU or TensorRT version is readable but never hits, and the file grows
 * with every layer it has not seen.
 */
const fs = require('node:fs');
const crypto = require('node:crypto');

const MAGIC = 'KILN-STANDIN-TIMING-CACHE 1\n';

/** { entries } from `path`; { missing: true } when absent; { corrupt: true } when unreadable. */
function loadCache(path) {
  let buf;
  try {
    buf = fs.readFileSync(path);
  } catch {
    return { missing: true, entries: {}, bytes: 0 };
  }
  if (buf.length === 0) return { missing: true, entries: {}, bytes: 0 };
  if (!buf.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) return { corrupt: true, entries: {}, bytes: buf.length };
  try {
    return { entries: JSON.parse(buf.subarray(MAGIC.length).toString()).entries, bytes: buf.length };
  } catch {
    return { corrupt: true, entries: {}, bytes: buf.length };
  }
}

function saveCache(path, entries) {
  const sorted = Object.fromEntries(Object.keys(entries).sort().map((k) => [k, entries[k]]));
  const buf = Buffer.concat([Buffer.from(MAGIC), Buffer.from(JSON.stringify({ entries: sorted }))]);
  fs.writeFileSync(path, buf);
  return buf.length;
}

/** One key per ONNX node: op type, its weights' dims, the profile's shapes, precision, device, version. */
function layerKeys(model, profile, precision, cc, trt) {
  const dims = new Map(model.graph.initializers.map((t) => [t.name, t.dims.join('x')]));
  const shapes = profile ? Object.entries(profile.opt).map(([n, d]) => `${n}=${d.join('x')}`).join(';') : 'static';
  const mode = [...precision].sort().join('+') || 'fp32';
  return model.graph.nodes.map((node) => {
    const weights = node.inputs.filter((i) => dims.has(i)).map((i) => dims.get(i)).join(',');
    return `${node.opType}(${weights})[${shapes}]@${mode}/sm${cc.replace('.', '')}/trt${trt.text}`;
  });
}

function tacticFor(key) {
  return `0x${crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

module.exports = { loadCache, saveCache, layerKeys, tacticFor };
