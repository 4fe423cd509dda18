import { readFileSync } from 'node:fs';
import { AnyAuthMethod, ParsedKey, utils } from 'ssh2';
import type { SshSettings } from '../config/settings';
import { TunnelError } from '../errors/connection-errors';

/**
 * The one way the tunnel logs in to the bastion. A private key is decrypted once (bcrypt-pbkdf takes ~0.3 s) and
 * kept, non-enumerable, for every reconnect; a password stays in the (non-enumerable) settings.
 */
export type SshAuth =
  | { readonly method: 'password'; readonly variable: string }
  | { readonly method: 'publickey'; readonly variable: string; readonly key: ParsedKey }
  | { readonly method: 'agent'; readonly variable: string; readonly socket: string };

/** Resolves the configured authentication; throws TunnelError (never quoting a secret) when a key is unusable. */
export function sshAuth(ssh: SshSettings, envPrefix = ''): SshAuth {
  if (ssh.password !== undefined) return { method: 'password', variable: `${envPrefix}SSH_PASSWORD` };
  if (ssh.agent !== undefined) return { method: 'agent', variable: `${envPrefix}SSH_AGENT`, socket: ssh.agent };
  const inline = ssh.privateKey !== undefined;
  const variable = `${envPrefix}${inline ? 'SSH_PRIVATE_KEY' : 'SSH_PRIVATE_KEY_PATH'}`;
  const text = inline ? ssh.privateKey : readKey(ssh.privateKeyPath, variable);
  if (text === undefined) {
    throw new TunnelError(`No SSH authentication is configured: set one of ${envPrefix}SSH_PASSWORD, ${envPrefix}SSH_PRIVATE_KEY_PATH, ${envPrefix}SSH_PRIVATE_KEY or ${envPrefix}SSH_AGENT.`);
  }
  const parsed = utils.parseKey(text, ssh.passphrase);
  if (parsed instanceof Error) {
    const hint =
      ssh.passphrase === undefined
        ? ` If the key is encrypted, set ${envPrefix}SSH_PASSPHRASE.`
        : ` Check ${envPrefix}SSH_PASSPHRASE.`;
    throw new TunnelError(`The private key in ${variable} cannot be used: ${parsed.message}.${hint}`);
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
  if (!key.isPrivateKey()) throw new TunnelError(`${variable} holds a public key; it must be the private key.`);
  const auth = { method: 'publickey' as const, variable };
  Object.defineProperty(auth, 'key', { value: key, enumerable: false });
  return auth as SshAuth;
}

/** The ssh2 auth strategy for one connection attempt: exactly the configured method, nothing else is tried. */
export function authMethod(ssh: SshSettings, auth: SshAuth): AnyAuthMethod {
  const username = ssh.user;
  switch (auth.method) {
    case 'password':
      return { type: 'password', username, password: ssh.password ?? '' };
    case 'publickey':
      return { type: 'publickey', username, key: auth.key };
    case 'agent':
      return { type: 'agent', username, agent: auth.socket };
    default: {
      const never: never = auth;
      throw new Error(`unhandled SSH auth ${String(never)}`);
    }
  }
}

/** "password (SSH_PASSWORD)" and the like: which credential was used, never its value. */
export function describeAuth(auth: SshAuth): string {
  switch (auth.method) {
    case 'password':
      return `password (${auth.variable})`;
    case 'publickey':
      return `${auth.key.type} key (${auth.variable})`;
    case 'agent':
      return `ssh-agent keys (${auth.variable})`;
    default: {
      const never: never = auth;
      throw new Error(`unhandled SSH auth ${String(never)}`);
    }
  }
}

function readKey(path: string | undefined, variable: string): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TunnelError(`Cannot read the private key file ${path} named by ${variable} (${String(code ?? error)}).`, { cause: error });
  }
}
