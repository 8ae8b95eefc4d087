/**
 * Bad input: retrying will not help (a broken model, a missing shape, an option a toolchain does
 * not accept). Raised by core checks at submit time and by toolchain steps alike; the worker turns
 * it into BullMQ's UnrecoverableError, so a bad request fails once instead of on every attempt.
 */
export class BuildInputError extends Error {
  override name = 'BuildInputError';
}
