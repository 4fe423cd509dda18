import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgresError, startEmbeddedPostgres } from '../../src';

describe('startEmbeddedPostgres', () => {
  it('refuses a data directory that holds something else, and leaves it untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-not-a-cluster-'));
    try {
      writeFileSync(join(dir, 'notes.txt'), 'precious');
      const error = await startEmbeddedPostgres({ dataDir: dir, persistent: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbeddedPostgresError);
      expect((error as Error).message).toContain('is not empty and holds no PostgreSQL cluster');
      expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('precious');
      expect(existsSync(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
