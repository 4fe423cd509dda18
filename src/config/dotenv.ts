import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { config } from 'dotenv';

/**
 * Loads `.env` from the working directory into `process.env` (real variables win; dotenv never overrides)
 * and returns `process.env`. Reading the file again is harmless: it only fills what is still unset.
 */
export function loadDotEnv(path: string = resolve(process.cwd(), '.env')): NodeJS.ProcessEnv {
  if (existsSync(path)) {
    const result = config({ path, quiet: true, override: false });
    if (result.error) throw result.error;
  }
  return process.env;
}
