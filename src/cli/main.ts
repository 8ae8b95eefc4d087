/**
 * `kiln`: the command line of the farm. Every command talks to the HTTP API (`--url`, `KILN_URL`)
 * with a bearer token (`--token`, `KILN_TOKEN`); `--json` prints the API's JSON instead of tables.
 * Exit status: 0 done, 1 failed (an API error, a failed build, a bad download), 2 usage error.
 */
import { Command, CommanderError, Option } from 'commander';
import { KilnApiError, KilnConnectionError } from './client';
import { registerAdmin } from './commands/admin';
import { registerBuild } from './commands/build';
import { registerBuilds } from './commands/builds';
import { registerCalibration } from './commands/calibration';
import { registerExport } from './commands/export';
import { registerFarm } from './commands/farm';
import { registerFetch } from './commands/fetch';
import { registerModels } from './commands/models';
import { registerProvenance } from './commands/provenance';
import { registerTokens } from './commands/tokens';
import { CLI_VERSION, type Io } from './context';
import { CommandFailed, UsageError } from './errors';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export function createProgram(io: Io): Command {
  const program = new Command('kiln');
  program
    .description('Kiln: a build farm for inference engines')
    .version(CLI_VERSION, '-V, --version', 'print the CLI version')
    .addOption(new Option('--url <url>', 'base URL of the Kiln API').env('KILN_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'bearer token (reader, builder or admin)').env('KILN_TOKEN'))
    .option('--json', 'print the API\'s JSON instead of tables')
    .showHelpAfterError('(add --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    // Usage errors come back as exceptions, so `run` decides the exit status (2) instead of commander.
    .exitOverride();
  registerModels(program, io);
  registerTokens(program, io);
  registerCalibration(program, io);
  registerBuild(program, io);
  registerBuilds(program, io);
  registerFetch(program, io);
  registerExport(program, io);
  registerProvenance(program, io);
  registerFarm(program, io);
  registerAdmin(program, io);
  return program;
}

/** Runs the CLI on `argv` (without node and script); resolves with the exit status. */
export async function run(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: Io): number {
  const say = (text: string) => io.stderr.write(`${text}\n`);
  if (err instanceof CommanderError) {
    // Commander printed its message (or the help/version) already.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
  }
  if (err instanceof UsageError) {
    say(`error: ${err.message}`);
    return 2;
  }
  if (err instanceof CommandFailed) {
    if (err.message) say(`error: ${err.message}`);
    return err.exitCode;
  }
  if (err instanceof KilnApiError) {
    say(`error: ${err.message}`);
    if (err.hint) say(err.hint);
    return 1;
  }
  if (err instanceof KilnConnectionError || err instanceof Error) {
    say(`error: ${err.message}`);
    return 1;
  }
  say(`error: ${String(err)}`);
  return 1;
}

if (require.main === module) {
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
