import { BastionError } from '../errors/bastion-error';

/** The command line was wrong (unknown command, missing argument, bad flag); exit code 2. */
export class UsageError extends BastionError {}
