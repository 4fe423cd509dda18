import { EventEmitter } from 'node:events';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { LOG_DIR } from './paths';

/** A captured log: every line as the JSON object winston wrote. */
export interface LogCapture {
  readonly logger: winston.Logger;
  readonly lines: Record<string, unknown>[];
  /** Lines whose message equals `message`. */
  messages(message: string): Record<string, unknown>[];
  /** Resolves with the `count`-th line whose message equals `message`, as soon as it is written (no polling). */
  waitFor(message: string, count?: number, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/**
 * A logger at the most verbose level whose lines are kept in memory for assertions and also appended to the
 * run's log directory, where the global teardown scans them for secrets.
 */
export function captureLogs(level = 'silly'): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const written = new EventEmitter();
  const file = join(LOG_DIR, `${process.pid}.log`);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      for (const line of text.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
      written.emit('line');
    },
  });
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  const messages = (message: string): Record<string, unknown>[] => lines.filter((l) => l.message === message);
  const waitFor = (message: string, count = 1, timeoutMs = 10_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = messages(message)[count - 1];
        if (!found) return false;
        clearTimeout(timer);
        written.off('line', check);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        written.off('line', check);
        reject(new Error(`log line ${JSON.stringify(message)} #${count} not written within ${timeoutMs} ms`));
      }, timeoutMs);
      if (!check()) written.on('line', check);
    });
  return { logger, lines, messages, waitFor };
}
