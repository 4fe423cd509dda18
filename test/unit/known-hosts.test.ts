import { checkKnownHost, hostFieldMatches, knownHostsName, knownKeyTypes, parseKnownHosts } from '../../src/connection/known-hosts';
import { hostKeyFingerprint, keyTypeOf } from '../../src/connection/host-key';

// Made once with OpenSSH 9.2: `ssh-keygen -t ed25519`, `ssh-keygen -lf`, and `ssh-keygen -H` on a two-line file.
const KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIECCIIymJMX9yVk+YiMNVzFEs+Ik5ikGcMZv7FR3QIC8';
const KEY_FINGERPRINT = 'SHA256:tTNUEocRumDdWJ29d3Gz4p0EseiQe2Qq5jN7RNCHp34';
const HASHED_BRACKETED = '|1|NUkyeL1fbq+UU8EbQiEP752BhJ4=|coIJpVSOchjkt5sGdGeonxwnpYk='; // [bastion.example.com]:2222
const HASHED_PLAIN = '|1|pOQHCOv/+WmeYua6Tb+d/Qsbikk=|Wz+w46G1/oOPRve1AlwE634hwfQ='; // db-bastion.example.com
const OTHER_KEY = 'AAAAC3NzaC1lZDI1NTE5AAAAIKz+ImlnwMYLWgc/O16Y+saho3lNs8Ghdr2Kfeu2JLEW';

const blob = (base64: string): Buffer => Buffer.from(base64, 'base64');

describe('known_hosts and host key fingerprints', () => {
  it('computes the fingerprint exactly as ssh-keygen -lf prints it, from a blob or an OpenSSH line', () => {
    expect(hostKeyFingerprint(blob(KEY))).toBe(KEY_FINGERPRINT);
    expect(hostKeyFingerprint(`ssh-ed25519 ${KEY} fixture`)).toBe(KEY_FINGERPRINT);
    expect(keyTypeOf(blob(KEY))).toBe('ssh-ed25519');
  });

  it('looks hosts up as ssh does: bare on port 22, [host]:port otherwise, lower-cased', () => {
    expect(knownHostsName('Bastion.Example.com', 22)).toBe('bastion.example.com');
    expect(knownHostsName('10.0.0.5', 2222)).toBe('[10.0.0.5]:2222');
  });

  it('matches names hashed by ssh-keygen -H, for port 22 and for [host]:port', () => {
    expect(hostFieldMatches(HASHED_PLAIN, 'db-bastion.example.com')).toBe(true);
    expect(hostFieldMatches(HASHED_PLAIN, 'other.example.com')).toBe(false);
    expect(hostFieldMatches(HASHED_BRACKETED, '[bastion.example.com]:2222')).toBe(true);
    expect(hostFieldMatches(HASHED_BRACKETED, 'bastion.example.com')).toBe(false);
  });

  it('matches comma lists, wildcards and negations', () => {
    expect(hostFieldMatches('a.example.com,[b.example.com]:2222', '[b.example.com]:2222')).toBe(true);
    expect(hostFieldMatches('*.example.com', 'bastion.example.com')).toBe(true);
    expect(hostFieldMatches('*.example.com,!secret.example.com', 'secret.example.com')).toBe(false);
    expect(hostFieldMatches('bastion-?.example.com', 'bastion-1.example.com')).toBe(true);
    expect(hostFieldMatches('bastion.example.com', '[bastion.example.com]:2222')).toBe(false);
  });

  it('parses keys and markers, skipping comments, blank and malformed lines', () => {
    const entries = parseKnownHosts(
      [
        '# comment',
        '',
        `${HASHED_PLAIN} ssh-ed25519 ${KEY}`,
        'broken-line-without-key',
        `@revoked * ssh-ed25519 ${OTHER_KEY}`,
        `@cert-authority *.example.com ssh-ed25519 ${OTHER_KEY}`,
        `@unknown-marker host ssh-ed25519 ${KEY}`,
      ].join('\r\n'),
    );
    expect(entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [3, undefined, 'ssh-ed25519'],
      [5, 'revoked', 'ssh-ed25519'],
      [6, 'cert-authority', 'ssh-ed25519'],
    ]);
  });

  it('tells known, changed, revoked and unknown keys apart', () => {
    const entries = parseKnownHosts(
      [`${HASHED_BRACKETED} ssh-ed25519 ${KEY}`, `@revoked * ssh-ed25519 ${OTHER_KEY}`, `old.example.com ssh-ed25519 ${KEY}`].join('\n'),
    );
    expect(checkKnownHost(entries, 'bastion.example.com', 2222, blob(KEY)).kind).toBe('known');
    expect(checkKnownHost(entries, 'bastion.example.com', 2222, blob(OTHER_KEY)).kind).toBe('revoked');
    expect(checkKnownHost(entries, 'OLD.example.com', 22, blob(KEY)).kind).toBe('known');
    expect(checkKnownHost(entries, 'old.example.com', 22, Buffer.from('another key')).kind).toBe('changed');
    expect(checkKnownHost(entries, 'bastion.example.com', 22, blob(KEY)).kind).toBe('unknown');
    expect(knownKeyTypes(entries, 'bastion.example.com', 2222)).toEqual(['ssh-ed25519']);
  });
});
