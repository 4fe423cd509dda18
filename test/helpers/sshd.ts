import { ChildProcess, execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { hostKeyFingerprint } from '../../src';
import { KEY_PASSPHRASE } from './secrets';
import { freePort } from './ports';

const run = promisify(execFile);

/** Where Debian's openssh-server puts the daemon. */
export const SSHD_PATH = '/usr/sbin/sshd';
/** OpenSSH's privilege separation directory, which sshd insists on (the package's service unit creates it). */
const PRIVSEP_DIR = '/run/sshd';

/** A real OpenSSH sshd on a loopback port, with its own config, host key and authorized keys in a temp dir. */
export interface Sshd {
  readonly host: string;
  readonly port: number;
  /** The user it lets in: the one running the tests. */
  readonly user: string;
  readonly dir: string;
  /** `ssh-ed25519 AAAA…` of its host key. */
  readonly hostPublicKey: string;
  readonly hostKeyFingerprint: string;
  /** An unencrypted ed25519 user key made by ssh-keygen, in authorized_keys. */
  readonly keyPath: string;
  /** An ed25519 user key encrypted by ssh-keygen with KEY_PASSPHRASE, in authorized_keys. */
  readonly encryptedKeyPath: string;
  /** Pids of the processes serving one SSH connection each (the listener's children). */
  sessionPids(): number[];
  /** SIGKILLs every session process (the listener stays): each client sees its connection die. */
  killSessions(): number;
  /** known_hosts lines for it, as `ssh-keyscan` prints them (`[127.0.0.1]:port ssh-ed25519 …`). */
  keyscan(): Promise<string>;
  /** What sshd wrote to stderr (for failure messages). */
  readonly log: readonly string[];
  stop(): Promise<void>;
}

/** Why sshd tests cannot run here, or undefined when they can. */
export function sshdUnavailable(): string | undefined {
  try {
    accessSync(SSHD_PATH, constants.X_OK);
  } catch {
    return `${SSHD_PATH} not found: install openssh-server (apt-get install -y openssh-server openssh-client), as .ci/run does`;
  }
  return undefined;
}

/**
 * `describe` that runs only where sshd is installed; elsewhere it is skipped with a visible message (the only
 * reason to skip: a broken sshd fails the tests instead).
 */
export function describeWithSshd(name: string, fn: () => void): void {
  const reason = sshdUnavailable();
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  console.warn(`SKIPPED "${name}": ${reason}`);
  // Skipped only here, when no sshd can run, and named so in the report.
  const skipped = describe.skip;
  skipped(`${name} [SKIPPED: ${reason}]`, fn);
}

export async function startSshd(): Promise<Sshd> {
  if (!existsSync(PRIVSEP_DIR)) mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'bastion-sshd-'));
  const file = (name: string): string => join(dir, name);
  await Promise.all([
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bastion-test-host', '-f', file('host_ed25519')]),
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bastion-test-user', '-f', file('id_plain')]),
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', KEY_PASSPHRASE, '-C', 'bastion-test-encrypted', '-f', file('id_encrypted')]),
  ]);
  writeFileSync(file('authorized_keys'), readFileSync(file('id_plain.pub'), 'utf8') + readFileSync(file('id_encrypted.pub'), 'utf8'));
  const port = await freePort();
  writeFileSync(
    file('sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${file('host_ed25519')}`,
      `PidFile ${file('sshd.pid')}`,
      `AuthorizedKeysFile ${file('authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding yes',
      'X11Forwarding no',
      'PermitTTY no',
      'LoginGraceTime 20',
      'MaxStartups 50',
      'LogLevel INFO',
      '',
    ].join('\n'),
  );
  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', file('sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => fail(new Error('sshd did not start listening within 10 s')), 10_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${log.join('\n')}`));
    };
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      log.push(...lines);
      if (lines.some((l) => l.includes(`Server listening on 127.0.0.1 port ${port}`))) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`sshd exited with code ${code} before listening`)));
  });
  child.removeAllListeners('exit');
  const hostPublicKey = readFileSync(file('host_ed25519.pub'), 'utf8').trim();
  const sessionPids = (): number[] => childrenOf(child.pid!);
  return {
    host: '127.0.0.1',
    port,
    user: userInfo().username,
    dir,
    hostPublicKey,
    hostKeyFingerprint: hostKeyFingerprint(hostPublicKey),
    keyPath: file('id_plain'),
    encryptedKeyPath: file('id_encrypted'),
    log,
    sessionPids,
    killSessions() {
      return sessionPids().filter(kill).length;
    },
    async keyscan() {
      const { stdout } = await run('ssh-keyscan', ['-p', String(port), '-t', 'ed25519', '127.0.0.1']);
      return stdout;
    },
    async stop() {
      sessionPids().forEach(kill);
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Hashes the host names of a known_hosts file in place, with OpenSSH's own `ssh-keygen -H`. */
export async function hashKnownHosts(path: string): Promise<void> {
  await run('ssh-keygen', ['-H', '-f', path]);
  rmSync(`${path}.old`, { force: true });
}

/** SIGKILLs `pid`; false when it had already exited (a session may end between listing and killing). */
function kill(pid: number): boolean {
  try {
    process.kill(pid, 'SIGKILL');
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ESRCH') return false;
    throw error;
  }
}

/** Pids whose parent is `pid`, from /proc (`pid (comm) state ppid …`; comm may hold spaces and parentheses). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === pid && fields[0] !== 'Z') children.push(Number(entry));
  }
  return children;
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

