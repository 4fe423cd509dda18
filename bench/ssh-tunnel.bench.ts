import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { Client as PgClient } from 'pg';
import { Client as SshClient, ClientChannel } from 'ssh2';
import { Database } from '../src';
import { Sshd, sshdUnavailable, startSshd } from '../test/helpers/sshd';
import { BenchSuite, SILENT } from './context';
import { BenchTable, compare, Variant } from './harness';
import { freePort } from '../test/helpers/ports';

/**
 * The database through an SSH bastion (a real OpenSSH sshd on loopback, so the bastion's crypto runs in its own
 * process as in production) four ways: direct (no SSH), bastion's tunnel handing pg in-process channel streams,
 * the same ssh2 connection behind a local 127.0.0.1 listener (the other design the issue allows), and OpenSSH's
 * own `ssh -N -L` port forward.
 */
export const sshTunnelSuite: BenchSuite = {
  name: 'ssh-tunnel',
  async run({ url, scale, log }) {
    const unavailable = sshdUnavailable();
    if (unavailable) {
      log(`skipped: ${unavailable}`);
      return [];
    }
    const target = new URL(url);
    const dbHost = target.hostname;
    const dbPort = Number(target.port || 5432);
    const sshd = await startSshd();
    const listener = await startListenerTunnel(sshd, dbHost, dbPort);
    const openssh = await startOpenSshForward(sshd, dbHost, dbPort);
    const viaPort = (port: number): string => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    };
    const sshEnv = (prefix: string): Record<string, string> => ({
      [`${prefix}SSH_HOST`]: sshd.host,
      [`${prefix}SSH_PORT`]: String(sshd.port),
      [`${prefix}SSH_USER`]: sshd.user,
      [`${prefix}SSH_PRIVATE_KEY_PATH`]: sshd.keyPath,
      [`${prefix}SSH_HOST_KEY`]: sshd.hostKeyFingerprint,
    });
    const connect = (name: string, databaseUrl: string, poolMax: number, ssh: boolean): Promise<Database> => {
      const prefix = `${name.toUpperCase()}_`;
      return Database.connect({
        name,
        env: { [`${prefix}DATABASE_URL`]: databaseUrl, [`${prefix}DB_POOL_MAX`]: String(poolMax), ...(ssh ? sshEnv(prefix) : {}) },
        logger: SILENT,
        entities: [],
        migrations: [],
      });
    };
    const four = async (poolMax: number, suffix: string): Promise<Record<'direct' | 'tunnel' | 'listener' | 'openssh', Database>> => ({
      direct: await connect(`direct${suffix}`, url, poolMax, false),
      tunnel: await connect(`tunnel${suffix}`, url, poolMax, true),
      listener: await connect(`listener${suffix}`, viaPort(listener.port), poolMax, false),
      openssh: await connect(`openssh${suffix}`, viaPort(openssh.port), poolMax, false),
    });
    const names = {
      direct: 'direct (no SSH)',
      tunnel: 'bastion tunnel: in-process channel streams (shipped)',
      listener: 'ssh2 tunnel behind a 127.0.0.1 listener',
      openssh: 'OpenSSH ssh -N -L port forward',
    } as const;
    try {
      const sequential = await four(4, 'seq');
      const wide = await four(20, 'wide');
      await sequential.direct.execute('CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(12,2) NOT NULL)');
      await sequential.direct.execute("INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 10000) g");
      let n = 0;
      const nextId = (): number => (n++ % 10000) + 1;
      const sql = 'SELECT id, name, price FROM items WHERE id = $1';
      const keys = ['direct', 'tunnel', 'listener', 'openssh'] as const;
      log(`sshd ${sshd.user}@127.0.0.1:${sshd.port}; listener on ${listener.port}; ssh -L on ${openssh.port}`);

      const lookup = await compare(
        'Primary-key lookup through an SSH bastion: direct vs bastion tunnel vs local listener vs OpenSSH -L',
        'One `SELECT … WHERE id = $1` per operation, sequential, `db.query` on a pool of 4, PostgreSQL and a real ' +
          'OpenSSH sshd both on loopback. Every SSH variant multiplexes its connections over one SSH connection to sshd ' +
          '(ed25519 key, aes128-gcm); ssh2 runs in this process, OpenSSH\'s client in its own.',
        keys.map((k): Variant => ({ name: names[k], op: () => sequential[k].query(sql, [nextId()]) })),
        { rounds: 15 * scale, iterations: 200 },
        'query',
      );
      const concurrent = await compare(
        '20 concurrent primary-key lookups through an SSH bastion',
        'One operation = 20 lookups issued at once on a pool of 20 (all 20 connections open), so 20 channels carry ' +
          'traffic at the same time over the one SSH connection.',
        keys.map((k): Variant => ({ name: names[k], op: () => Promise.all(Array.from({ length: 20 }, () => wide[k].query(sql, [nextId()]))) })),
        { rounds: 10 * scale, iterations: 20 },
        'batch of 20',
      );
      const pgClient = (k: (typeof keys)[number]): PgClient => {
        const base = { user: decodeURIComponent(target.username), password: decodeURIComponent(target.password), database: target.pathname.slice(1) };
        switch (k) {
          case 'direct':
            return new PgClient({ ...base, host: dbHost, port: dbPort });
          case 'tunnel':
            return new PgClient({ ...base, host: dbHost, port: dbPort, stream: sequential.tunnel.dataSource.transport.stream! });
          case 'listener':
            return new PgClient({ ...base, host: '127.0.0.1', port: listener.port });
          case 'openssh':
            return new PgClient({ ...base, host: '127.0.0.1', port: openssh.port });
        }
      };
      const fresh = await compare(
        'New connection through an SSH bastion: connect, SELECT 1, end',
        'A new pg connection each time: through a tunnel this opens (and closes) one more channel on the existing ' +
          'SSH connection, plus PostgreSQL\'s own startup and authentication.',
        keys.map((k): Variant => ({
          name: names[k],
          op: async () => {
            const client = pgClient(k);
            await client.connect();
            await client.query('SELECT 1');
            await client.end();
          },
        })),
        { rounds: 10 * scale, iterations: 20 },
        'connection',
      );
      const tables: BenchTable[] = [lookup, concurrent, fresh];
      return tables;
    } finally {
      await Database.closeAll();
      await listener.close();
      await openssh.close();
      await sshd.stop();
    }
  },
};

