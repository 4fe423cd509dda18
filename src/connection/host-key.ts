import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SshSettings } from '../config/settings';
import { HostKeyMismatchError, TunnelError } from '../errors/connection-errors';
import { checkKnownHost, KnownHostEntry, knownHostsName, knownKeyTypes, parseKnownHosts } from './known-hosts';

/** How the bastion's host key is checked: a pinned fingerprint, a known_hosts file, or (explicitly) not at all. */
export type HostKeyPolicy =
  | { readonly kind: 'pinned'; readonly fingerprint: string; readonly variable: string }
  | { readonly kind: 'known-hosts'; readonly path: string; readonly variable: string }
  | { readonly kind: 'insecure'; readonly variable: string };

/** The outcome of checking one presented key. */
export type HostKeyVerdict =
  | { readonly accepted: true; readonly verified: boolean; readonly keyType: string; readonly fingerprint: string }
  | { readonly accepted: false; readonly keyType: string; readonly fingerprint: string; readonly error: HostKeyMismatchError };

/** A host key check prepared for one connection attempt (known_hosts is read afresh each time). */
export interface HostKeyCheck {
  /** Host key algorithms in the order to offer them, or undefined for ssh2's default order. */
  readonly algorithms: string[] | undefined;
  verify(key: Buffer): HostKeyVerdict;
}

/** ssh2's host key algorithms, in its default order of preference. */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** The policy the settings ask for; the config module has already checked they are consistent. */
export function hostKeyPolicy(ssh: SshSettings, envPrefix = ''): HostKeyPolicy {
  if (ssh.insecureAcceptAnyHostKey) return { kind: 'insecure', variable: `${envPrefix}SSH_INSECURE_ACCEPT_ANY_HOST_KEY` };
  if (ssh.hostKey !== undefined) return { kind: 'pinned', fingerprint: ssh.hostKey, variable: `${envPrefix}SSH_HOST_KEY` };
  return {
    kind: 'known-hosts',
    path: ssh.knownHosts ?? join(homedir(), '.ssh', 'known_hosts'),
    variable: `${envPrefix}SSH_KNOWN_HOSTS`,
  };
}

/**
 * `SHA256:…` of a public key, exactly as `ssh-keygen -lf` prints it. Takes the key in SSH wire format, or as
 * text: an OpenSSH public key line (`ssh-ed25519 AAAA… comment`) or its base64 part.
 */
export function hostKeyFingerprint(publicKey: Buffer | string): string {
  const blob = typeof publicKey === 'string' ? publicKeyBlob(publicKey) : publicKey;
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** Prepares the check of `host:port`'s key; throws TunnelError when the known_hosts file cannot be read. */
export function prepareHostKeyCheck(policy: HostKeyPolicy, host: string, port: number): HostKeyCheck {
  switch (policy.kind) {
    case 'insecure':
      return { algorithms: undefined, verify: (key) => accept(key, false) };
    case 'pinned': {
      const pinned = stripPadding(policy.fingerprint);
      return {
        algorithms: undefined,
        verify: (key) =>
          stripPadding(hostKeyFingerprint(key)) === pinned
            ? accept(key, true)
            : refuse(key, host, port, `the pinned ${policy.variable} (${policy.fingerprint})`),
      };
    }
    case 'known-hosts': {
      const entries = readKnownHosts(policy);
      const known = knownKeyTypes(entries, host, port).flatMap(algorithmsOf);
      return {
        algorithms: known.length > 0 ? [...new Set([...known, ...HOST_KEY_ALGORITHMS])] : undefined,
        verify: (key) => verifyKnownHost(entries, policy.path, host, port, key),
      };
    }
    default: {
      const never: never = policy;
      throw new Error(`unhandled host key policy ${String(never)}`);
    }
  }
}

/** The key type named at the start of an SSH wire-format key (`ssh-ed25519`, …). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return length > 0 && length < 64 && blob.length >= 4 + length ? blob.toString('ascii', 4, 4 + length) : 'unknown';
}

function verifyKnownHost(entries: readonly KnownHostEntry[], path: string, host: string, port: number, key: Buffer): HostKeyVerdict {
  const verdict = checkKnownHost(entries, host, port, key);
  const name = knownHostsName(host, port);
  switch (verdict.kind) {
    case 'known':
      return accept(key, true);
    case 'revoked':
      return refuse(key, host, port, `anything acceptable: it is marked @revoked in ${path} (line ${verdict.entry.line})`);
    case 'changed': {
      const listed = verdict.known.map((e) => `line ${e.line}: ${e.keyType} ${hostKeyFingerprint(e.key)}`).join('; ');
      return refuse(key, host, port, `the key(s) ${path} lists for ${name} (${listed}); the host key has CHANGED`);
    }
    case 'unknown':
      return refuse(key, host, port, `any key in ${path}: it has no entry for ${name}`);
    default: {
      const never: never = verdict;
      throw new Error(`unhandled known_hosts verdict ${String(never)}`);
    }
  }
}

function accept(key: Buffer, verified: boolean): HostKeyVerdict {
  return { accepted: true, verified, keyType: keyTypeOf(key), fingerprint: hostKeyFingerprint(key) };
}

function refuse(key: Buffer, host: string, port: number, expected: string): HostKeyVerdict {
  const fingerprint = hostKeyFingerprint(key);
  return {
    accepted: false,
    keyType: keyTypeOf(key),
    fingerprint,
    error: new HostKeyMismatchError(host, port, fingerprint, `${expected} (the presented key is ${keyTypeOf(key)})`),
  };
}

function readKnownHosts(policy: Extract<HostKeyPolicy, { kind: 'known-hosts' }>): KnownHostEntry[] {
  try {
    return parseKnownHosts(readFileSync(policy.path, 'utf8'));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TunnelError(
      `Cannot read the known_hosts file ${policy.path} (${typeof code === 'string' ? code : String(error)}) named by ` +
        `${policy.variable}: the bastion's host key cannot be verified.`,
      { cause: error },
    );
  }
}

/** ssh-rsa keys sign with SHA-2 when both sides can. */
function algorithmsOf(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return HOST_KEY_ALGORITHMS.includes(keyType) ? [keyType] : [];
}

function publicKeyBlob(text: string): Buffer {
  const fields = text.trim().split(/\s+/);
  const base64 = fields.length >= 2 ? fields[1]! : fields[0]!;
  return Buffer.from(base64, 'base64');
}

function stripPadding(fingerprint: string): string {
  return fingerprint.replace(/=+$/, '');
}
