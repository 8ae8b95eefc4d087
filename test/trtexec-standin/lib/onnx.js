'use strict';
/**
 * The little of an ONNX file the stand-in needs: graph inputs/outputs with types and dims, nodes
 * (op type, name, inputs, outputs) and initializer dims. A minimal protobuf wire walk, so the
 * stand-in shares no code with Kiln's own ONNX reader (it is a test double of trtexec).
 */
const fs = require('node:fs');

const ELEMENT_TYPES = {
  1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'double', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};
const ELEMENT_BYTES = { float: 4, uint8: 1, int8: 1, uint16: 2, int16: 2, int32: 4, int64: 8, bool: 1, float16: 2, double: 8, uint32: 4, uint64: 8, bfloat16: 2 };

class Reader {
  constructor(buf, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }
  more() {
    return this.pos < this.end;
  }
  varint() {
    let result = 0;
    let scale = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  }
  /** Yields [field, wireType, value] where value is a number or a sub-Reader for length-delimited fields. */
  *fields() {
    while (this.more()) {
      const key = this.varint();
      const field = Math.floor(key / 8);
      const wire = key & 7;
      if (wire === 0) yield [field, wire, this.varint()];
      else if (wire === 1) { this.pos += 8; yield [field, wire, null]; }
      else if (wire === 5) { this.pos += 4; yield [field, wire, null]; }
      else if (wire === 2) {
        const len = this.varint();
        const sub = new Reader(this.buf, this.pos, this.pos + len);
        this.pos += len;
        yield [field, wire, sub];
      } else throw new Error(`unsupported wire type ${wire}`);
    }
  }
  string() {
    return this.buf.toString('utf8', this.pos, this.end);
  }
  /** A repeated int64 field's payload, packed. */
  packed() {
    const out = [];
    while (this.more()) out.push(this.varint());
    return out;
  }
}

function readValueInfo(r) {
  const info = { name: '', type: 'float', dims: [] };
  for (const [f, , v] of r.fields()) {
    if (f === 1) info.name = v.string();
    if (f === 2) {
      for (const [tf, , tv] of v.fields()) {
        if (tf !== 1) continue; // tensor_type
        for (const [ttf, , ttv] of tv.fields()) {
          if (ttf === 1) info.type = ELEMENT_TYPES[ttv] || `type${ttv}`;
          if (ttf === 2) {
            for (const [sf, , sv] of ttv.fields()) {
              if (sf !== 1) continue;
              let dim = null;
              for (const [df, , dv] of sv.fields()) {
                if (df === 1) dim = dv;
                if (df === 2) dim = dv.string();
              }
              info.dims.push(dim);
            }
          }
        }
      }
    }
  }
  return info;
}

function readNode(r) {
  const node = { inputs: [], outputs: [], name: '', opType: '', domain: '' };
  for (const [f, , v] of r.fields()) {
    if (f === 1) node.inputs.push(v.string());
    if (f === 2) node.outputs.push(v.string());
    if (f === 3) node.name = v.string();
    if (f === 4) node.opType = v.string();
    if (f === 7) node.domain = v.string();
  }
  return node;
}

function readInitializer(r) {
  const t = { name: '', dims: [], type: 'float' };
  for (const [f, w, v] of r.fields()) {
    if (f === 1) {
      if (w === 2) t.dims.push(...v.packed());
      else t.dims.push(v);
    }
    if (f === 2) t.type = ELEMENT_TYPES[v] || `type${v}`;
    if (f === 8) t.name = v.string();
  }
  return t;
}

/** Reads the model at `path`; throws on a file that is not an ONNX ModelProto. */
function readOnnx(path) {
  const buf = fs.readFileSync(path);
  const model = { irVersion: 0, producerName: '', producerVersion: '', opset: 0, graph: null, size: buf.length };
  for (const [f, , v] of new Reader(buf).fields()) {
    if (f === 1) model.irVersion = v;
    if (f === 2) model.producerName = v.string();
    if (f === 3) model.producerVersion = v.string();
    if (f === 8) {
      let domain = '';
      let version = 0;
      for (const [of, , ov] of v.fields()) {
        if (of === 1) domain = ov.string();
        if (of === 2) version = ov;
      }
      if (domain === '' || domain === 'ai.onnx') model.opset = version;
    }
    if (f === 7) {
      const graph = { name: '', nodes: [], inputs: [], outputs: [], initializers: [] };
      for (const [gf, , gv] of v.fields()) {
        if (gf === 1) graph.nodes.push(readNode(gv));
        if (gf === 2) graph.name = gv.string();
        if (gf === 5) graph.initializers.push(readInitializer(gv));
        if (gf === 11) graph.inputs.push(readValueInfo(gv));
        if (gf === 12) graph.outputs.push(readValueInfo(gv));
      }
      const init = new Set(graph.initializers.map((t) => t.name));
      graph.inputs = graph.inputs.filter((i) => !init.has(i.name));
      model.graph = graph;
    }
  }
  if (!model.graph || model.graph.nodes.length === 0 || model.irVersion === 0) {
    throw new Error('not an ONNX model with a graph');
  }
  return model;
}

/**
 * A copy of the model file with every float initializer's data zeroed in place (raw_data, field 9,
 * and packed float_data, field 4, of each TensorProto): the same bytes otherwise, so ONNX Runtime
 * runs the same graph without its weights. What an engine whose weights were stripped computes
 * when nobody refits it is not in NVIDIA's sources; the stand-in plays it this way (README.md).
 */
function zeroWeights(path) {
  const buf = Buffer.from(fs.readFileSync(path));
  for (const [f, , v] of new Reader(buf).fields()) {
    if (f !== 7) continue;
    for (const [gf, , gv] of v.fields()) {
      if (gf !== 5) continue;
      let type = 1;
      const data = [];
      for (const [tf, tw, tv] of gv.fields()) {
        if (tf === 2) type = tv;
        if ((tf === 9 || tf === 4) && tw === 2) data.push(tv);
      }
      // Floating-point weights only: integer initializers are shapes and indices, not weights.
      if ([1, 10, 11, 16].includes(type)) for (const r of data) buf.fill(0, r.pos, r.end);
    }
  }
  return buf;
}

function weightBytes(model) {
  return model.graph.initializers.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1) * (ELEMENT_BYTES[t.type] || 4), 0);
}

module.exports = { readOnnx, weightBytes, zeroWeights, ELEMENT_BYTES };
