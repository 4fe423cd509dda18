import winston from 'winston';
import type { LogFormat, LogLevel } from '../config/settings';
import { LOG_LEVELS } from '../config/settings';
import { redactText, redactValue } from './redact';

/** What the logger factory needs: the LOG_* settings. */
export interface LoggerSettings {
  readonly level: LogLevel;
  readonly format: LogFormat;
}

/**
 * The framework's winston logger: JSON lines for machines, or a compact coloured line for terminals.
 * Everything goes to stderr (or `destination`), so a program's own output on stdout stays clean.
 */
export function createLogger(settings: LoggerSettings, destination?: NodeJS.WritableStream): winston.Logger {
  const format =
    settings.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          ...(process.stderr.isTTY ? [winston.format.colorize({ level: true })] : []),
          winston.format.printf(prettyLine),
        );
  return winston.createLogger({
    level: settings.level,
    levels: winston.config.npm.levels,
    format,
    transports: [
      destination
        ? new winston.transports.Stream({ stream: destination })
        : new winston.transports.Console({ stderrLevels: [...LOG_LEVELS] }),
    ],
  });
}

const PRETTY_LAST = ['sql', 'params'];

function prettyLine(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, ...meta } = info;
  const keys = Object.keys(meta).filter((k) => meta[k] !== undefined);
  const ordered = [...keys.filter((k) => !PRETTY_LAST.includes(k)), ...keys.filter((k) => PRETTY_LAST.includes(k))];
  const pairs = ordered.map((k) => `${k}=${formatValue(meta[k])}`);
  return `${String(timestamp)} ${level} ${String(message)}${pairs.length ? ` ${pairs.join(' ')}` : ''}`;
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[\w.:/@+-]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return String(value);
  // Parameters may hold bigints, which JSON.stringify refuses.
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** Fields a log line may carry; values are redacted before they reach winston. */
export type LogFields = Record<string, unknown>;

/**
 * The only way framework code logs: every message and field passes through redaction first, so no
 * password, passphrase or key reaches a transport, whichever winston logger the user plugged in.
 */
export class Log {
  private readonly cache = new Map<string, boolean>();
  private cachedFor: string | undefined;

  constructor(
    readonly winston: winston.Logger,
    private readonly fields: LogFields = {},
  ) {}

  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Log {
    return new Log(this.winston, { ...this.fields, ...fields });
  }

  /**
   * Cheap check before building an expensive line (e.g. a query line at debug). winston's own check walks its
   * transports on every call (several µs, on every query); the answer only changes with the logger's level, so it
   * is kept per level until that changes.
   */
  enabled(level: LogLevel): boolean {
    const current = this.winston.level;
    if (current !== this.cachedFor) {
      this.cachedFor = current;
      this.cache.clear();
    }
    let answer = this.cache.get(level);
    if (answer === undefined) this.cache.set(level, (answer = this.winston.isLevelEnabled(level)));
    return answer;
  }

  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }

  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }

  write(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const meta = redactValue({ ...this.fields, ...fields }) as LogFields;
    this.winston.log(level, redactText(message), meta);
  }
}
