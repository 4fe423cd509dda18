import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Client, ClientChannel, ConnectConfig } from 'ssh2';
import type { SshSettings } from '../config/settings';
import { TunnelError } from '../errors/connection-errors';
import type { Log } from '../logging/logger';
import { reconnectDelayMs } from './backoff';
import { HostKeyCheck, hostKeyPolicy, HostKeyPolicy, HostKeyVerdict, prepareHostKeyCheck } from './host-key';
import type { StreamFactory } from './pool-options';
import { authMethod, SshAuth, sshAuth } from './ssh-auth';
import { describeDrop, SshFailure, sshFailure } from './ssh-failure';
import type { Transport, TunnelHealth, TunnelState } from './transport';
import { ChannelBroker, TunnelSocket } from './tunnel-socket';

/** What the tunnel needs besides its settings. */
export interface SshTunnelOptions {
  readonly log: Log;
  /** Prefix of the variables of a named database (`ANALYTICS_`), to name them in messages. */
  readonly envPrefix?: string;
}

/** One SSH connection to the bastion: our own TCP socket (so it can always be destroyed) and its close. */
interface Session {
  readonly client: Client;
  readonly socket: Socket;
  readonly closed: Promise<void>;
  /** `ssh-ed25519 SHA256:…` of the key the bastion presented. */
  hostKey: string | undefined;
}

/** Where the tunnel is in its life; `idle` until the first `open()`. One switch per decision reads it. */
type Phase =
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting'; readonly attempt: number; readonly session: Session }
  | { readonly kind: 'ready'; readonly session: Session; readonly since: Date }
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly timer: NodeJS.Timeout; readonly at: number }
  | { readonly kind: 'failed'; readonly error: TunnelError; readonly since: Date }
  | { readonly kind: 'closed' };

/** How long `close()` lets the bastion acknowledge the disconnect before the socket is destroyed. */
const CLOSE_GRACE_MS = 1000;

/**
 * The SSH tunnel to PostgreSQL: ONE ssh2 connection to the bastion, and one forwarded `direct-tcpip` channel per
 * pooled connection, handed to pg as an in-process stream (no local port). Host keys are verified before anything
 * is sent. When the connection drops it reconnects with capped exponential backoff and jitter; a refused login or
 * host key stops it for good. New pooled connections wait for a reconnect up to the pool's connection timeout and
 * then fail with a TunnelError saying why; queries on connections that were open when it dropped fail with a
 * ConnectionError. `close()` leaves no socket, timer or listener behind.
 */
export class SshTunnel implements Transport {
  readonly stream: StreamFactory;
  readonly #settings: SshSettings;
  readonly #log: Log;
  readonly #envPrefix: string;
  readonly #bastion: string;
  readonly #policy: HostKeyPolicy;
  #auth: SshAuth | undefined;
  #phase: Phase = { kind: 'idle' };
  #opening: Promise<void> | undefined;
  #reconnects = 0;
  #lastError: string | undefined;
  /** Every live socket handed to pg; `#waiting` are those queued until the tunnel is ready again. */
  readonly #sockets = new Set<TunnelSocket>();
  readonly #waiting = new Map<TunnelSocket, { readonly host: string; readonly port: number }>();
  /** Sockets of every SSH connection not fully closed yet, failed attempts included: `close()` awaits them. */
  readonly #unclosed = new Set<Promise<void>>();

  constructor(settings: SshSettings, options: SshTunnelOptions) {
    this.#settings = settings;
    this.#envPrefix = options.envPrefix ?? '';
    this.#bastion = `${settings.user}@${settings.host}:${settings.port}`;
    this.#log = options.log;
    this.#policy = hostKeyPolicy(settings, this.#envPrefix);
    const broker: ChannelBroker = {
      request: (socket, host, port) => this.#request(socket, host, port),
      forget: (socket) => this.#forget(socket),
      unavailable: (host, port, cause) => this.#unavailable(host, port, cause),
    };
    this.stream = () => new TunnelSocket(broker);
  }

