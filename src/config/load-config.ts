import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { validateSync } from 'class-validator';
import { ConfigError, ConfigProblem } from '../errors/config-error';
import { maskUrlPassword, parseDatabaseUrl } from './database-url';
import { loadDotEnv } from './dotenv';
import { EnvVarProperty, envProperties, parseEnvValue } from './env-var';
import {
  DatabaseSettings,
  LoggingSettings,
  PoolSettings,
  SECTIONS,
  SectionName,
  SessionSettings,
  SshSettings,
} from './settings';

/** The validated configuration of one database: every field typed, defaults applied, secrets non-enumerable. */
export interface DatabaseConfig {
  readonly database: DatabaseSettings;
  readonly pool: PoolSettings;
  readonly session: SessionSettings;
  readonly logging: LoggingSettings;
  /** Absent when SSH_HOST is not set: the database is reached directly. */
  readonly ssh: SshSettings | undefined;
}

/** Values set in code on top of the environment, section by section (`{ pool: { max: 2 } }`). */
export type DatabaseConfigOverrides = {
  readonly [K in SectionName]?: Partial<InstanceType<(typeof SECTIONS)[K]>>;
};

/** Options of `loadConfig` beyond the environment itself. */
export interface LoadConfigOptions {
  /** Prefix of every variable, for a named database: `ANALYTICS_` reads ANALYTICS_DATABASE_URL, … */
  readonly prefix?: string;
  readonly overrides?: DatabaseConfigOverrides;
}

/** Where a field's value came from, to name it in a problem. */
interface Origin {
  readonly variable: string;
  readonly raw: string | undefined;
}

type Sections = { [K in SectionName]: InstanceType<(typeof SECTIONS)[K]> };
type Bag = Record<string, unknown>;

/**
 * Reads and validates the configuration. Without `env`, loads `.env` (never overriding real variables)
 * and reads `process.env`. Throws one `ConfigError` listing every problem.
 */
export function loadConfig(env?: NodeJS.ProcessEnv, options: LoadConfigOptions = {}): DatabaseConfig {
  const source = env ?? loadDotEnv();
  const prefix = options.prefix ?? '';
  const problems: ConfigProblem[] = [];
  const origins = new Map<string, Origin>();
  const sections = {} as Sections;

  for (const name of Object.keys(SECTIONS) as SectionName[]) {
    const instance = new SECTIONS[name]() as unknown as Bag;
    for (const prop of envProperties(SECTIONS[name])) {
      const raw = source[prefix + prop.name];
      if (raw === undefined || raw.trim() === '') continue;
      instance[prop.property] = parseEnvValue(prop, raw);
      origins.set(`${name}.${prop.property}`, { variable: prefix + prop.name, raw });
    }
    const override = (options.overrides?.[name] ?? {}) as Bag;
    for (const [key, value] of Object.entries(override)) {
      if (value === undefined) continue;
      if (!envProperties(SECTIONS[name]).some((p) => p.property === key)) {
        problems.push({ variable: `config.${name}.${key}`, message: `is not a setting of the ${name} section` });
        continue;
      }
      instance[key] = value;
      origins.set(`${name}.${key}`, { variable: `config.${name}.${key}`, raw: undefined });
    }
    (sections as Record<string, unknown>)[name] = instance;
  }

  const name = (section: SectionName, property: string): string =>
    origins.get(`${section}.${property}`)?.variable ?? `${prefix}${specOf(section, property).name}`;
  const isSet = (section: SectionName, property: string): boolean => origins.has(`${section}.${property}`);

  applyDatabaseUrl(sections, problems, origins, name, isSet);
  if (sections.ssh.privateKey) sections.ssh.privateKey = sections.ssh.privateKey.replace(/\\n/g, '\n');

  const sshWanted = isSet('ssh', 'host');
  if (!sshWanted) {
    const stray = envProperties(SshSettings)
      .filter((p) => p.property !== 'host' && isSet('ssh', p.property))
      .map((p) => name('ssh', p.property));
    if (stray.length > 0) {
      problems.push({
        variable: name('ssh', 'host'),
        message: `is not set, but ${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'}; set SSH_HOST to use the SSH tunnel, or remove them`,
      });
    }
  }

  for (const section of Object.keys(SECTIONS) as SectionName[]) {
    if (section === 'ssh' && !sshWanted) continue;
    for (const error of validateSync(sections[section], { forbidUnknownValues: false })) {
      const spec = specOf(section, error.property);
      const origin = origins.get(`${section}.${error.property}`);
      problems.push({
        variable: name(section, error.property),
        message: `${describeValue(spec, origin, (sections[section] as unknown as Bag)[error.property])} is not valid; expected ${spec.expected}`,
      });
    }
  }

  crossCheck(sections, sshWanted, problems, name, isSet);
  if (problems.length > 0) throw new ConfigError(problems);

  hideSecrets(sections.database, ['password', 'url']);
  hideSecrets(sections.ssh, ['password', 'privateKey', 'passphrase']);
  return Object.freeze({
    database: sections.database,
    pool: sections.pool,
    session: sections.session,
    logging: sections.logging,
    ssh: sshWanted ? sections.ssh : undefined,
  });
}

