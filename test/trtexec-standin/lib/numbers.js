'use strict';
/** Number formatting as trtexec's C++ streams print it, and the precision losses the stand-in simulates. */

/** `std::ostream << float` with the default precision: %g with 6 significant digits; inf, -inf, nan. */
function cppFloat(value) {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, expText] = value.toExponential(5).split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) return `${trimZeros(mantissa)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trimZeros(value.toFixed(5 - exp));
}

/** `1.50000` -> `1.5`, `2.000` -> `2`; integers stay as they are. */
function trimZeros(text) {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds to IEEE half precision and back (round to nearest even, overflow to inf, subnormals kept). */
function roundHalf(x) {
  if (!Number.isFinite(x)) return x;
  const a = Math.abs(x);
  if (a >= 65520) return x > 0 ? Infinity : -Infinity;
  if (a < 2 ** -24 / 2) return x < 0 ? -0 : 0;
  // Subnormal halves are multiples of 2^-24; normal ones keep 11 significant bits.
  const exp = Math.max(Math.floor(Math.log2(a)), -14);
  const step = 2 ** (exp - 10);
  return Math.sign(x) * roundEven(a / step) * step;
}

/** Rounds to bfloat16 (the top 16 bits of a float32, round to nearest even). */
function roundBf16(x) {
  if (!Number.isFinite(x)) return x;
  f32[0] = x;
  const bits = u32[0];
  const lsb = (bits >>> 16) & 1;
  u32[0] = ((bits + 0x7fff + lsb) >>> 16) << 16;
  return f32[0];
}

/** Rounds to fp8 e4m3 (3 mantissa bits, largest 448). */
function roundFp8(x) {
  if (!Number.isFinite(x)) return x;
  const a = Math.min(Math.abs(x), 448);
  if (a < 2 ** -10) return 0;
  const exp = Math.max(Math.floor(Math.log2(a)), -6);
  const step = 2 ** (exp - 3);
  return Math.sign(x) * Math.min(roundEven(a / step) * step, 448);
}

/** Symmetric per-tensor int8 quantisation of a whole array, as an uncalibrated INT8 engine would lose. */
function quantizeInt8(values) {
  let max = 0;
  for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  if (max === 0) return values;
  const scale = max / 127;
  return values.map((v) => (Number.isFinite(v) ? Math.round(v / scale) * scale : v));
}

function roundEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The element-wise rounding a precision mode causes; null for full fp32. */
function elementRounding(precision) {
  if (precision.includes('fp8')) return roundFp8;
  if (precision.includes('fp16') || precision.includes('best')) return roundHalf;
  if (precision.includes('bf16')) return roundBf16;
  return null;
}

module.exports = { cppFloat, roundHalf, roundBf16, roundFp8, quantizeInt8, elementRounding };
