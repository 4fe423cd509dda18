import { performance } from 'node:perf_hooks';
import { ConnectionError, Database, TunnelError } from '../../src';
import { TunnelSocket } from '../../src/connection/tunnel-socket';
import { connectTo, Connected } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { SSH_PASSWORD } from '../helpers/secrets';
import { startSshServer, TestSshServer, tunnelEnv } from '../helpers/ssh-server';

describe('SSH tunnel: drops, keepalives and reconnection', () => {
  let db: TestDatabase;
  const servers: TestSshServer[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => Database.closeAll());
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await db.drop();
  });

  async function bastionAndDatabase(env: Record<string, string> = {}): Promise<{ bastion: TestSshServer } & Connected> {
    const bastion = await startSshServer();
    servers.push(bastion);
    const connected = await connectTo(db, {
      env: tunnelEnv(bastion, { SSH_PASSWORD, SSH_RECONNECT_MAX_DELAY_MS: '400', ...env }),
    });
    return { bastion, ...connected };
  }

  it('recovers when the bastion drops every connection mid-load: all later queries succeed', async () => {
    const { bastion, database, logs } = await bastionAndDatabase({ DB_POOL_MAX: '8' });
    const failures: unknown[] = [];
    let succeeded = 0;
    let dropped = false;
    const worker = async (id: number): Promise<void> => {
      for (let i = 0; i < 40; i++) {
        try {
          await database.query('SELECT pg_sleep(0.002), $1::int AS id', [id]);
          succeeded++;
          if (succeeded === 40 && !dropped) {
            dropped = true;
            expect(bastion.dropAll()).toBe(1);
          }
        } catch (error) {
          failures.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
    expect(dropped).toBe(true);
    // Only the statements in flight at the drop fail, and only with a connection-level error.
    expect(failures.length).toBeLessThanOrEqual(8);
    for (const failure of failures) expect(failure).toBeInstanceOf(ConnectionError);
    expect(succeeded + failures.length).toBe(320);

    const after = await Promise.all(Array.from({ length: 50 }, (_, i) => database.query<{ n: number }>('SELECT $1::int AS n', [i])));
    expect(after.map(([row]) => row?.n)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(database.dataSource.transport.health()).toMatchObject({
      status: { state: 'ready' },
      reconnects: 1,
      lastError: expect.stringMatching(new RegExp(`^The SSH connection to tunnel@127\\.0\\.0\\.1:${bastion.port} (closed|broke)`)),
    });
    expect(bastion.logins).toBe(2);
    expect(bastion.connections).toBe(1);
    expect(logs.messages('ssh tunnel dropped')).toHaveLength(1);
    expect(logs.messages('ssh tunnel reconnecting')[0]).toMatchObject({ level: 'warn', attempt: 1 });
  });

  it('lets a new query wait for the reconnect instead of failing', async () => {
    const { bastion, database, logs } = await bastionAndDatabase({ DB_POOL_IDLE_TIMEOUT_MS: '1' });
    await database.query('SELECT 1');
    bastion.dropAll();
    await logs.waitFor('ssh tunnel reconnecting');
    expect(database.dataSource.transport.health()?.status.state).toBe('reconnecting');
    const [row] = await database.query<{ ok: boolean }>('SELECT true AS ok');
    expect(row?.ok).toBe(true);
    expect(logs.messages('ssh tunnel ready')).toHaveLength(2);
  });

  it('fails a query with a TunnelError after the connection timeout while the bastion stays down, then recovers', async () => {
    const { bastion, database, logs } = await bastionAndDatabase({ DB_POOL_CONNECTION_TIMEOUT_MS: '700' });
    bastion.setDown(true);
    bastion.dropAll();
    await logs.waitFor('ssh tunnel reconnecting', 2);
    const started = performance.now();
    const error = await database.query('SELECT 1').catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(650);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toMatch(
      new RegExp(
        '^No connection through the SSH tunnel within 700 ms connection timeout \\(DB_POOL_CONNECTION_TIMEOUT_MS\\): ' +
          `The SSH tunnel to tunnel@127\\.0\\.0\\.1:${bastion.port} is reconnecting \\(attempt \\d+\\); no connection to ` +
          'PostgreSQL could be opened through it in time\\. Last error: ',
      ),
    );
    const health = await database.health();
    expect(health.ok).toBe(false);
    expect(health.tunnel?.status.state).toMatch(/^(reconnecting|connecting)$/);

    bastion.setDown(false);
    const [row] = await database.query<{ back: boolean }>('SELECT true AS back');
    expect(row?.back).toBe(true);
    expect(database.dataSource.transport.health()?.status.state).toBe('ready');
  });

  it('detects a silent bastion with keepalives and reconnects', async () => {
    const { bastion, database, logs } = await bastionAndDatabase({ SSH_KEEPALIVE_INTERVAL_MS: '100', SSH_KEEPALIVE_COUNT_MAX: '2' });
    expect(bastion.silence()).toBe(1);
    const dropped = await logs.waitFor('ssh tunnel dropped');
    expect(dropped.error).toBe(
      `The SSH bastion tunnel@127.0.0.1:${bastion.port} stopped answering: 2 keepalives went unanswered ` +
        '(SSH_KEEPALIVE_INTERVAL_MS=100, SSH_KEEPALIVE_COUNT_MAX=2)',
    );
    const [row] = await database.query<{ alive: boolean }>('SELECT true AS alive');
    expect(row?.alive).toBe(true);
    expect(database.dataSource.transport.health()?.reconnects).toBe(1);
  });

  it('stops reconnecting when the bastion refuses the login after a drop, and fails fast with the cause', async () => {
    const { bastion, database, logs } = await bastionAndDatabase();
    bastion.refuseLogins(true);
    const attempts = bastion.authAttempts;
    bastion.dropAll();
    await logs.waitFor('ssh tunnel failed');
    expect(bastion.authAttempts - attempts).toBe(1);
    const health = database.dataSource.transport.health();
    expect(health?.status).toMatchObject({ state: 'failed', reason: expect.stringMatching(/^SSH authentication failed/) });

    const started = performance.now();
    const error = await database.query('SELECT 1').catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(500);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as Error).message).toMatch(
      new RegExp(`^The SSH tunnel to tunnel@127\\.0\\.0\\.1:${bastion.port} stopped reconnecting: SSH authentication failed: `),
    );
  });

  it('turns a channel the bastion cannot open into a TunnelError, and the tunnel stays up', async () => {
    const { bastion, database } = await bastionAndDatabase();
    const socket = database.dataSource.transport.stream!() as TunnelSocket;
    const failed = new Promise<Error>((resolve) => socket.once('error', resolve));
    socket.connect(1, '127.0.0.1');
    const error = await failed;
    expect(error).toBeInstanceOf(TunnelError);
    expect(error.message).toMatch(
      new RegExp(`^The bastion tunnel@127\\.0\\.0\\.1:${bastion.port} could not open a connection to 127\\.0\\.0\\.1:1 \\(`),
    );
    expect(bastion.channelsRejected).toBe(1);
    expect(database.dataSource.transport.health()?.status.state).toBe('ready');
    expect(await database.query('SELECT 5 AS five')).toEqual([{ five: 5 }]);
  });
});
