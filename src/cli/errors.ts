/** The CLI's own errors; their exit statuses follow the usual convention (2: usage, 1: failure). */

/** The command line itself is wrong: a missing flag, a malformed value. Exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran and its outcome is a failure (a build failed); what to say was already said. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
  constructor(readonly exitCode: number, message = '') {
    super(message);
  }
}
