import type { SshSettings } from '../config/settings';
import { BastionError } from '../errors/bastion-error';
import { TunnelError } from '../errors/connection-errors';
import type { HostKeyVerdict } from './host-key';
import { describeAuth, SshAuth } from './ssh-auth';

/**
 * Why an SSH connection attempt failed. A `permanent` failure (the bastion refused our login or its host key)
 * stops the reconnect loop: retrying a refused login only gets the client banned, and a changed host key must be
 * looked at by a person. Everything else (unreachable, timeouts, resets) is retried with backoff.
 */
export interface SshFailure {
  readonly permanent: boolean;
  readonly error: TunnelError;
}

/** What the classification needs to write a useful message. */
export interface FailureContext {
  /** `user@host:port` */
  readonly bastion: string;
  readonly settings: SshSettings;
  readonly auth: SshAuth | undefined;
  readonly envPrefix: string;
  /** The host key check of this attempt, if the server got that far. */
  readonly verdict: HostKeyVerdict | undefined;
}

/** ssh2 tags its errors with `level`; socket errors also carry `code`. */
interface Ssh2ErrorFields {
  readonly message?: unknown;
  readonly level?: unknown;
  readonly code?: unknown;
}

/** Classifies an ssh2 error (or a close without one) of an attempt that never became ready. */
export function sshFailure(error: unknown, context: FailureContext): SshFailure {
  if (context.verdict && !context.verdict.accepted) return { permanent: true, error: context.verdict.error };
  if (error instanceof TunnelError) return { permanent: true, error };
  if (error instanceof BastionError) return { permanent: true, error: new TunnelError(error.message, { cause: error }) };
  const { bastion, settings, envPrefix } = context;
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Ssh2ErrorFields;
  const message = typeof fields.message === 'string' ? fields.message : 'the connection closed before the SSH handshake finished';
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const cause = error instanceof Error ? { cause: error } : undefined;
  switch (fields.level) {
    case 'client-authentication':
      return {
        permanent: true,
        error: new TunnelError(
          `SSH authentication failed: the bastion ${bastion} refused ${context.auth ? describeAuth(context.auth) : 'the credentials'} ` +
            `(${message}). Check ${envPrefix}SSH_USER and that credential; the tunnel does not retry a refused login.`,
          cause,
        ),
      };
    case 'agent':
      return {
        permanent: true,
        error: new TunnelError(`The ssh-agent at ${envPrefix}SSH_AGENT could not be used to log in to ${bastion} (${message}).`, cause),
      };
    case 'client-timeout':
      return { permanent: false, error: new TunnelError(describeTimeout(message, bastion, settings, envPrefix), cause) };
    case 'client-socket':
    case 'client-dns':
      return {
        permanent: false,
        error: new TunnelError(
          `Cannot reach the SSH bastion ${bastion}${code ? ` (${code})` : ''}: ${message}. Check ${envPrefix}SSH_HOST and ${envPrefix}SSH_PORT.`,
          cause,
        ),
      };
    case 'handshake':
      return {
        permanent: true,
        error: new TunnelError(`The SSH handshake with ${bastion} failed: ${message}.`, cause),
      };
    default:
      // 'protocol' (e.g. lost before the handshake), a DISCONNECT from the server, or a close without an error.
      return { permanent: false, error: new TunnelError(`The SSH connection to ${bastion} failed: ${message}.`, cause) };
  }
}

/** One line for the log and `health().lastError` when a ready connection drops. */
export function describeDrop(error: unknown, bastion: string, settings: SshSettings, envPrefix: string): string {
  const fields = (typeof error === 'object' && error !== null ? error : {}) as Ssh2ErrorFields;
  const message = typeof fields.message === 'string' ? fields.message : undefined;
  if (fields.level === 'client-timeout' && message) return describeTimeout(message, bastion, settings, envPrefix);
  if (message === undefined) return `The SSH connection to ${bastion} closed`;
  const code = typeof fields.code === 'string' ? ` (${fields.code})` : '';
  return `The SSH connection to ${bastion} broke${code}: ${message}`;
}

function describeTimeout(message: string, bastion: string, settings: SshSettings, envPrefix: string): string {
  if (/keepalive/i.test(message)) {
    return (
      `The SSH bastion ${bastion} stopped answering: ${settings.keepaliveCountMax} keepalives went unanswered ` +
      `(${envPrefix}SSH_KEEPALIVE_INTERVAL_MS=${settings.keepaliveIntervalMs}, ${envPrefix}SSH_KEEPALIVE_COUNT_MAX=${settings.keepaliveCountMax})`
    );
  }
  return `No SSH handshake with ${bastion} within ${settings.readyTimeoutMs} ms (${envPrefix}SSH_READY_TIMEOUT_MS)`;
}
