import { EventEmitter } from 'node:events';
import { connect, createServer, Server as NetServer, Socket } from 'node:net';
import { AuthContext, Connection, ParsedKey, Server as SshServer, TcpipRequestInfo, utils } from 'ssh2';
import { hostKeyFingerprint } from '../../src';
import { SSH_PASSWORD } from './secrets';

/** A key pair made with ssh2's generator: `private` in OpenSSH format, `public` as an authorized_keys line. */
export interface KeyPair {
  readonly private: string;
  readonly public: string;
}

/** Options of the in-process bastion. */
export interface SshServerOptions {
  /** Login name it accepts. Default: `tunnel`. */
  readonly user?: string;
  /** Password it accepts. Default: SSH_PASSWORD from helpers/secrets (so the log scan proves it never leaks). */
  readonly password?: string;
  /** Public keys (authorized_keys lines) it accepts. */
  readonly authorizedKeys?: readonly string[];
}

/** Counters the tests assert on; every change emits `'change'`. */
interface Counters {
  /** TCP connections open now (SSH connections, authenticated or not). */
  connections: number;
  /** TCP connections accepted since start. */
  accepted: number;
  /** Authentication requests other than the initial `none` probe. */
  authAttempts: number;
  /** Successful logins since start. */
  logins: number;
  /** Forwarded (direct-tcpip) channels open now. */
  channels: number;
  /** Most channels open at once. */
  peakChannels: number;
  /** Channels accepted since start. */
  channelsOpened: number;
  /** Channel requests refused (target unreachable). */
  channelsRejected: number;
  /** TCP connections from the server to forwarding targets (PostgreSQL) not yet closed. */
  upstreams: number;
}

/**
 * A real SSH server (ssh2's `Server`) on 127.0.0.1, in the test process, that forwards direct-tcpip channels to
 * wherever the client asks (the test PostgreSQL). It can misbehave on request: drop every connection, stop
 * answering, refuse logins, or present a different host key.
 */
