import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src';
import { DB_PASSWORD, SSH_PASSWORD } from '../helpers/secrets';

const BASE = { DATABASE_URL: 'postgres://app@db.internal:5432/ledger' };
const dir = mkdtempSync(join(tmpdir(), 'bastion-config-'));
const keyFile = join(dir, 'id_ed25519');
writeFileSync(keyFile, '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n');
const knownHosts = join(dir, 'known_hosts');
writeFileSync(knownHosts, '');
const SSH = { SSH_HOST: 'bastion.example.com', SSH_USER: 'deploy', SSH_PRIVATE_KEY_PATH: keyFile, SSH_KNOWN_HOSTS: knownHosts };

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.variable}: ${p.message}`);
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads DATABASE_URL into typed fields with defaults for everything else', () => {
    const config = loadConfig({ DATABASE_URL: `postgres://app:${DB_PASSWORD}@db.internal:6432/ledger?sslmode=require` });
    expect(config.database).toMatchObject({ host: 'db.internal', port: 6432, user: 'app', name: 'ledger', sslMode: 'require' });
    expect(config.database.password).toBe(DB_PASSWORD);
    expect(config.pool).toMatchObject({ max: 10, min: 0, idleTimeoutMs: 10000, connectionTimeoutMs: 10000, maxUses: 0 });
    expect(config.session).toMatchObject({ statementTimeoutMs: 0, applicationName: 'bastion' });
    expect(config.ssh).toBeUndefined();
  });

  it('reads the discrete DB_* variables and every pool and session knob', () => {
    const config = loadConfig({
      DB_HOST: '10.0.0.5', DB_PORT: '5433', DB_USER: 'svc', DB_PASSWORD, DB_NAME: 'orders',
      DB_POOL_MAX: '25', DB_POOL_MIN: '2', DB_POOL_IDLE_TIMEOUT_MS: '30000', DB_POOL_CONNECTION_TIMEOUT_MS: '2500',
      DB_POOL_MAX_USES: '7500', DB_POOL_MAX_LIFETIME_S: '600', DB_STATEMENT_TIMEOUT_MS: '15000',
      DB_APPLICATION_NAME: 'orders-api', DB_SESSION_SQL: 'SET search_path TO app, public',
      LOG_LEVEL: 'debug', LOG_FORMAT: 'json', LOG_SLOW_QUERY_MS: '250', LOG_QUERY_PARAMS: 'true',
    });
    expect(config.database).toMatchObject({ host: '10.0.0.5', port: 5433, user: 'svc', name: 'orders' });
    expect(config.pool).toEqual({ max: 25, min: 2, idleTimeoutMs: 30000, connectionTimeoutMs: 2500, maxUses: 7500, maxLifetimeSeconds: 600 });
    expect(config.session).toMatchObject({ statementTimeoutMs: 15000, applicationName: 'orders-api', sessionSql: 'SET search_path TO app, public' });
    expect(config.logging).toEqual({ level: 'debug', format: 'json', slowQueryMs: 250, queryParams: true });
  });

  it('keeps secrets out of JSON, inspect and enumeration', () => {
    const config = loadConfig({ ...BASE, DB_PASSWORD, ...SSH, SSH_PRIVATE_KEY_PATH: undefined, SSH_PASSWORD });
    expect(config.database.password).toBe(DB_PASSWORD);
    expect(config.ssh?.password).toBe(SSH_PASSWORD);
    const dumped = JSON.stringify(config) + require('node:util').inspect(config, { depth: 5 });
    expect(dumped).not.toContain(DB_PASSWORD);
    expect(dumped).not.toContain(SSH_PASSWORD);
    expect(Object.keys(config.database)).not.toContain('password');
  });

  it('lets code override the environment, and validates the overrides too', () => {
    const config = loadConfig({ ...BASE, DB_POOL_MAX: '5' }, { overrides: { pool: { max: 3 } } });
    expect(config.pool.max).toBe(3);
    expect(() => loadConfig(BASE, { overrides: { pool: { max: 0 } } })).toThrow(
      'config.pool.max: 0 is not valid; expected an integer from 1 to 1000',
    );
  });

  it('reads a named database with its prefix only', () => {
    const config = loadConfig({ ANALYTICS_DATABASE_URL: 'postgres://ro@warehouse/analytics', ANALYTICS_DB_POOL_MAX: '3', DB_POOL_MAX: '50' }, { prefix: 'ANALYTICS_' });
    expect(config.database.host).toBe('warehouse');
    expect(config.pool.max).toBe(3);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://x@y/z' }, { prefix: 'ANALYTICS_' })).toThrow(/ANALYTICS_DATABASE_URL: no database is configured/);
  });

  it('turns on the tunnel settings only with SSH_HOST', () => {
    const config = loadConfig({ ...BASE, ...SSH });
    expect(config.ssh).toMatchObject({ host: 'bastion.example.com', port: 22, user: 'deploy', keepaliveIntervalMs: 10000, insecureAcceptAnyHostKey: false });
  });

  it('reports every problem at once', () => {
    const found = problems({ DB_PORT: 'abc', DB_POOL_MAX: '0', LOG_LEVEL: 'loud', LOG_FORMAT: 'xml' });
    expect(found).toHaveLength(5);
    expect(found).toEqual(
      expect.arrayContaining([expect.stringMatching(/^DATABASE_URL: no database is configured/), expect.stringMatching(/^LOG_FORMAT: "xml"/)]),
    );
  });

  const cases: [string, NodeJS.ProcessEnv, string][] = [
    ['no database at all', {}, 'DATABASE_URL: no database is configured: set DATABASE_URL=postgres://user:password@host:5432/dbname, or DB_HOST (with DB_PORT, DB_USER, DB_PASSWORD, DB_NAME). To try bastion without a server, `npm start` boots an embedded PostgreSQL.'],
    ['a URL that is not one', { DATABASE_URL: 'not a url' }, 'DATABASE_URL: not a url is not a URL; expected postgres://user:password@host:5432/dbname'],
    ['a URL with another scheme, password masked', { DATABASE_URL: `mysql://root:${DB_PASSWORD}@db/x` }, 'DATABASE_URL: mysql://root:***@db/x has scheme "mysql:"; expected postgres:// or postgresql://'],
    ['an unsupported URL parameter', { DATABASE_URL: 'postgres://a@b/c?connect_timeout=5' }, 'DATABASE_URL: postgres://a@b/c?connect_timeout=5 has unsupported parameter(s) connect_timeout; supported: sslmode, application_name (use the DB_* variables for the rest)'],
    ['sslmode prefer in the URL', { DATABASE_URL: 'postgres://a@b/c?sslmode=prefer' }, 'DATABASE_URL: postgres://a@b/c?sslmode=prefer has sslmode=prefer; expected one of disable, require, verify-ca, verify-full'],
    ['DATABASE_URL and DB_HOST naming different hosts', { ...BASE, DB_HOST: 'other.internal' }, 'DB_HOST: is "other.internal" but DATABASE_URL names "db.internal"; set only one of them, or make them agree'],
    ['DATABASE_URL and DB_PASSWORD disagreeing (no value echoed)', { DATABASE_URL: 'postgres://a:one-password@b/c', DB_PASSWORD }, 'DB_PASSWORD: differs from the password in DATABASE_URL; set only one of them'],
    ['a port that is not a number', { ...BASE, DB_PORT: 'fivefourthreetwo', DATABASE_URL: 'postgres://a@b/c' }, 'DB_PORT: "fivefourthreetwo" is not valid; expected a port number from 1 to 65535'],
    ['a port out of range', { DB_HOST: 'h', DB_PORT: '70000' }, 'DB_PORT: "70000" is not valid; expected a port number from 1 to 65535'],
    ['a pool max of zero', { ...BASE, DB_POOL_MAX: '0' }, 'DB_POOL_MAX: "0" is not valid; expected an integer from 1 to 1000'],
    ['a fractional pool max', { ...BASE, DB_POOL_MAX: '2.5' }, 'DB_POOL_MAX: "2.5" is not valid; expected an integer from 1 to 1000'],
    ['a pool min above the max', { ...BASE, DB_POOL_MAX: '4', DB_POOL_MIN: '5' }, 'DB_POOL_MIN: 5 is above DB_POOL_MAX (4); expected a minimum not above the maximum'],
    ['a negative idle timeout', { ...BASE, DB_POOL_IDLE_TIMEOUT_MS: '-1' }, 'DB_POOL_IDLE_TIMEOUT_MS: "-1" is not valid; expected milliseconds from 0 (never) to 86400000'],
    ['a zero connection timeout (would hang forever)', { ...BASE, DB_POOL_CONNECTION_TIMEOUT_MS: '0' }, 'DB_POOL_CONNECTION_TIMEOUT_MS: "0" is not valid; expected milliseconds from 1 to 600000'],
    ['a statement timeout with a unit', { ...BASE, DB_STATEMENT_TIMEOUT_MS: '5s' }, 'DB_STATEMENT_TIMEOUT_MS: "5s" is not valid; expected milliseconds from 0 (none) to 86400000'],
    ['an unknown LOG_LEVEL', { ...BASE, LOG_LEVEL: 'verbose!' }, 'LOG_LEVEL: "verbose!" is not valid; expected one of error, warn, info, http, verbose, debug, silly'],
    ['an unknown LOG_FORMAT', { ...BASE, LOG_FORMAT: 'xml' }, 'LOG_FORMAT: "xml" is not valid; expected pretty or json'],
    ['a LOG_QUERY_PARAMS that is not a boolean', { ...BASE, LOG_QUERY_PARAMS: 'sometimes' }, 'LOG_QUERY_PARAMS: "sometimes" is not valid; expected true or false'],
    ['an application name too long for PostgreSQL', { ...BASE, DB_APPLICATION_NAME: 'x'.repeat(64) }, `DB_APPLICATION_NAME: "${'x'.repeat(64)}" is not valid; expected up to 63 printable ASCII characters`],
    ['an unknown SSL mode', { ...BASE, DB_SSL_MODE: 'prefer' }, 'DB_SSL_MODE: "prefer" is not valid; expected one of disable, require, verify-ca, verify-full'],
    ['a root certificate without verification', { ...BASE, DB_SSL_ROOT_CERT: knownHosts }, 'DB_SSL_ROOT_CERT: is only used with DB_SSL_MODE=verify-ca or verify-full (it is disable)'],
    ['SSH settings without SSH_HOST', { ...BASE, SSH_USER: 'deploy', SSH_PASSWORD }, 'SSH_HOST: is not set, but SSH_USER, SSH_PASSWORD are; set SSH_HOST to use the SSH tunnel, or remove them'],
    ['SSH_HOST without any authentication', { ...BASE, SSH_HOST: 'b', SSH_USER: 'u', SSH_KNOWN_HOSTS: knownHosts }, 'SSH_HOST: is set but no SSH authentication is: set exactly one of SSH_PASSWORD, SSH_PRIVATE_KEY_PATH, SSH_PRIVATE_KEY, SSH_AGENT'],
    ['two SSH authentication methods', { ...BASE, ...SSH, SSH_PASSWORD }, 'SSH_PRIVATE_KEY_PATH: conflicts with SSH_PASSWORD: set exactly one SSH authentication method'],
    ['a missing private key file', { ...BASE, ...SSH, SSH_PRIVATE_KEY_PATH: '/nonexistent/id_rsa' }, 'SSH_PRIVATE_KEY_PATH: "/nonexistent/id_rsa" is not a readable file'],
    ['a passphrase without a key', { ...BASE, ...SSH, SSH_PRIVATE_KEY_PATH: undefined, SSH_PASSWORD, SSH_PASSPHRASE: 'key-Passphrase-never-logged' }, 'SSH_PASSPHRASE: is set without a private key; it only decrypts SSH_PRIVATE_KEY_PATH or SSH_PRIVATE_KEY'],
    ['a host key that is not a SHA256 fingerprint', { ...BASE, ...SSH, SSH_KNOWN_HOSTS: undefined, SSH_HOST_KEY: 'MD5:aa:bb' }, 'SSH_HOST_KEY: "MD5:aa:bb" is not valid; expected a SHA256 fingerprint as printed by ssh-keygen -lf, e.g. SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8'],
    ['insecure host keys together with a pinned one', { ...BASE, ...SSH, SSH_KNOWN_HOSTS: undefined, SSH_HOST_KEY: 'SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8', SSH_INSECURE_ACCEPT_ANY_HOST_KEY: 'true' }, 'SSH_INSECURE_ACCEPT_ANY_HOST_KEY: is true while SSH_HOST_KEY is set; remove one of them'],
    ['an SSH port of zero', { ...BASE, ...SSH, SSH_PORT: '0' }, 'SSH_PORT: "0" is not valid; expected a port number from 1 to 65535'],
  ];

  it.each(cases)('rejects %s', (_label, env, expected) => {
    expect(problems(env)).toContain(expected);
  });

  it('never echoes a secret in a problem, even an invalid one', () => {
    let message = '';
    try {
      loadConfig({ DATABASE_URL: `postgres://u:${DB_PASSWORD}@h/db?bad=1`, SSH_PASSWORD });
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('Invalid configuration');
    expect(message).not.toContain(DB_PASSWORD);
    expect(message).not.toContain(SSH_PASSWORD);
  });

  it('fills unset variables from .env without overriding real ones', () => {
    const cwd = process.cwd();
    const project = mkdtempSync(join(tmpdir(), 'bastion-dotenv-'));
    writeFileSync(join(project, '.env'), 'DATABASE_URL=postgres://fromfile@filehost/filedb\nDB_POOL_MAX=7\n');
    const saved = { url: process.env.DATABASE_URL, max: process.env.DB_POOL_MAX };
    process.env.DB_POOL_MAX = '3';
    delete process.env.DATABASE_URL;
    try {
      process.chdir(project);
      const config = loadConfig();
      expect(config.database.host).toBe('filehost');
      expect(config.pool.max).toBe(3);
    } finally {
      process.chdir(cwd);
      if (saved.url === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.url;
      if (saved.max === undefined) delete process.env.DB_POOL_MAX;
      else process.env.DB_POOL_MAX = saved.max;
    }
  });
});
