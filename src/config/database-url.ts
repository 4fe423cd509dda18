import { SSL_MODES, SslMode } from './settings';

/** The fields a `postgres://` URL can name. */
export interface DatabaseUrlParts {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
  readonly password?: string;
  readonly name?: string;
  readonly sslMode?: SslMode;
  readonly applicationName?: string;
}

export type ParsedDatabaseUrl = { ok: true; parts: DatabaseUrlParts } | { ok: false; problem: string };

const SUPPORTED_PARAMS = ['sslmode', 'application_name'];

/** Parses a `postgres://user:password@host:port/db?sslmode=…` URL; problems are sentences without the password. */
export function parseDatabaseUrl(text: string): ParsedDatabaseUrl {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, problem: `${maskUrlPassword(text)} is not a URL; expected postgres://user:password@host:5432/dbname` };
  }
  const shown = maskUrlPassword(text);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return { ok: false, problem: `${shown} has scheme "${url.protocol}"; expected postgres:// or postgresql://` };
  }
  if (!url.hostname) {
    return { ok: false, problem: `${shown} names no host; expected postgres://user:password@host:5432/dbname` };
  }
  const unknown = [...url.searchParams.keys()].filter((k) => !SUPPORTED_PARAMS.includes(k));
  if (unknown.length > 0) {
    return {
      ok: false,
      problem: `${shown} has unsupported parameter(s) ${unknown.join(', ')}; supported: ${SUPPORTED_PARAMS.join(', ')} (use the DB_* variables for the rest)`,
    };
  }
  const sslParam = url.searchParams.get('sslmode') ?? undefined;
  if (sslParam !== undefined && !(SSL_MODES as readonly string[]).includes(sslParam)) {
    return { ok: false, problem: `${shown} has sslmode=${sslParam}; expected one of ${SSL_MODES.join(', ')}` };
  }
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (name.includes('/')) {
    return { ok: false, problem: `${shown} has a path with several segments; expected /dbname` };
  }
  return {
    ok: true,
    parts: {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : undefined,
      user: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      name: name || undefined,
      sslMode: sslParam as SslMode | undefined,
      applicationName: url.searchParams.get('application_name') ?? undefined,
    },
  };
}

/** `postgres://app:s3cret@db/x` → `postgres://app:***@db/x`; also masks `password=…` pairs. Safe on any text. */
export function maskUrlPassword(text: string): string {
  return text
    // Up to the last @ of the authority: a password may itself contain @.
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^\s/?#]*@/gi, '$1***@')
    .replace(/(password\s*=\s*)('[^']*'|"[^"]*"|[^\s&;]+)/gi, '$1***');
}
