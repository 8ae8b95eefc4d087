'use strict';
/**
 * trtexec's log lines (samples/common/logging.h): `[MM/DD/YYYY-HH:MM:SS] [I] message`, INFO and
 * VERBOSE on stdout, WARNING/ERROR on stderr, `[TRT] ` before messages of the library itself, and
 * the `&&&& RUNNING|PASSED|FAILED` test lines on stdout.
 */
const SEVERITY_STREAM = { V: 'stdout', I: 'stdout', W: 'stderr', E: 'stderr', F: 'stderr' };

function stamp(date = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(date.getMonth() + 1)}/${p(date.getDate())}/${date.getFullYear()}-${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

class Log {
  constructor({ verbose = false } = {}) {
    this.verbose = verbose;
  }
  line(severity, message) {
    if (severity === 'V' && !this.verbose) return;
    const text = message === '' ? `[${stamp()}] [${severity}]\n` : `[${stamp()}] [${severity}] ${message}\n`;
    process[SEVERITY_STREAM[severity]].write(text);
  }
  info(message = '') { this.line('I', message); }
  warn(message) { this.line('W', message); }
  error(message) { this.line('E', message); }
  verboseLine(message) { this.line('V', message); }
  /** A message of the TensorRT library rather than of trtexec. */
  trt(severity, message) { this.line(severity, `[TRT] ${message}`); }
  raw(text) { process.stdout.write(`${text}\n`); }
}

module.exports = { Log, stamp };
