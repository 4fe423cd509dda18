import { createHmac, timingSafeEqual } from 'node:crypto';

/** One key line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  /** 1-based line number, to point the user at it. */
  readonly line: number;
  /** `@revoked` keys are refused; `@cert-authority` lines are not used (certificate host keys are not supported). */
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  /** The host field as written: comma-separated patterns, or one hashed name `|1|salt|hash`. */
  readonly hosts: string;
  readonly keyType: string;
  /** The public key in SSH wire format, as the server presents it. */
  readonly key: Buffer;
}

/** What a known_hosts file says about the key a host presented. */
export type KnownHostsVerdict =
  | { readonly kind: 'known'; readonly entry: KnownHostEntry }
  | { readonly kind: 'revoked'; readonly entry: KnownHostEntry }
  | { readonly kind: 'changed'; readonly known: readonly KnownHostEntry[] }
  | { readonly kind: 'unknown' };

/** Parses known_hosts text; comments, blank and malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const fields = raw.trim().split(/\s+/);
    if (fields[0] === '' || fields[0]?.startsWith('#')) return;
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const word = fields.shift();
      if (word === '@revoked') marker = 'revoked';
      else if (word === '@cert-authority') marker = 'cert-authority';
      else return;
    }
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64 || !/^[A-Za-z0-9+/]+=*$/.test(keyBase64)) return;
    entries.push({ line: index + 1, marker, hosts, keyType, key: Buffer.from(keyBase64, 'base64') });
  });
  return entries;
}

/** The name ssh looks a host up by: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** Whether an entry's host field names `name` (hashed names, `*`/`?` wildcards and `!` negations as in sshd(8)). */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedNameMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/**
 * Checks the key `host:port` presented against the file's entries: a matching `@revoked` key is refused; a key
 * listed for the host is known; a host listed only with other keys has changed its key; otherwise it is unknown.
 */
export function checkKnownHost(entries: readonly KnownHostEntry[], host: string, port: number, key: Buffer): KnownHostsVerdict {
  const name = knownHostsName(host, port);
  const forHost = entries.filter((entry) => hostFieldMatches(entry.hosts, name));
  const revoked = forHost.find((entry) => entry.marker === 'revoked' && entry.key.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked };
  const listed = forHost.filter((entry) => entry.marker === undefined);
  const same = listed.find((entry) => entry.key.equals(key));
  if (same) return { kind: 'known', entry: same };
  return listed.length > 0 ? { kind: 'changed', known: listed } : { kind: 'unknown' };
}

/** The key types the file lists for `host:port`, in file order, to offer them first in the handshake. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => e.keyType);
  return [...new Set(types)];
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `ssh-keygen -H` writes it. */
function hashedNameMatches(hosts: string, name: string): boolean {
  const [, , salt, hash] = hosts.split('|');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function globMatches(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}
