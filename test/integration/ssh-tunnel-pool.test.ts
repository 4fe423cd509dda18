import { createHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { ConnectionError, createDataSource, Database } from '../../src';
import { TunnelSocket } from '../../src/connection/tunnel-socket';
import { backendCount, connectTo, settledBackendCount, testEnv } from '../helpers/connect';
import { createTestDatabase, TestDatabase } from '../helpers/database';
import { captureLogs } from '../helpers/logs';
import { SSH_PASSWORD } from '../helpers/secrets';
import { startSshServer, TestSshServer, tunnelEnv } from '../helpers/ssh-server';

/** Sockets, servers and timers (ref'd or not): what could keep jest from exiting, or fire after close. */
const TRACKED = new Set(['Timeout', 'TCPWRAP', 'TCPCONNECTWRAP', 'TCPSERVERWRAP', 'PIPEWRAP', 'PIPECONNECTWRAP', 'SHUTDOWNWRAP']);

/**
 * Records every socket, server and timer created from now on (in this test, not in earlier files sharing the
 * worker; not jest's own) and lists those not yet closed or cleared, with where they were created.
 */
function trackResources(): { alive(): Promise<string[]>; stop(): void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(asyncId, type) {
      if (!TRACKED.has(type)) return;
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 40;
      const frames = (new Error().stack ?? '').split('\n').filter((f) => f.includes(' at ') && !f.includes('node:internal') && !f.includes('trackResources'));
      Error.stackTraceLimit = limit;
      // Jest may run this file in its own process, next to its reporter's status timer: not ours.
      if (frames.slice(0, 5).some((f) => f.includes('/node_modules/@jest/reporters/'))) return;
      live.set(asyncId, `${type} ${frames.slice(0, 6).map((f) => f.trim()).join(' < ')}`);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return {
    async alive() {
      await new Promise((resolve) => setImmediate(resolve)); // destroy hooks are emitted asynchronously
      return [...live.values()];
    },
    stop: () => hook.disable(),
  };
}

/** The in-process bastion has closed everything it had open for us, on both sides. */
const idle = (s: TestSshServer): boolean => s.connections === 0 && s.channels === 0 && s.upstreams === 0;

describe('SSH tunnel: the pool over one SSH connection', () => {
  let db: TestDatabase;
  let bastion: TestSshServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    bastion = await startSshServer();
  });
  afterEach(() => Database.closeAll());
  afterAll(async () => {
    await bastion.close();
    await db.drop();
  });

  it('runs 20 concurrent queries on 20 pooled connections, all channels of ONE SSH connection', async () => {
    const accepted = bastion.accepted;
    const { database, applicationName } = await connectTo(db, { env: tunnelEnv(bastion, { SSH_PASSWORD, DB_POOL_MAX: '20' }) });
    const started = performance.now();
    const rows = await Promise.all(
      Array.from({ length: 20 }, (_, i) => database.query<{ i: number }>('SELECT pg_sleep(0.3), $1::int AS i', [i])),
    );
    const elapsed = performance.now() - started;
    expect(rows.map(([row]) => row?.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(elapsed).toBeLessThan(4000); // concurrent: one after the other would take 20 × 0.3 s = 6 s
    expect(bastion.accepted - accepted).toBe(1);
    expect(bastion.connections).toBe(1);
    expect(bastion.peakChannels).toBe(20);
    expect(await backendCount(applicationName)).toBe(20);
    expect(database.poolSnapshot()).toMatchObject({ total: 20, idle: 20 });
    expect(database.dataSource.transport.health()).toMatchObject({ openChannels: 20, status: { state: 'ready' } });
    const health = await database.health();
    expect(health).toMatchObject({ ok: true, tunnel: { openChannels: 20, reconnects: 0 } });
  });

  it('close() closes the pool, then the tunnel, and leaves no socket, timer or listener behind', async () => {
    const resources = trackResources();
    const processListeners = (): Record<string, number> =>
      Object.fromEntries(process.eventNames().map((name) => [String(name), process.listenerCount(name)]));
    const listenersBefore = processListeners();
    try {
      const { database, applicationName, logs } = await connectTo(db, {
        env: tunnelEnv(bastion, { SSH_PASSWORD, DB_POOL_MAX: '4', DB_POOL_MIN: '2', SSH_KEEPALIVE_INTERVAL_MS: '1000' }),
      });
      await Promise.all(Array.from({ length: 4 }, () => database.query('SELECT pg_sleep(0.05)')));
      expect((await resources.alive()).length).toBeGreaterThan(0);
      await database.close();
      await bastion.until(idle);
      expect(await settledBackendCount(applicationName, 0)).toBe(0);
      expect(await resources.alive()).toEqual([]);
      expect(processListeners()).toEqual(listenersBefore);
      expect(database.dataSource.transport.health()).toMatchObject({ status: { state: 'closed' }, openChannels: 0 });
      const order = logs.lines.map((l) => l.message).filter((m) => m === 'ssh tunnel closed' || m === 'closed');
      expect(order).toEqual(['ssh tunnel closed', 'closed']);
    } finally {
      resources.stop();
    }
  });

  it('close() while reconnecting stops the loop and leaves nothing behind', async () => {
    const resources = trackResources();
    const { database, logs } = await connectTo(db, { env: tunnelEnv(bastion, { SSH_PASSWORD }) });
    bastion.setDown(true);
    try {
      bastion.dropAll();
      await logs.waitFor('ssh tunnel reconnecting', 2);
      await database.close();
      await bastion.until(idle);
      expect(await resources.alive()).toEqual([]);
    } finally {
      bastion.setDown(false);
      resources.stop();
    }
  });

  it('closes a channel that arrives after its connection attempt was given up', async () => {
    const { database } = await connectTo(db, { env: tunnelEnv(bastion, { SSH_PASSWORD }) });
    const opened = bastion.channelsOpened;
    const socket = database.dataSource.transport.stream!() as TunnelSocket;
    const { hostname, port } = new URL(db.url);
    socket.on('error', () => undefined);
    socket.connect(Number(port), hostname);
    socket.destroy();
    await bastion.until((s) => s.channelsOpened === opened + 1 && s.channels === 1);
    expect(database.dataSource.transport.health()?.openChannels).toBe(1); // the pool's own connection only
    expect(await database.query('SELECT 7 AS seven')).toEqual([{ seven: 7 }]);
  });

  it('a connect that fails behind the tunnel (no such database) closes the tunnel again', async () => {
    const url = new URL(db.url);
    url.pathname = '/no_such_database_behind_the_bastion';
    const error = await Database.connect({
      env: { DATABASE_URL: url.toString(), ...tunnelEnv(bastion, { SSH_PASSWORD }) },
      logger: captureLogs().logger,
      entities: [],
      migrations: [],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('3D000');
    await bastion.until(idle);
  });

  it('createDataSource() opens the tunnel in initialize() and closes it in destroy()', async () => {
    const logs = captureLogs();
    const dataSource = createDataSource({
      env: testEnv(db, tunnelEnv(bastion, { SSH_PASSWORD })),
      logger: logs.logger,
      entities: [],
      migrations: [],
    });
    expect(dataSource.transport.health()?.status.state).toBe('closed');
    await dataSource.initialize();
    expect(await dataSource.query('SELECT 6 AS six')).toEqual([{ six: 6 }]);
    expect(dataSource.transport.health()?.status.state).toBe('ready');
    await dataSource.destroy();
    expect(dataSource.transport.health()?.status.state).toBe('closed');
    await bastion.until((s) => s.connections === 0);
  });
});
