import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { Database, TunnelError } from '../../src';
import { connectTo } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { KEY_PASSPHRASE, SSH_PASSWORD } from '../helpers/secrets';
import { generateKeyPair, startSshServer, TestSshServer, tunnelEnv } from '../helpers/ssh-server';

describe('SSH tunnel: authentication', () => {
  const userKey = generateKeyPair();
  const encryptedKey = generateKeyPair(KEY_PASSPHRASE);
  let db: TestDatabase;
  let server: TestSshServer;
  let dir: string;
  let keyPath: string;
  let encryptedKeyPath: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    server = await startSshServer({ authorizedKeys: [userKey.public, encryptedKey.public] });
    dir = mkdtempSync(join(tmpdir(), 'bastion-ssh-auth-'));
    keyPath = join(dir, 'id_ed25519');
    encryptedKeyPath = join(dir, 'id_ed25519_encrypted');
    writeFileSync(keyPath, userKey.private);
    writeFileSync(encryptedKeyPath, encryptedKey.private);
    chmodSync(keyPath, 0o600);
    chmodSync(encryptedKeyPath, 0o600);
  });
  afterEach(() => Database.closeAll());
  afterAll(async () => {
    await server.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Connects, runs a query, and returns what the tunnel and the server saw. */
  async function queryThrough(env: Record<string, string>) {
    const loginsBefore = server.logins;
    const { database, logs } = await connectTo(db, { env: tunnelEnv(server, env) });
    const [row] = await database.query<{ answer: number }>('SELECT 41 + 1 AS answer');
    return { database, logs, answer: row?.answer, logins: server.logins - loginsBefore, health: database.dataSource.transport.health() };
  }

  it('logs in with a password and queries through the tunnel', async () => {
    const result = await queryThrough({ SSH_PASSWORD });
    expect(result.answer).toBe(42);
    expect(result.logins).toBe(1);
    expect(result.health).toMatchObject({ status: { state: 'ready' }, reconnects: 0, openChannels: 1, lastError: undefined });
    expect(result.health?.bastion).toBe(`tunnel@127.0.0.1:${server.port}`);
    expect(result.logs.messages('ssh tunnel ready')[0]).toMatchObject({ attempt: 1, hostKey: `ssh-ed25519 ${server.hostKeyFingerprint}` });
  });

  it('logs in with a private key file', async () => {
    const result = await queryThrough({ SSH_PRIVATE_KEY_PATH: keyPath });
    expect(result.answer).toBe(42);
    expect(result.logins).toBe(1);
  });

  it('logs in with an encrypted private key file and SSH_PASSPHRASE', async () => {
    const result = await queryThrough({ SSH_PRIVATE_KEY_PATH: encryptedKeyPath, SSH_PASSPHRASE: KEY_PASSPHRASE });
    expect(result.answer).toBe(42);
  });

  it('logs in with an inline encrypted SSH_PRIVATE_KEY (\\n escapes) and SSH_PASSPHRASE', async () => {
    const inline = encryptedKey.private.trim().split('\n').join('\\n');
    const result = await queryThrough({ SSH_PRIVATE_KEY: inline, SSH_PASSPHRASE: KEY_PASSPHRASE });
    expect(result.answer).toBe(42);
  });

  it('surfaces a refused password at once as a TunnelError naming the cause, and does not retry it', async () => {
    const wrong = 'wrong-ssh-Pa55word-xyz';
    const attemptsBefore = server.authAttempts;
    const started = performance.now();
    const error = await connectTo(db, { env: tunnelEnv(server, { SSH_PASSWORD: wrong }) }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toBe(
      `SSH authentication failed: the bastion tunnel@127.0.0.1:${server.port} refused password (SSH_PASSWORD) ` +
        '(All configured authentication methods failed). Check SSH_USER and that credential; the tunnel does not retry a refused login.',
    );
    expect(server.authAttempts - attemptsBefore).toBe(1);
    await server.until((s) => s.connections === 0);
    expect(inspect(error, { depth: 5 })).not.toContain(wrong);
  });

  it('refuses a key that cannot be decrypted before connecting, without quoting the passphrase', async () => {
    const acceptedBefore = server.accepted;
    const error = await connectTo(db, {
      env: tunnelEnv(server, { SSH_PRIVATE_KEY_PATH: encryptedKeyPath, SSH_PASSPHRASE: 'not-the-Passphrase' }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toMatch(
      /^The private key in SSH_PRIVATE_KEY_PATH cannot be used: .*bad passphrase.*\. Check SSH_PASSPHRASE\.$/,
    );
    expect((error as Error).message).not.toContain('not-the-Passphrase');
    expect(server.accepted).toBe(acceptedBefore);
  });

  it('asks for SSH_PASSPHRASE when an encrypted key comes without one', async () => {
    const error = await connectTo(db, { env: tunnelEnv(server, { SSH_PRIVATE_KEY_PATH: encryptedKeyPath }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toMatch(/no passphrase given\. If the key is encrypted, set SSH_PASSPHRASE\.$/);
  });

  it('keeps the password, passphrase and key out of inspect, JSON, health and the log', async () => {
    const result = await queryThrough({ SSH_PRIVATE_KEY: encryptedKey.private, SSH_PASSPHRASE: KEY_PASSPHRASE });
    const views = [
      inspect(result.database, { depth: 8 }),
      inspect(result.database.config, { depth: 8 }),
      JSON.stringify(result.database.config),
      JSON.stringify(await result.database.health()),
      JSON.stringify(result.logs.lines),
    ].join('\n');
    expect(views).not.toContain(KEY_PASSPHRASE);
    expect(views).not.toContain(encryptedKey.private.split('\n')[1]);
    expect(views).not.toContain(SSH_PASSWORD);
  });
});
