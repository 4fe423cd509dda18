/**
 * Secrets the test scenarios use (database and SSH passwords, key passphrases). The global teardown fails the
 * run if any of them appears in any log line written by any test.
 */
export const TEST_SECRETS = [
  'db-Pa55word-never-logged',
  'ssh-Pa55word-never-logged',
  'key-Passphrase-never-logged',
] as const;

export const [DB_PASSWORD, SSH_PASSWORD, KEY_PASSPHRASE] = TEST_SECRETS;
