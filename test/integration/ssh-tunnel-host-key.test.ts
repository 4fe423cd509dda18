import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, HostKeyMismatchError } from '../../src';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { SSH_PASSWORD } from '../helpers/secrets';
import { generateKeyPair, startSshServer, TestSshServer, tunnelEnv } from '../helpers/ssh-server';

describe('SSH tunnel: host key verification', () => {
  let db: TestDatabase;
  let dir: string;
  const servers: TestSshServer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'bastion-hostkey-'));
  });
  afterEach(() => Database.closeAll());
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(): Promise<TestSshServer> {
    const started = await startSshServer();
    servers.push(started);
    return started;
  }

  /** Env without SSH_HOST_KEY (known_hosts or insecure mode instead). */
  function unpinned(s: TestSshServer, extra: Record<string, string>): Record<string, string> {
    const { SSH_HOST_KEY: _pinned, ...env } = tunnelEnv(s, { SSH_PASSWORD, ...extra });
    return env;
  }

  function knownHosts(name: string, lines: string[]): string {
    const path = join(dir, name);
    writeFileSync(path, `${lines.join('\n')}\n`);
    return path;
  }

  it('connects when the bastion presents the pinned fingerprint', async () => {
    const bastion = await server();
    const { database } = await connectTo(db, { env: tunnelEnv(bastion, { SSH_PASSWORD }) });
    expect(await database.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('refuses a changed host key and sends nothing', async () => {
    const bastion = await server();
    const pinned = bastion.hostKeyFingerprint;
    bastion.presentOtherHostKey();
    const error = await connectTo(db, { env: tunnelEnv(bastion, { SSH_PASSWORD, SSH_HOST_KEY: pinned }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    const mismatch = error as HostKeyMismatchError;
    expect(mismatch.presentedFingerprint).toBe(bastion.hostKeyFingerprint);
    expect(mismatch.message).toBe(
      `Host key verification failed for 127.0.0.1:${bastion.port}: the server presented ${bastion.hostKeyFingerprint}, ` +
        `which does not match the pinned SSH_HOST_KEY (${pinned}) (the presented key is ssh-ed25519). If you trust this ` +
        `server, pin it with SSH_HOST_KEY=${bastion.hostKeyFingerprint} (or add it to the SSH_KNOWN_HOSTS file); if you ` +
        'did not expect the key to change, do not connect.',
    );
    expect(bastion.authAttempts).toBe(0);
    expect(bastion.logins).toBe(0);
    expect(bastion.channels + bastion.peakChannels).toBe(0);
  });

  it('accepts a bastion listed in known_hosts as [host]:port', async () => {
    const bastion = await server();
    const path = knownHosts('plain', [
      '# a comment, and an entry of another host',
      `other.example.com ${generateKeyPair().public}`,
      `[127.0.0.1]:${bastion.port},[localhost]:${bastion.port} ${bastion.hostPublicKey}`,
    ]);
    const { database } = await connectTo(db, { env: unpinned(bastion, { SSH_KNOWN_HOSTS: path }) });
    expect(await database.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });

  it('refuses a bastion that known_hosts does not list, and says how to pin it', async () => {
    const bastion = await server();
    const path = knownHosts('unlisted', [`[127.0.0.1]:1 ${bastion.hostPublicKey}`]);
    const error = await connectTo(db, { env: unpinned(bastion, { SSH_KNOWN_HOSTS: path }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect((error as Error).message).toContain(`which does not match any key in ${path}: it has no entry for [127.0.0.1]:${bastion.port}`);
    expect((error as Error).message).toContain(`pin it with SSH_HOST_KEY=${bastion.hostKeyFingerprint}`);
    expect(bastion.authAttempts).toBe(0);
  });

  it('refuses a key that known_hosts lists for the host under another key, or marks @revoked', async () => {
    const bastion = await server();
    const old = generateKeyPair().public;
    const changed = knownHosts('changed', [`[127.0.0.1]:${bastion.port} ${old}`]);
    const changedError = await connectTo(db, { env: unpinned(bastion, { SSH_KNOWN_HOSTS: changed }) }).catch((e: unknown) => e);
    expect(changedError).toBeInstanceOf(HostKeyMismatchError);
    expect((changedError as Error).message).toContain('the host key has CHANGED');

    const revoked = knownHosts('revoked', [`@revoked * ${bastion.hostPublicKey}`, `[127.0.0.1]:${bastion.port} ${bastion.hostPublicKey}`]);
    const revokedError = await connectTo(db, { env: unpinned(bastion, { SSH_KNOWN_HOSTS: revoked }) }).catch((e: unknown) => e);
    expect(revokedError).toBeInstanceOf(HostKeyMismatchError);
    expect((revokedError as Error).message).toContain(`it is marked @revoked in ${revoked} (line 1)`);
    expect(bastion.authAttempts).toBe(0);
  });

  it('with SSH_INSECURE_ACCEPT_ANY_HOST_KEY=true connects but warns at every connect, reconnects included', async () => {
    const bastion = await server();
    const { database, logs } = await connectTo(db, {
      env: unpinned(bastion, { SSH_INSECURE_ACCEPT_ANY_HOST_KEY: 'true' }),
    });
    expect(await database.query('SELECT 3 AS three')).toEqual([{ three: 3 }]);
    expect(logs.messages('ssh host key NOT verified')).toEqual([
      expect.objectContaining({
        level: 'warn',
        hostKey: `ssh-ed25519 ${bastion.hostKeyFingerprint}`,
        fix: `pin it with SSH_HOST_KEY=${bastion.hostKeyFingerprint} once you have checked it out of band`,
      }),
    ]);
    bastion.dropAll();
    await logs.waitFor('ssh tunnel ready', 2);
    expect(logs.messages('ssh host key NOT verified')).toHaveLength(2);
    expect(await database.query('SELECT 4 AS four')).toEqual([{ four: 4 }]);
  });
});
