import { BastionError } from './bastion-error';

/** One configuration problem: which variable, and a sentence saying what is wrong and what is expected. */
export interface ConfigProblem {
  readonly variable: string;
  readonly message: string;
}

/** Invalid or missing configuration; lists every problem found, not only the first. */
export class ConfigError extends BastionError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.variable}: ${p.message}`);
    const noun = problems.length === 1 ? 'problem' : 'problems';
    super(`Invalid configuration (${problems.length} ${noun}):\n${lines.join('\n')}`);
    this.problems = problems;
  }
}
