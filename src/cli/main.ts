import 'reflect-metadata';
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import winston from 'winston';
import { BastionDataSource } from '../connection/data-source';
import { BastionError } from '../errors/bastion-error';
import { ConfigError } from '../errors/config-error';
import { createLogger } from '../logging/logger';
import { health } from './commands/health';
import { writeMigrationFile } from './commands/migration-files';
import { migrationGenerate } from './commands/migration-generate';
import { migrationRevert } from './commands/migration-revert';
import { MigrationTransactionMode, migrationRun } from './commands/migration-run';
import { migrationShow } from './commands/migration-show';
import { openDataSource } from './data-source';
import { createOutput, Output } from './output';
import { UsageError } from './usage-error';

const USAGE = `Usage: bastion <command> [options]

Commands:
  migration:run [--dry-run] [--transaction each|all|none]
                                 apply pending migrations, each in its own transaction by default;
                                 --dry-run prints their SQL and changes nothing
  migration:revert [--steps N|all]
                                 revert the last N applied migrations (default 1)
  migration:show                 list migrations, applied and pending, with their timestamps
  migration:create <name> [--dir migrations]
                                 write an empty migration
  migration:generate <name> [--dir migrations]
                                 write a migration with the SQL that brings the schema in line with the entities
  health [--json]                print the health report; exit 1 when unhealthy

Options for every command:
  --verbose                      log what happens (and print stack traces of errors)
  --help                         this text

Configuration is the application's: .env and the environment (DATABASE_URL or DB_*, SSH_* for the tunnel).
Exit codes: 0 success, 1 failure, 2 wrong usage.`;

type Flags = Record<string, string | boolean | undefined>;

interface Invocation {
  readonly command: string;
  readonly positionals: string[];
  readonly flags: Flags;
}

function parse(argv: readonly string[]): Invocation {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'dry-run': { type: 'boolean' },
        transaction: { type: 'string' },
        steps: { type: 'string' },
        dir: { type: 'string' },
        json: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command = 'help', ...rest] = positionals;
    return { command, positionals: rest, flags: values };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs one CLI invocation; returns the exit code. Errors are printed as one paragraph, stacks only with --verbose. */
export async function runCli(argv: readonly string[], out: Output = createOutput()): Promise<number> {
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    const invocation = parse(argv);
    verbose = invocation.flags.verbose === true;
    if (invocation.flags.help || invocation.command === 'help') {
      out.line(USAGE);
      return 0;
    }
    return await dispatch(invocation, out, cliLogger(verbose));
  } catch (error) {
    process.stderr.write(`${describeError(error, verbose)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

async function dispatch({ command, positionals, flags }: Invocation, out: Output, logger: winston.Logger): Promise<number> {
  const dir = typeof flags.dir === 'string' ? flags.dir : 'migrations';
  switch (command) {
    case 'migration:run':
      return withDataSource(logger, async (ds) => {
        await migrationRun(ds, out, { dryRun: flags['dry-run'] === true, transaction: transactionMode(flags.transaction) });
        return 0;
      });
    case 'migration:revert':
      return withDataSource(logger, async (ds) => {
        await migrationRevert(ds, out, steps(flags.steps));
        return 0;
      });
    case 'migration:show':
      return withDataSource(logger, async (ds) => {
        await migrationShow(ds, out);
        return 0;
      });
    case 'migration:create': {
      const path = writeMigrationFile(dir, requiredName(positionals, command), [], []);
      out.ok(`Created ${relative(process.cwd(), path)}: fill in up() and down(), then run migration:run.`);
      return 0;
    }
    case 'migration:generate':
      return withDataSource(logger, async (ds) => {
        await migrationGenerate(ds, out, requiredName(positionals, command), dir);
        return 0;
      });
    case 'health':
      return (await health(out, logger, flags.json === true)).ok ? 0 : 1;
    default:
      throw new UsageError(`Unknown command "${command}". Run \`bastion help\` for the list of commands.`);
  }
}

async function withDataSource(logger: winston.Logger, fn: (ds: BastionDataSource) => Promise<number>): Promise<number> {
  const ds = await openDataSource(logger);
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

/** Log lines about failures the CLI reports itself, in its one-paragraph error; shown only with --verbose. */
const REPORTED_BY_THE_CLI = new Set(['query failed', 'slow query', 'connect failed', 'ssh tunnel failed to open']);

/** Warnings (e.g. an unverified SSH host key) go to stderr; with --verbose, everything down to each query. */
function cliLogger(verbose: boolean): winston.Logger {
  const logger = createLogger({ level: verbose ? 'debug' : 'warn', format: process.stderr.isTTY ? 'pretty' : 'json' });
  if (!verbose) {
    const dropReported = winston.format((info) => (REPORTED_BY_THE_CLI.has(String(info.message)) ? false : info));
    logger.format = winston.format.combine(dropReported(), logger.format);
  }
  return logger;
}

function transactionMode(value: unknown): MigrationTransactionMode {
  if (value === undefined) return 'each';
  if (value === 'each' || value === 'all' || value === 'none') return value;
  throw new UsageError(`--transaction must be each, all or none (got ${JSON.stringify(value)}).`);
}

function steps(value: unknown): number | 'all' {
  if (value === undefined) return 1;
  if (value === 'all') return 'all';
  if (typeof value === 'string' && /^[1-9]\d*$/.test(value)) return Number(value);
  throw new UsageError(`--steps must be a positive number or "all" (got ${JSON.stringify(value)}).`);
}

function requiredName(positionals: readonly string[], command: string): string {
  const name = positionals.join(' ').trim();
  if (!name) throw new UsageError(`${command} needs a name, e.g. \`bastion ${command} add-account-index\`.`);
  return name;
}

/** One paragraph: what failed, why, what to do; the stack trace only when asked for. */
export function describeError(error: unknown, verbose: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  let text: string;
  if (error instanceof ConfigError) text = `${message}\nFix these variables (in the environment or .env) and run again.`;
  else if (error instanceof UsageError) text = `${message}\n\n${USAGE}`;
  else if (error instanceof BastionError) text = message;
  else text = `Unexpected error: ${message}`;
  if (verbose && error instanceof Error && error.stack) {
    text += `\n\n${error.stack}`;
    if (error.cause instanceof Error && error.cause.stack) text += `\nCaused by: ${error.cause.stack}`;
  } else if (!(error instanceof ConfigError) && !(error instanceof UsageError)) {
    text += '\n(run with --verbose for details)';
  }
  return `Error: ${text}`;
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${describeError(error, true)}\n`);
      process.exitCode = 1;
    },
  );
}
