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
}

/**
 * A logger at the most verbose level whose lines are kept in memory for assertions and also appended to the
 * run's log directory, where the global teardown scans them for secrets.
 */
export function captureLogs(level = 'silly'): LogCapture {
  const lines: Record<string, unknown>[] = [];
  const file = join(LOG_DIR, `${process.pid}.log`);
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString('utf8');
      appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      for (const line of text.split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Stream({ stream: sink })],
  });
  return { logger, lines, messages: (message) => lines.filter((l) => l.message === message) };
}
