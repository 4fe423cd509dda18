import { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { BastionError } from '../errors/bastion-error';
import { TunnelError } from '../errors/connection-errors';

/** What a TunnelSocket needs from its tunnel. */
export interface ChannelBroker {
  /** Opens a forwarded channel to `host:port` (now, or once the tunnel is back) and `attach`es it, or destroys the socket. */
  request(socket: TunnelSocket, host: string, port: number): void;
  /** The socket is gone: stop counting or serving it. */
  forget(socket: TunnelSocket): void;
  /** Why no channel reached `host:port` before the caller gave up (for a socket destroyed while waiting). */
  unavailable(host: string, port: number, cause: unknown): TunnelError;
}

type WriteCallback = (error?: Error | null) => void;

/**
 * The socket node-postgres gets for one pooled connection when the database is behind the SSH bastion: an
 * in-process stream over one forwarded SSH channel, with no listening port. It speaks the part of `net.Socket`
 * pg uses: `connect(port, host)` then `'connect'`, `setNoDelay`, `setKeepAlive`, `ref`/`unref`, cork/uncork.
 */
export class TunnelSocket extends Duplex {
  readonly #broker: ChannelBroker;
  #channel: ClientChannel | undefined;
  #target: { readonly host: string; readonly port: number } | undefined;
  /** A write that arrived before the channel did (pg's Terminate when a connect is abandoned). */
  #pending: { readonly data: Buffer; readonly callback: WriteCallback } | undefined;
  #drainCallback: WriteCallback | undefined;

  constructor(broker: ChannelBroker) {
    super({ allowHalfOpen: false });
    this.#broker = broker;
  }

  /** Whether a forwarded channel is attached (counted in `health().tunnel.openChannels`). */
  get connected(): boolean {
    return this.#channel !== undefined;
  }

  /** pg calls `connect(port, host)`; `'connect'` follows once the bastion opened the channel. */
  connect(port: number | string, host?: string): this {
    if (this.#target !== undefined) throw new Error('TunnelSocket.connect() called twice');
    if (typeof port !== 'number' || host === undefined) {
      this.#target = { host: String(port), port: 0 };
      this.destroy(
        new TunnelError(
          `DB_HOST names a Unix socket (${String(port)}); through the SSH tunnel, DB_HOST and DB_PORT must name a TCP ` +
            'address of the database as seen from the bastion (e.g. 127.0.0.1 and 5432).',
        ),
      );
      return this;
    }
    this.#target = { host, port };
    this.#broker.request(this, host, port);
    return this;
  }

  /** Called by the tunnel with the opened channel; a channel arriving after the socket was given up is closed. */
  attach(channel: ClientChannel): void {
    channel.on('error', (error: Error) => this.destroy(error));
    if (this.destroyed || this.#channel !== undefined) {
      channel.close();
      return;
    }
    this.#channel = channel;
    channel.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) channel.pause();
    });
    channel.on('end', () => this.push(null));
    channel.on('close', () => this.destroy());
    channel.on('drain', () => {
      const callback = this.#drainCallback;
      this.#drainCallback = undefined;
      callback?.();
    });
    const pending = this.#pending;
    this.#pending = undefined;
    this.emit('connect');
    if (pending) this.#send(pending.data, pending.callback);
  }

  setNoDelay(): this {
    return this; // the SSH packets are written as soon as pg hands them over
  }

  setKeepAlive(): this {
    return this; // SSH keepalives (SSH_KEEPALIVE_INTERVAL_MS) watch the one TCP connection underneath
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  override _read(): void {
    this.#channel?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: WriteCallback): void {
    this.#send(chunk, callback);
  }

  /** pg corks the several messages of one extended query: they leave as one SSH packet. */
  override _writev(chunks: { chunk: Buffer }[], callback: WriteCallback): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _final(callback: WriteCallback): void {
    this.#channel?.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const channel = this.#channel;
    this.#channel = undefined;
    channel?.close();
    this.#broker.forget(this);
    const target = this.#target;
    // Given up while waiting for the tunnel (pg's connection timeout): say why the tunnel could not serve it.
    if (!channel && target && target.port !== 0 && !(error instanceof BastionError)) {
      callback(this.#broker.unavailable(target.host, target.port, error ?? undefined));
      return;
    }
    callback(error);
  }

  #send(data: Buffer, callback: WriteCallback): void {
    const channel = this.#channel;
    if (!channel) {
      this.#pending = { data, callback };
      return;
    }
    if (channel.write(data)) callback();
    else this.#drainCallback = callback;
  }
}
