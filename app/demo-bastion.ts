import { connect, createServer } from 'node:net';
import { AuthContext, Connection, ParsedKey, Server, ServerChannel, TcpipRequestInfo, utils } from 'ssh2';
import { hostKeyFingerprint, loadConfig } from '../src';

/** An SSH bastion on loopback, so `npm start -- --via-ssh` shows the whole tunnel path with no SSH server of your own. */
export interface DemoBastion {
  /** The demo's variables with SSH_* pointing at this bastion (key auth, host key pinned). */
  readonly env: NodeJS.ProcessEnv;
  /** One line for the output: where it listens and how the client trusts it. */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * Starts an in-process SSH server (ssh2) on 127.0.0.1 with a throwaway host key and user key generated now. It lets
 * in only that user key, and forwards only to the database `env` names, as a locked-down bastion would. The
 * returned env pins its host key fingerprint (SSH_HOST_KEY) and carries the user key inline (SSH_PRIVATE_KEY).
 */
export async function startDemoBastion(env: NodeJS.ProcessEnv): Promise<DemoBastion> {
  const plain = Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('SSH_')));
  const { host, port } = loadConfig(plain).database;
  const hostKey = utils.generateKeyPairSync('ed25519', { comment: 'bastion-demo-host' });
  const userKey = utils.generateKeyPairSync('ed25519', { comment: 'bastion-demo-user' });
  const allowed = parsePublicKey(userKey.public);
  const user = 'demo';
  const clients = new Set<Connection>();

  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => undefined);
    client.on('authentication', (ctx: AuthContext) => {
      if (ctx.method !== 'publickey' || ctx.username !== user || !allowed.getPublicSSH().equals(ctx.key.data)) {
        return ctx.reject(['publickey']);
      }
      if (!ctx.signature || !ctx.blob) return ctx.accept();
      return allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject(['publickey']);
    });
    client.on('tcpip', (accept: () => ServerChannel, reject: () => void, info: TcpipRequestInfo) => {
      if (info.destIP !== host || info.destPort !== port) return reject();
      const upstream = connect({ host: info.destIP, port: info.destPort, noDelay: true });
      upstream.once('error', () => reject());
      upstream.once('connect', () => {
        const channel = accept();
        channel.on('error', () => upstream.destroy());
        upstream.on('error', () => channel.close());
        upstream.on('close', () => channel.close());
        channel.pipe(upstream).pipe(channel);
      });
    });
  });
  // Our own listener, so the SSH sockets get TCP_NODELAY: results of concurrent queries must not wait for delayed ACKs.
  const listener = createServer({ noDelay: true }, (socket) => server.injectSocket(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  const listening = typeof address === 'object' && address ? address.port : 0;
  const fingerprint = hostKeyFingerprint(hostKey.public);
  return {
    env: {
      ...plain,
      SSH_HOST: '127.0.0.1',
      SSH_PORT: String(listening),
      SSH_USER: user,
      SSH_PRIVATE_KEY: userKey.private,
      SSH_HOST_KEY: fingerprint,
    },
    description: `in-process demo bastion ${user}@127.0.0.1:${listening}, ed25519 key login, host key ${fingerprint} pinned`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of clients) client.end();
        listener.close(() => resolve());
      }),
  };
}

function parsePublicKey(line: string): ParsedKey {
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error) throw parsed;
  return Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
}