export interface TestSshServer extends Readonly<Counters> {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** `ssh-ed25519 AAAA…` of the key it presents now. */
  readonly hostPublicKey: string;
  /** `SHA256:…` of the key it presents now. */
  readonly hostKeyFingerprint: string;
  /** From now on, present another (freshly generated) host key, as a rebuilt or impostor bastion would. */
  presentOtherHostKey(): void;
  /** Refuse (or accept again) every login. */
  refuseLogins(refuse: boolean): void;
  /** While down, every new TCP connection is closed at once, before the SSH banner (a bastion that is restarting). */
  setDown(down: boolean): void;
  /** Destroys every TCP connection at once, like a crashed bastion; returns how many. */
  dropAll(): number;
  /** Stops reading from every open connection (a black-holed bastion): nothing is answered, nothing closes. */
  silence(): number;
  /** Resolves when `predicate` holds, re-checked at every change of the counters (no polling). */
  until(predicate: (server: TestSshServer) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** An ed25519 key pair, optionally encrypted with a passphrase (OpenSSH format, bcrypt KDF). */
export function generateKeyPair(passphrase?: string): KeyPair {
  const pair = passphrase
    ? utils.generateKeyPairSync('ed25519', { passphrase, cipher: 'aes256-ctr', comment: 'bastion-test' })
    : utils.generateKeyPairSync('ed25519', { comment: 'bastion-test' });
  return { private: pair.private, public: pair.public };
}

export async function startSshServer(options: SshServerOptions = {}): Promise<TestSshServer> {
  const user = options.user ?? 'tunnel';
  const password = options.password ?? SSH_PASSWORD;
  const authorized = (options.authorizedKeys ?? []).map((line) => parsePublic(line));
  const events = new EventEmitter();
  const counters: Counters = { connections: 0, accepted: 0, authAttempts: 0, logins: 0, channels: 0, peakChannels: 0, channelsOpened: 0, channelsRejected: 0, upstreams: 0 };
  const changed = (): void => void events.emit('change');
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let refusing = false;
  let down = false;

  const makeSsh = (hostKey: KeyPair): SshServer => {
    const ssh = new SshServer({ hostKeys: [hostKey.private] }, (client: Connection) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx: AuthContext) => authenticate(ctx));
      client.on('ready', () => {
        counters.logins++;
        changed();
      });
      client.on('tcpip', (accept, reject, info: TcpipRequestInfo) => forward(accept, reject, info));
    });
    return ssh;
  };

  const authenticate = (ctx: AuthContext): void => {
    if (ctx.method === 'none') return ctx.reject(['password', 'publickey']);
    counters.authAttempts++;
    changed();
    if (refusing || ctx.username !== user) return ctx.reject();
    switch (ctx.method) {
      case 'password':
        return ctx.password === password ? ctx.accept() : ctx.reject();
      case 'publickey': {
        const key = authorized.find((k) => k.getPublicSSH().equals(ctx.key.data));
        if (!key) return ctx.reject();
        if (!ctx.signature || !ctx.blob) return ctx.accept(); // the client asks whether this key would do
        return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject();
      }
      default:
        return ctx.reject();
    }
  };

  const forward = (
    accept: () => import('ssh2').ServerChannel,
    reject: () => void,
    info: TcpipRequestInfo,
  ): void => {
    const upstream = connect({ port: info.destPort, host: info.destIP, noDelay: true });
    let opened = false;
    upstreams.add(upstream);
    counters.upstreams++;
    upstream.once('close', () => {
      upstreams.delete(upstream);
      counters.upstreams--;
      changed();
    });
    upstream.once('error', () => {
      if (opened) return;
      counters.channelsRejected++;
      changed();
      reject();
    });
    upstream.once('connect', () => {
      opened = true;
      const channel = accept();
      counters.channels++;
      counters.channelsOpened++;
      counters.peakChannels = Math.max(counters.peakChannels, counters.channels);
      changed();
      let counted = true;
      const done = (): void => {
        if (!counted) return;
        counted = false;
        counters.channels--;
        changed();
        upstream.destroy();
      };
      channel.on('error', done);
      channel.on('close', done);
      upstream.on('error', () => channel.close());
      upstream.on('close', () => {
        channel.close();
        done();
      });
      channel.pipe(upstream).pipe(channel);
    });
  };

  let hostKey = generateKeyPair();
  let ssh = makeSsh(hostKey);
  const tcp: NetServer = createServer((socket) => {
    sockets.add(socket);
    counters.accepted++;
    counters.connections++;
    changed();
    socket.on('error', () => undefined);
    socket.once('close', () => {
      sockets.delete(socket);
      counters.connections--;
      changed();
    });
    if (down) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    ssh.injectSocket(socket);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const server: Omit<TestSshServer, keyof Counters> = {
    host: '127.0.0.1',
    port,
    user,
    get hostPublicKey() {
      return hostKey.public;
    },
    get hostKeyFingerprint() {
      return hostKeyFingerprint(hostKey.public);
    },
    presentOtherHostKey() {
      hostKey = generateKeyPair();
      ssh = makeSsh(hostKey);
    },
    refuseLogins(refuse) {
      refusing = refuse;
    },
    setDown(value) {
      down = value;
    },
    dropAll() {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      for (const upstream of upstreams) upstream.destroy();
      return count;
    },
    silence() {
      for (const socket of sockets) socket.pause();
      // ssh2 resumes a paused socket when it reads; take its data away instead.
      for (const socket of sockets) socket.removeAllListeners('data');
      return sockets.size;
    },
    until(predicate, timeoutMs = 10_000) {
      if (predicate(server as TestSshServer)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const onChange = (): void => {
          if (!predicate(server as TestSshServer)) return;
          clearTimeout(timer);
          events.off('change', onChange);
          resolve();
        };
        const timer = setTimeout(() => {
          events.off('change', onChange);
          reject(new Error(`ssh test server: condition not met within ${timeoutMs} ms (${JSON.stringify(counters)})`));
        }, timeoutMs);
        events.on('change', onChange);
      });
    },
    close() {
      server.dropAll();
      return new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
  // Every counter as a live read-only property.
  for (const key of Object.keys(counters) as (keyof Counters)[]) {
    Object.defineProperty(server, key, { get: () => counters[key], enumerable: true });
  }
  return server as TestSshServer;
}

function parsePublic(line: string): ParsedKey {
  const parsed = utils.parseKey(line);
  if (parsed instanceof Error) throw parsed;
  return Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
}

/** SSH_* variables that reach `server` with its host key pinned; add the auth (SSH_PASSWORD, …) in `extra`. */
export function tunnelEnv(server: TestSshServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SSH_HOST: server.host,
    SSH_PORT: String(server.port),
    SSH_USER: server.user,
    SSH_HOST_KEY: server.hostKeyFingerprint,
    ...extra,
  };
}
