import { PassThrough } from 'node:stream';
import { createLogger } from '../../src';
import { Log } from '../../src/logging/logger';
import { redactText, redactValue, registerSecret } from '../../src/logging/redact';
import { DB_PASSWORD, KEY_PASSPHRASE, SSH_PASSWORD } from '../helpers/secrets';

function lines(stream: PassThrough): string[] {
  const out: string[] = [];
  let chunk: Buffer | null;
  while ((chunk = stream.read() as Buffer | null) !== null) out.push(...chunk.toString('utf8').split('\n').filter(Boolean));
  return out;
}

describe('redaction', () => {
  beforeAll(() => {
    for (const secret of [DB_PASSWORD, SSH_PASSWORD, KEY_PASSPHRASE]) registerSecret(secret);
  });

  it('masks passwords in connection strings of any scheme', () => {
    expect(redactText('connecting to postgres://app:hunter22@db:5432/x failed')).toBe('connecting to postgres://app:***@db:5432/x failed');
    expect(redactText('redis://:topsecret@cache:6379')).toBe('redis://:***@cache:6379');
    expect(redactText('host=db password=hunter22 user=app')).toBe('host=db password=*** user=app');
    expect(redactText('postgres://app:s3cr@tPassw0rd@db.internal/x?y=1')).toBe('postgres://app:***@db.internal/x?y=1');
  });

  it('masks every registered secret wherever it appears', () => {
    expect(redactText(`auth with ${SSH_PASSWORD} then ${KEY_PASSPHRASE}`)).toBe('auth with *** then ***');
  });

  it('masks secret-named keys and registered values deep inside log fields', () => {
    expect(
      redactValue({ password: 'short', nested: { passphrase: 'x', list: [`a${DB_PASSWORD}b`] }, privateKey: 'k', count: 3 }),
    ).toEqual({ password: '***', nested: { passphrase: '***', list: ['a***b'] }, privateKey: '***', count: 3 });
  });

  it('masks a private key line by line', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE\n-----END OPENSSH PRIVATE KEY-----';
    registerSecret(key);
    expect(redactText('parse error near b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE')).toBe('parse error near ***');
  });
});

describe('createLogger', () => {
  it('writes JSON lines for machines', () => {
    const stream = new PassThrough();
    const log = new Log(createLogger({ level: 'debug', format: 'json' }, stream));
    log.debug('query', { ms: 2, rows: 1, sql: 'SELECT 1' });
    const [line] = lines(stream);
    expect(JSON.parse(line!)).toMatchObject({ level: 'debug', message: 'query', ms: 2, rows: 1, sql: 'SELECT 1' });
  });

  it('writes one compact line per event for terminals, SQL last, undefined fields left out', () => {
    const stream = new PassThrough();
    const log = new Log(createLogger({ level: 'info', format: 'pretty' }, stream));
    log.info('query', { sql: 'SELECT $1', ms: 1.5, rows: undefined, worker: 'w 1' });
    log.debug('hidden below the level');
    const out = lines(stream);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} info query ms=1.5 worker="w 1" sql="SELECT \$1"$/);
  });

  it('redacts before any transport sees the line', () => {
    const stream = new PassThrough();
    const log = new Log(createLogger({ level: 'info', format: 'json' }, stream));
    log.warn(`failed for postgres://u:${DB_PASSWORD}@h/db`, { error: `bad ${SSH_PASSWORD}`, password: DB_PASSWORD });
    const text = lines(stream).join('\n');
    expect(text).not.toContain(DB_PASSWORD);
    expect(text).not.toContain(SSH_PASSWORD);
    expect(JSON.parse(text)).toMatchObject({ message: 'failed for postgres://u:***@h/db', error: 'bad ***', password: '***' });
  });
});