/** The variable names and one-line descriptions of every setting, for `.env.example` and the docs. */
export function describeSettings(): { section: SectionName; name: string; description: string }[] {
  return (Object.keys(SECTIONS) as SectionName[]).flatMap((section) =>
    envProperties(SECTIONS[section]).map((p) => ({ section, name: p.name, description: p.description })),
  );
}

function specOf(section: SectionName, property: string): EnvVarProperty {
  const spec = envProperties(SECTIONS[section]).find((p) => p.property === property);
  if (!spec) throw new Error(`bastion: no @Env on ${section}.${property}`);
  return spec;
}

function describeValue(spec: EnvVarProperty, origin: Origin | undefined, value: unknown): string {
  if (spec.secret) return spec.name === 'DATABASE_URL' && typeof value === 'string' ? `"${maskUrlPassword(value)}"` : 'the value (hidden)';
  if (origin?.raw !== undefined) return JSON.stringify(origin.raw);
  return value === undefined ? 'no value' : JSON.stringify(value) ?? String(value);
}

/** DATABASE_URL fills host/port/user/password/name/sslMode; a field also set on its own must agree with it. */
function applyDatabaseUrl(
  sections: Sections,
  problems: ConfigProblem[],
  origins: Map<string, Origin>,
  name: (s: SectionName, p: string) => string,
  isSet: (s: SectionName, p: string) => boolean,
): void {
  const db = sections.database;
  if (db.url === undefined) return;
  if (typeof db.url !== 'string') return; // reported by validation
  const parsed = parseDatabaseUrl(db.url);
  if (!parsed.ok) {
    problems.push({ variable: name('database', 'url'), message: parsed.problem });
    return;
  }
  const urlVariable = name('database', 'url');
  const fromUrl: [keyof DatabaseSettings, unknown][] = [
    ['host', parsed.parts.host],
    ['port', parsed.parts.port],
    ['user', parsed.parts.user],
    ['password', parsed.parts.password],
    ['name', parsed.parts.name],
    ['sslMode', parsed.parts.sslMode],
  ];
  const bag = db as unknown as Bag;
  for (const [field, value] of fromUrl) {
    if (value === undefined) continue;
    if (isSet('database', field)) {
      if (bag[field] !== value) {
        const secret = field === 'password';
        problems.push({
          variable: name('database', field),
          message: secret
            ? `differs from the password in ${urlVariable}; set only one of them`
            : `is ${JSON.stringify(bag[field])} but ${urlVariable} names ${JSON.stringify(value)}; set only one of them, or make them agree`,
        });
      }
      continue;
    }
    bag[field] = value;
    origins.set(`database.${field}`, { variable: urlVariable, raw: undefined });
  }
  if (parsed.parts.applicationName !== undefined && !isSet('session', 'applicationName')) {
    sections.session.applicationName = parsed.parts.applicationName;
  }
}