/** A local-listener tunnel: one ssh2 connection, and a 127.0.0.1 port whose every socket is piped into a new channel. */
async function startListenerTunnel(sshd: Sshd, dbHost: string, dbPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const ssh = new SshClient();
  await new Promise<void>((resolve, reject) => {
    ssh.once('ready', resolve).once('error', reject);
    ssh.connect({ host: sshd.host, port: sshd.port, username: sshd.user, privateKey: readFileSync(sshd.keyPath) });
  });
  ssh.setNoDelay(true);
  const sockets = new Set<Socket>();
  const server: Server = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    ssh.forwardOut('127.0.0.1', 0, dbHost, dbPort, (error: Error | undefined, channel: ClientChannel) => {
      if (error) return socket.destroy();
      channel.on('error', () => socket.destroy());
      socket.pipe(channel).pipe(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        ssh.end();
        server.close(() => resolve());
      }),
  };
}

/** `ssh -N -L port:db:dbport` against the sshd, with its host key in a known_hosts file; resolves once forwarding. */
async function startOpenSshForward(sshd: Sshd, dbHost: string, dbPort: number): Promise<{ port: number; close(): Promise<void> }> {
  const knownHosts = join(sshd.dir, 'bench_known_hosts');
  writeFileSync(knownHosts, await sshd.keyscan());
  const port = await freePort();
  const child: ChildProcess = spawn(
    'ssh',
    [
      '-v', '-N', '-T',
      '-L', `127.0.0.1:${port}:${dbHost}:${dbPort}`,
      '-i', sshd.keyPath,
      '-p', String(sshd.port),
      '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ExitOnForwardFailure=yes',
      '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${knownHosts}`,
      `${sshd.user}@${sshd.host}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes(`Local forwarding listening on 127.0.0.1 port ${port}`) && output.includes('Entering interactive session')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`ssh -L exited with ${code}:\n${output}`)));
  });
  child.stderr!.removeAllListeners('data');
  child.stderr!.resume();
  child.removeAllListeners('exit');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

