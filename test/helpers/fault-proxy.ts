import { createServer, Server, Socket, connect } from 'node:net';

/** Which direction of a proxied connection a rule watches. */
export type Direction = 'to-server' | 'to-client';

/** A rule: when `match` sees a chunk going `direction`, cut the connection before (or after) forwarding it. */
export interface CutRule {
  readonly direction: Direction;
  readonly match: (chunk: Buffer) => boolean;
  /** Forward the matching chunk first (the peer gets it), then cut. Default false: cut before forwarding. */
  readonly afterForwarding?: boolean;
}

/** A rule that rewrites the next chunk `match` sees going `direction` (one-shot). */
export interface RewriteRule {
  readonly direction: Direction;
  readonly match: (chunk: Buffer) => boolean;
  readonly rewrite: (chunk: Buffer) => Buffer;
}

/** A TCP proxy in front of PostgreSQL that can cut connections on cue: a network fault on demand. */
export interface FaultProxy {
  readonly port: number;
  /** Connections cut by a rule so far. */
  readonly cuts: number;
  /** Arms a rule for the next matching chunk on any connection (one-shot). */
  cutWhen(rule: CutRule): void;
  /** Arms a rule that changes the bytes of the next matching chunk (one-shot): a corrupted statement. */
  rewriteWhen(rule: RewriteRule): void;
  /** Cuts every open connection now. */
  cutAll(): void;
  close(): Promise<void>;
}

/** A simple-protocol Query message ('Q') whose text starts with `sql`. */
export function isQuery(sql: string): (chunk: Buffer) => boolean {
  const needle = Buffer.from(sql, 'utf8');
  return (chunk) => {
    for (let i = 0; i + 5 + needle.length <= chunk.length; i++) {
      if (chunk[i] === 0x51 && chunk.subarray(i + 5, i + 5 + needle.length).equals(needle)) return true;
    }
    return false;
  };
}

/** Starts a proxy on an ephemeral loopback port forwarding to `targetHost:targetPort`. */
export async function faultProxy(targetHost: string, targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let rules: CutRule[] = [];
  let rewrites: RewriteRule[] = [];
  let cuts = 0;
  const cut = (pair: [Socket, Socket]) => {
    cuts++;
    pair[0].destroy();
    pair[1].destroy();
  };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const pipe = (from: Socket, to: Socket, direction: Direction) => {
      from.on('data', (data: Buffer) => {
        let chunk = data;
        const rewrite = rewrites.find((r) => r.direction === direction && r.match(chunk));
        if (rewrite) {
          rewrites = rewrites.filter((r) => r !== rewrite);
          chunk = rewrite.rewrite(chunk);
        }
        const rule = rules.find((r) => r.direction === direction && r.match(chunk));
        if (rule) {
          rules = rules.filter((r) => r !== rule);
          if (rule.afterForwarding) to.write(chunk, () => cut(pair));
          else cut(pair);
          return;
        }
        to.write(chunk);
      });
    };
    pipe(client, upstream, 'to-server');
    pipe(upstream, client, 'to-client');
    for (const socket of pair) {
      socket.on('error', () => undefined);
      socket.on('close', () => {
        pair[0].destroy();
        pair[1].destroy();
        pairs.delete(pair);
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    get cuts() {
      return cuts;
    },
    cutWhen: (rule) => {
      rules.push(rule);
    },
    rewriteWhen: (rule) => {
      rewrites.push(rule);
    },
    cutAll: () => {
      for (const pair of [...pairs]) cut(pair);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of [...pairs]) cut(pair);
        server.close(() => resolve());
      }),
  };
}