function crossCheck(
  s: Sections,
  sshWanted: boolean,
  problems: ConfigProblem[],
  name: (s: SectionName, p: string) => string,
  isSet: (s: SectionName, p: string) => boolean,
): void {
  if (s.database.url === undefined && s.database.host === undefined) {
    problems.push({
      variable: name('database', 'url'),
      message:
        `no database is configured: set ${name('database', 'url')}=postgres://user:password@host:5432/dbname, ` +
        `or ${name('database', 'host')} (with DB_PORT, DB_USER, DB_PASSWORD, DB_NAME). ` +
        'To try bastion without a server, `npm start` boots an embedded PostgreSQL.',
    });
  }
  if (Number.isInteger(s.pool.min) && Number.isInteger(s.pool.max) && s.pool.min > s.pool.max) {
    problems.push({
      variable: name('pool', 'min'),
      message: `${s.pool.min} is above ${name('pool', 'max')} (${s.pool.max}); expected a minimum not above the maximum`,
    });
  }
  if (s.database.sslRootCertPath !== undefined) {
    if (s.database.sslMode !== 'verify-ca' && s.database.sslMode !== 'verify-full') {
      problems.push({
        variable: name('database', 'sslRootCertPath'),
        message: `is only used with ${name('database', 'sslMode')}=verify-ca or verify-full (it is ${s.database.sslMode})`,
      });
    }
    checkReadable(s.database.sslRootCertPath, name('database', 'sslRootCertPath'), problems);
  }
  if (!sshWanted) return;

  const methods = (['password', 'privateKeyPath', 'privateKey', 'agent'] as const).filter((m) => s.ssh[m] !== undefined);
  const methodNames = (['password', 'privateKeyPath', 'privateKey', 'agent'] as const).map((m) => name('ssh', m));
  if (methods.length === 0) {
    problems.push({
      variable: name('ssh', 'host'),
      message: `is set but no SSH authentication is: set exactly one of ${methodNames.join(', ')}`,
    });
  } else if (methods.length > 1) {
    problems.push({
      variable: name('ssh', methods[1] as string),
      message: `conflicts with ${name('ssh', methods[0] as string)}: set exactly one SSH authentication method`,
    });
  }
  if (s.ssh.passphrase !== undefined && s.ssh.privateKeyPath === undefined && s.ssh.privateKey === undefined) {
    problems.push({
      variable: name('ssh', 'passphrase'),
      message: `is set without a private key; it only decrypts ${name('ssh', 'privateKeyPath')} or ${name('ssh', 'privateKey')}`,
    });
  }
  if (typeof s.ssh.privateKeyPath === 'string') checkReadable(s.ssh.privateKeyPath, name('ssh', 'privateKeyPath'), problems);
  if (typeof s.ssh.agent === 'string' && !existsSync(s.ssh.agent)) {
    problems.push({ variable: name('ssh', 'agent'), message: `${JSON.stringify(s.ssh.agent)} does not exist; expected the path of an ssh-agent socket` });
  }
  if (s.ssh.hostKey !== undefined && s.ssh.knownHosts !== undefined) {
    problems.push({
      variable: name('ssh', 'knownHosts'),
      message: `conflicts with ${name('ssh', 'hostKey')}: verify the host key one way, a pinned fingerprint or a known_hosts file`,
    });
  }
  if (s.ssh.insecureAcceptAnyHostKey === true && (s.ssh.hostKey !== undefined || s.ssh.knownHosts !== undefined)) {
    problems.push({
      variable: name('ssh', 'insecureAcceptAnyHostKey'),
      message: `is true while ${s.ssh.hostKey !== undefined ? name('ssh', 'hostKey') : name('ssh', 'knownHosts')} is set; remove one of them`,
    });
  }
  if (s.ssh.hostKey === undefined && s.ssh.insecureAcceptAnyHostKey !== true) {
    if (s.ssh.knownHosts === undefined) s.ssh.knownHosts = join(homedir(), '.ssh', 'known_hosts');
    if (isSet('ssh', 'knownHosts') || existsSync(s.ssh.knownHosts)) {
      checkReadable(s.ssh.knownHosts, name('ssh', 'knownHosts'), problems);
    } else {
      problems.push({
        variable: name('ssh', 'hostKey'),
        message:
          `is not set and ${s.ssh.knownHosts} does not exist, so the bastion's host key cannot be verified: ` +
          `pin it with ${name('ssh', 'hostKey')}=SHA256:… (ssh-keygen -lf <key.pub>) or point ${name('ssh', 'knownHosts')} at a known_hosts file`,
      });
    }
  }
}

function checkReadable(path: string, variable: string, problems: ConfigProblem[]): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    problems.push({ variable, message: `${JSON.stringify(path)} is not a readable file` });
  }
}

function hideSecrets(target: object | undefined, keys: readonly string[]): void {
  if (!target) return;
  for (const key of keys) {
    const value = (target as Bag)[key];
    if (value === undefined) continue;
    Object.defineProperty(target, key, { value, enumerable: false, writable: false, configurable: false });
  }
}
