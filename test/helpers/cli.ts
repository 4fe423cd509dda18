import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** What one `bastion` process did. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'bastion.js');

/** Runs `bastion <args>` as a real child process with only `env` (plus PATH/HOME) as its environment. */
export function bastion(args: readonly string[], env: Record<string, string>, cwd = ROOT): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
