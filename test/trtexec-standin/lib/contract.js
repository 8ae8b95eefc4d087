'use strict';
/**
 * The played release's trtexec contract: the entry of src/core/tensorrt/trtexec-releases.json
 * (generated from NVIDIA's sources, see docs/trtexec-contract.md) for the TensorRT version the
 * stand-in plays, and the small pieces of trtexec's parser every option shares: the argument
 * map, splitToStringVec, splitNameAndValue and libstdc++'s stoi/stof/stod, whose std::invalid_argument
 * what() is just the function's name. Test code may read src data; src never refers to the stand-in.
 */
const path = require('node:path');

const TABLE = require(path.join(__dirname, '..', '..', '..', 'src', 'core', 'tensorrt', 'trtexec-releases.json'));

class InvalidArgument extends Error {}

const parts = (v) => v.split('.').map(Number);
const compare = (a, b) => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] || 0) !== (b[i] || 0)) return (a[i] || 0) - (b[i] || 0);
  return 0;
};
const RELEASES = Object.keys(TABLE.releases).sort((a, b) => compare(parts(a), parts(b)));

/** The release branch whose trtexec `trt` ({ major, minor, patch }) ships; throws outside the table. */
function releaseFor(trt) {
  const wanted = [trt.major, trt.minor, trt.patch];
  const same = RELEASES.filter((v) => compare(parts(v).slice(0, 2), wanted.slice(0, 2)) === 0 && compare(parts(v), wanted) <= 0);
  const version = same[same.length - 1];
  if (!version) {
    throw new Error(`KILN_STANDIN_TRT must be a TensorRT release the trtexec contract covers (${RELEASES[0]} to ${RELEASES[RELEASES.length - 1]}) but is ${wanted.join('.')}`);
  }
  return { version, ...TABLE.releases[version] };
}

/** `Unknown option: {} {}` with the values in order. */
function fill(message, ...values) {
  let i = 0;
  return message.message.replace(/\{\}/g, () => String(values[i++]));
}

/** sampleUtils.cpp splitToStringVec: a trailing separator gives a trailing "", "" gives nothing. */
function splitToStringVec(s, separator, maxSplit = -1) {
  const out = [];
  for (let start = 0; start < s.length; ) {
    if (maxSplit >= 0 && out.length === maxSplit) {
      out.push(s.slice(start));
      break;
    }
    let at = s.indexOf(separator, start);
    if (at < 0) at = s.length;
    out.push(s.slice(start, at));
    if (at === s.length - 1) out.push('');
    start = at + 1;
  }
  return out;
}

/** splitNameAndValue: `'a:b':v` takes the quoted name whole; otherwise the value follows the last ':'. */
function splitNameAndValue(release, s) {
  const quoted = splitToStringVec(s, "'");
  if (quoted.length !== 1) {
    if (quoted.length !== 3) {
      // std::to_string(size - 1) of a size_t: an empty spec wraps around.
      const count = quoted.length === 0 ? '18446744073709551615' : String(quoted.length - 1);
      throw new InvalidArgument(fill(release.grammar.memPoolSize.pair.errors.quotes, s, count));
    }
    return [quoted[0] + quoted[1], quoted[2].slice(1)];
  }
  const range = splitToStringVec(s, ':');
  return [range.slice(0, Math.max(1, range.length - 1)).join(':'), range[range.length - 1]];
}

/** removeSingleQuotationMarks */
const unquote = (name) => name.split("'").join('');

/** std::stoi: a leading integer, else std::invalid_argument("stoi"). */
function stoi(text) {
  const m = /^\s*[+-]?\d+/.exec(text);
  if (!m) throw new InvalidArgument('stoi');
  return Number(m[0]);
}

/** std::stof / std::stod: a leading decimal number. */
function stof(text, what = 'stof') {
  const m = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text);
  if (!m) throw new InvalidArgument(what);
  return Number(m[0]);
}

/** C++ std::to_string of a double: six decimals. */
const toString = (n) => n.toFixed(6);

module.exports = { TABLE, releaseFor, fill, splitToStringVec, splitNameAndValue, unquote, stoi, stof, toString, InvalidArgument };
