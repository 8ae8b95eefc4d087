/** What every command gets from the global options: the client, and where and how to print. */
import type { Command } from 'commander';
import { KilnClient } from './client';

export interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

export interface OutputStream {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
}

export interface Io {
  stdout: OutputStream;
  stderr: OutputStream;
}

export const CLI_VERSION: string = require('../../package.json').version;

export class CliContext {
  readonly client: KilnClient;
  readonly json: boolean;

  constructor(readonly options: GlobalOptions, readonly io: Io) {
    this.client = new KilnClient({ url: options.url, token: options.token, userAgent: `kiln-cli/${CLI_VERSION}` });
    this.json = Boolean(options.json);
  }

  /** A line of human output (stdout). */
  print(text = ''): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Machine output: the API's JSON, pretty-printed. */
  printJson(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Prints JSON in --json mode, else the human form. */
  output(value: unknown, human: () => string): void {
    if (this.json) this.printJson(value);
    else this.print(human());
  }

  /** A remark for people (stderr), kept out of machine output. */
  note(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}

/** The context of a command's action: global options come from the program, wherever they were typed. */
export function contextOf(command: Command, io: Io): CliContext {
  return new CliContext(command.optsWithGlobals() as GlobalOptions, io);
}