  /** Connects to the bastion (one attempt: a startup failure is reported, not retried). */
  open(): Promise<void> {
    switch (this.#phase.kind) {
      case 'idle':
      case 'closed':
        break;
      case 'connecting':
      case 'ready':
      case 'reconnecting':
      case 'failed':
        return this.#opening ?? Promise.resolve();
      default:
        return unreachable(this.#phase);
    }
    this.#reconnects = 0;
    this.#lastError = undefined;
    const started = performance.now();
    const opening = this.#connect(1).then(
      (session) => {
        if (!this.#isConnecting(session)) throw new TunnelError(`The SSH tunnel to ${this.#bastion} was closed while it was opening.`);
        this.#becomeReady(session, 1, false, started);
      },
      (failure: SshFailure) => {
        if (this.#phase.kind !== 'closed') this.#phase = { kind: 'closed' };
        this.#lastError = failure.error.message;
        this.#log.error('ssh tunnel failed to open', { bastion: this.#bastion, error: failure.error.message });
        throw failure.error;
      },
    );
    this.#opening = opening;
    opening.then(
      () => this.#settleOpening(opening),
      () => this.#settleOpening(opening),
    );
    return opening;
  }

  /** Destroys every channel, stops reconnecting and ends the SSH connection; resolves when its socket closed. */
  async close(): Promise<void> {
    const phase = this.#phase;
    this.#phase = { kind: 'closed' };
    const closed = new TunnelError(`The SSH tunnel to ${this.#bastion} was closed.`);
    for (const socket of [...this.#sockets]) socket.destroy(this.#waiting.has(socket) ? closed : undefined);
    this.#sockets.clear();
    this.#waiting.clear();
    switch (phase.kind) {
      case 'idle':
      case 'closed':
        await Promise.all([...this.#unclosed]); // e.g. the socket of a failed first attempt
        return;
      case 'reconnecting':
        clearTimeout(phase.timer);
        break;
      case 'connecting':
        phase.session.socket.destroy();
        await phase.session.closed;
        break;
      case 'ready':
        await endSession(phase.session);
        break;
      case 'failed':
        break;
      default:
        unreachable(phase);
    }
    await Promise.all([...this.#unclosed]);
    this.#log.info('ssh tunnel closed', { bastion: this.#bastion, reconnects: this.#reconnects });
  }

  health(): TunnelHealth {
    let openChannels = 0;
    for (const socket of this.#sockets) if (socket.connected) openChannels++;
    return {
      status: this.#state(),
      bastion: this.#bastion,
      reconnects: this.#reconnects,
      openChannels,
      lastError: this.#lastError,
    };
  }

  #state(): TunnelState {
    const phase = this.#phase;
    switch (phase.kind) {
      case 'idle':
      case 'closed':
        return { state: 'closed' };
      case 'connecting':
        return { state: 'connecting', attempt: phase.attempt };
      case 'ready':
        return { state: 'ready', since: phase.since };
      case 'reconnecting':
        return { state: 'reconnecting', attempt: phase.attempt, nextAttemptInMs: Math.max(0, phase.at - Date.now()) };
      case 'failed':
        return { state: 'failed', since: phase.since, reason: phase.error.message };
      default:
        return unreachable(phase);
    }
  }

  /**
   * One SSH connection attempt. Resolves with the session once authenticated; rejects with an SshFailure.
   * The client's listeners stay for its whole life: 'error' is always handled, and a 'close' after 'ready'
   * is the drop that starts the reconnect loop.
   */
  #connect(attempt: number): Promise<Session> {
    return new Promise<Session>((resolve, reject) => {
      let check: HostKeyCheck;
      let auth: SshAuth;
      try {
        auth = this.#auth ??= sshAuth(this.#settings, this.#envPrefix);
        check = prepareHostKeyCheck(this.#policy, this.#settings.host, this.#settings.port);
      } catch (error) {
        reject(this.#failure(error, undefined));
        return;
      }
      const client = new Client();
      // pg's small request/response messages must not wait for Nagle's algorithm (~40 ms per round trip).
      const socket = new Socket().setNoDelay(true);
      let markClosed: () => void = () => undefined;
      const closed = new Promise<void>((resolve) => (markClosed = resolve));
      const session: Session = { client, socket, closed, hostKey: undefined };
      this.#unclosed.add(closed);
      void closed.then(() => this.#unclosed.delete(closed));
      this.#phase = { kind: 'connecting', attempt, session };
      let verdict: HostKeyVerdict | undefined;
      let lastError: unknown;
      let settled = false;
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        socket.destroy();
        reject(this.#phase.kind === 'closed' ? closedFailure(this.#bastion) : this.#failure(error, verdict));
      };
      client.on('error', (error: Error) => {
        lastError = error;
        fail(error);
      });
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        resolve(session);
      });
      client.on('close', () => {
        markClosed();
        if (settled) this.#dropped(session, lastError);
        else fail(lastError);
      });
      this.#log.info('ssh tunnel connecting', { bastion: this.#bastion, attempt });
      const config: ConnectConfig = {
        sock: socket,
        username: this.#settings.user,
        readyTimeout: this.#settings.readyTimeoutMs,
        keepaliveInterval: this.#settings.keepaliveIntervalMs,
        keepaliveCountMax: this.#settings.keepaliveCountMax,
        authHandler: [authMethod(this.#settings, auth)],
        hostVerifier: (key: Buffer): boolean => {
          verdict = check.verify(key);
          session.hostKey = `${verdict.keyType} ${verdict.fingerprint}`;
          if (verdict.accepted && !verdict.verified) this.#warnUnverified(verdict);
          return verdict.accepted;
        },
        ...(check.algorithms ? { algorithms: { serverHostKey: check.algorithms as ServerHostKeyList } } : {}),
      };
      try {
        // Connecting first: ssh2 takes a socket that is not `connecting` for an established one.
        socket.connect(this.#settings.port, this.#settings.host);
        client.connect(config);
      } catch (error) {
        fail(new TunnelError(`Cannot start the SSH connection to ${this.#bastion}: ${errorMessage(error)}`, { cause: error }));
        // The client never started, so no 'close' will come to say so: nothing of this attempt is left to wait for.
        markClosed();
      }
    });
  }

  #becomeReady(session: Session, attempt: number, reconnected: boolean, started: number): void {
    this.#phase = { kind: 'ready', session, since: new Date() };
    if (reconnected) this.#reconnects++;
    this.#log.info('ssh tunnel ready', {
      bastion: this.#bastion,
      attempt,
      ms: Math.round(performance.now() - started),
      hostKey: session.hostKey,
      reconnects: this.#reconnects,
      waiting: this.#waiting.size,
    });
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const [socket, target] of waiting) this.#forward(socket, target, session);
  }

  /**
   * The ready connection closed: destroy its channels (pg sees those connections end) and start reconnecting.
   * Channel requests still in flight are answered by ssh2 with an error right after, and queue for the next one.
   */
  #dropped(session: Session, error: unknown): void {
    if (this.#phase.kind !== 'ready' || this.#phase.session !== session) return;
    const reason = describeDrop(error, this.#bastion, this.#settings, this.#envPrefix);
    this.#lastError = reason;
    let channels = 0;
    for (const socket of [...this.#sockets]) {
      if (!socket.connected) continue;
      channels++;
      socket.destroy();
    }
    this.#log.warn('ssh tunnel dropped', { bastion: this.#bastion, error: reason, channelsClosed: channels });
    this.#scheduleReconnect(1);
  }

  #scheduleReconnect(attempt: number): void {
    const delayMs = reconnectDelayMs(attempt, this.#settings.reconnectMaxDelayMs);
    const timer = setTimeout(() => this.#reconnect(attempt), delayMs);
    this.#phase = { kind: 'reconnecting', attempt, timer, at: Date.now() + delayMs };
    this.#refreshTimerRef();
    this.#log.warn('ssh tunnel reconnecting', { bastion: this.#bastion, attempt, delayMs, lastError: this.#lastError });
  }

  #reconnect(attempt: number): void {
    const started = performance.now();
    this.#connect(attempt).then(
      (session) => {
        if (!this.#isConnecting(session)) {
          session.socket.destroy();
          return;
        }
        this.#becomeReady(session, attempt, true, started);
      },
      (failure: SshFailure) => {
        if (this.#phase.kind === 'closed') return;
        this.#lastError = failure.error.message;
        if (failure.permanent) this.#fail(failure.error);
        else this.#scheduleReconnect(attempt + 1);
      },
    );
  }

  /** A refused login or host key: stop retrying; waiting and future connections fail with this error. */
  #fail(error: TunnelError): void {
    this.#phase = { kind: 'failed', error, since: new Date() };
    this.#log.error('ssh tunnel failed', { bastion: this.#bastion, error: error.message });
    const waiting = [...this.#waiting.keys()];
    this.#waiting.clear();
    for (const socket of waiting) socket.destroy(this.#downFor(error));
  }

  #request(socket: TunnelSocket, host: string, port: number): void {
    this.#sockets.add(socket);
    const phase = this.#phase;
    switch (phase.kind) {
      case 'ready':
        this.#forward(socket, { host, port }, phase.session);
        return;
      case 'connecting':
      case 'reconnecting':
        this.#waiting.set(socket, { host, port });
        this.#refreshTimerRef();
        return;
      case 'failed':
        socket.destroy(this.#downFor(phase.error));
        return;
      case 'idle':
      case 'closed':
        socket.destroy(new TunnelError(`The SSH tunnel to ${this.#bastion} is closed; no connection can be opened through it.`));
        return;
      default:
        unreachable(phase);
    }
  }

  /** Asks the bastion for a channel to `target`; a request caught by a drop is queued for the next connection. */
  #forward(socket: TunnelSocket, target: { readonly host: string; readonly port: number }, session: Session): void {
    const requeue = (): void => {
      if (socket.destroyed) return;
      if (this.#phase.kind === 'ready' && this.#phase.session !== session) this.#forward(socket, target, this.#phase.session);
      else this.#waiting.set(socket, target);
      this.#refreshTimerRef();
    };
    try {
      session.client.forwardOut('127.0.0.1', 0, target.host, target.port, (error: Error | undefined, channel: ClientChannel) => {
        if (!error) {
          socket.attach(channel);
          return;
        }
        if (this.#phase.kind !== 'ready' || this.#phase.session !== session) {
          requeue();
          return;
        }
        socket.destroy(
          new TunnelError(
            `The bastion ${this.#bastion} could not open a connection to ${target.host}:${target.port} (${error.message}). ` +
              `${this.#envPrefix}DB_HOST and ${this.#envPrefix}DB_PORT name the database as seen from the bastion; check them, ` +
              'and that the bastion allows TCP forwarding there.',
            { cause: error },
          ),
        );
      });
    } catch {
      requeue(); // "Not connected": the socket is closing and 'close' will start the reconnect
    }
  }

  #forget(socket: TunnelSocket): void {
    this.#sockets.delete(socket);
    if (this.#waiting.delete(socket)) this.#refreshTimerRef();
  }

  /** Why a socket that waited for the tunnel got no channel before its requester gave up. */
  #unavailable(host: string, port: number, cause: unknown): TunnelError {
    const phase = this.#phase;
    const last = this.#lastError ? ` Last error: ${this.#lastError}.` : '';
    const options = cause === undefined ? undefined : { cause };
    switch (phase.kind) {
      case 'ready':
        return new TunnelError(
          `The bastion ${this.#bastion} did not open the forwarded connection to ${host}:${port} in time: it may not reach ` +
            `${this.#envPrefix}DB_HOST (the database as seen from the bastion).`,
          options,
        );
      case 'connecting':
      case 'reconnecting':
        return new TunnelError(
          `The SSH tunnel to ${this.#bastion} is reconnecting (attempt ${phase.attempt}); no connection to PostgreSQL could be ` +
            `opened through it in time.${last}`,
          options,
        );
      case 'failed':
        return this.#downFor(phase.error);
      case 'idle':
      case 'closed':
        return new TunnelError(`The SSH tunnel to ${this.#bastion} is closed.`, options);
      default:
        return unreachable(phase);
    }
  }

  #downFor(error: TunnelError): TunnelError {
    return new TunnelError(`The SSH tunnel to ${this.#bastion} stopped reconnecting: ${error.message}`, { cause: error });
  }

  /** The backoff timer keeps the process alive only while a connection request is waiting for it. */
  #refreshTimerRef(): void {
    if (this.#phase.kind !== 'reconnecting') return;
    if (this.#waiting.size > 0) this.#phase.timer.ref();
    else this.#phase.timer.unref();
  }

  #warnUnverified(verdict: Extract<HostKeyVerdict, { accepted: true }>): void {
    this.#log.warn('ssh host key NOT verified', {
      bastion: this.#bastion,
      hostKey: `${verdict.keyType} ${verdict.fingerprint}`,
      reason: `${this.#envPrefix}SSH_INSECURE_ACCEPT_ANY_HOST_KEY=true; anyone who can intercept the connection can read the database traffic`,
      fix: `pin it with ${this.#envPrefix}SSH_HOST_KEY=${verdict.fingerprint} once you have checked it out of band`,
    });
  }

  #failure(error: unknown, verdict: HostKeyVerdict | undefined): SshFailure {
    return sshFailure(error, {
      bastion: this.#bastion,
      settings: this.#settings,
      auth: this.#auth,
      envPrefix: this.#envPrefix,
      verdict,
    });
  }

  #isConnecting(session: Session): boolean {
    return this.#phase.kind === 'connecting' && this.#phase.session === session;
  }

  #settleOpening(opening: Promise<void>): void {
    if (this.#opening === opening) this.#opening = undefined;
  }
}

type ServerHostKeyList = NonNullable<NonNullable<ConnectConfig['algorithms']>['serverHostKey']>;

/** Ends the SSH connection politely, destroying its socket if the bastion does not close within the grace. */
async function endSession(session: Session): Promise<void> {
  session.client.end();
  const timer = setTimeout(() => session.socket.destroy(), CLOSE_GRACE_MS);
  timer.unref();
  await session.closed;
  clearTimeout(timer);
}

function closedFailure(bastion: string): SshFailure {
  return { permanent: true, error: new TunnelError(`The SSH tunnel to ${bastion} was closed before it was ready.`) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unreachable(value: never): never {
  throw new Error(`unhandled tunnel phase ${JSON.stringify(value)}`);
}
