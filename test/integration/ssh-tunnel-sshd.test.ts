import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { ConnectionError, Database, HostKeyMismatchError } from '../../src';
import { backendCount, connectTo, Connected } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { KEY_PASSPHRASE } from '../helpers/secrets';
import { describeWithSshd, hashKnownHosts, Sshd, startSshd } from '../helpers/sshd';

describeWithSshd('SSH tunnel: through OpenSSH sshd', () => {
  let db: TestDatabase;
  let sshd: Sshd;

  beforeAll(async () => {
    [db, sshd] = await Promise.all([createTestDatabase(), startSshd()]);
  });
  afterEach(() => Database.closeAll());
  afterAll(async () => {
    await sshd?.stop();
    await db?.drop();
  });

  function env(extra: Record<string, string>): Record<string, string> {
    return {
      SSH_HOST: sshd.host,
      SSH_PORT: String(sshd.port),
      SSH_USER: sshd.user,
      SSH_HOST_KEY: sshd.hostKeyFingerprint,
      SSH_PRIVATE_KEY_PATH: sshd.keyPath,
      SSH_RECONNECT_MAX_DELAY_MS: '500',
      ...extra,
    };
  }

  function connect(extra: Record<string, string> = {}): Promise<Connected> {
    return connectTo(db, { env: env(extra) });
  }

  it('logs in with a key and runs 20 concurrent queries on 20 pooled connections over ONE SSH connection', async () => {
    const { database, applicationName } = await connect({ DB_POOL_MAX: '20' });
    const rows = await Promise.all(
      Array.from({ length: 20 }, (_, i) => database.query<{ i: number }>('SELECT pg_sleep(0.2), $1::int AS i', [i])),
    );
    expect(rows.map(([row]) => row?.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(await backendCount(applicationName)).toBe(20);
    expect(sshd.sessionPids()).toHaveLength(1);
    expect(database.dataSource.transport.health()).toMatchObject({ status: { state: 'ready' }, openChannels: 20 });
  });

  it('logs in with a passphrase-protected key made by ssh-keygen', async () => {
    const { database } = await connect({ SSH_PRIVATE_KEY_PATH: sshd.encryptedKeyPath, SSH_PASSPHRASE: KEY_PASSPHRASE });
    expect(await database.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('logs in with a key held by ssh-agent (SSH_AGENT)', async () => {
    const socketPath = join(sshd.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        agent.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('SSH_AUTH_SOCK') && resolve());
        agent.once('exit', (code) => reject(new Error(`ssh-agent exited with ${code}`)));
      });
      await promisify(execFile)('ssh-add', [sshd.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: socketPath } });
      const { database } = await connect({ SSH_PRIVATE_KEY_PATH: '', SSH_AGENT: socketPath });
      expect(await database.query('SELECT 4 AS four')).toEqual([{ four: 4 }]);
    } finally {
      await Database.closeAll();
      agent.removeAllListeners('exit');
      await new Promise<void>((resolve) => {
        agent.once('exit', () => resolve());
        agent.kill('SIGTERM');
      });
    }
  });

  it('verifies sshd against a known_hosts file from ssh-keyscan, plain and hashed by ssh-keygen -H', async () => {
    const path = join(sshd.dir, 'known_hosts');
    writeFileSync(path, await sshd.keyscan());
    const noPin = { SSH_HOST_KEY: '', SSH_KNOWN_HOSTS: path };
    const plain = await connect(noPin);
    expect(await plain.database.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    await Database.closeAll();

    await hashKnownHosts(path);
    const hashed = await connect(noPin);
    expect(await hashed.database.query('SELECT 3 AS three')).toEqual([{ three: 3 }]);
  });

  it('refuses sshd when another host key is pinned, naming the one it presented', async () => {
    const error = await connect({ SSH_HOST_KEY: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect((error as HostKeyMismatchError).presentedFingerprint).toBe(sshd.hostKeyFingerprint);
  });

  it('reconnects when its session process is killed mid-load; every later query succeeds', async () => {
    const { database, logs } = await connect({ DB_POOL_MAX: '6' });
    let succeeded = 0;
    let killed = 0;
    const failures: unknown[] = [];
    const worker = async (): Promise<void> => {
      for (let i = 0; i < 30; i++) {
        try {
          await database.query('SELECT pg_sleep(0.002)');
          succeeded++;
          if (succeeded === 30) killed = sshd.killSessions();
        } catch (error) {
          failures.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    expect(killed).toBe(1);
    for (const failure of failures) expect(failure).toBeInstanceOf(ConnectionError);
    await logs.waitFor('ssh tunnel ready', 2);
    const after = await Promise.all(Array.from({ length: 30 }, (_, i) => database.query<{ n: number }>('SELECT $1::int AS n', [i])));
    expect(after.map(([row]) => row?.n)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(database.dataSource.transport.health()).toMatchObject({ status: { state: 'ready' }, reconnects: 1 });
    expect(logs.messages('ssh tunnel dropped')).toHaveLength(1);
    expect(sshd.sessionPids()).toHaveLength(1);
  });
});
