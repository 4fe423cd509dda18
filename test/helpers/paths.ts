import { join } from 'node:path';

/** Where every test's log lines are written, so the teardown can prove no secret was ever logged. */
export const LOG_DIR = join(__dirname, '..', '..', '.data', 'test-logs');
/** Environment variable carrying the admin URL of the test server from the global setup to the workers. */
export const ADMIN_URL_VARIABLE = 'BASTION_TEST_ADMIN_URL';
/** The embedded server's superuser password, for the teardown's secret scan. */
export const EMBEDDED_PASSWORD_VARIABLE = 'BASTION_TEST_EMBEDDED_PASSWORD';
/** The login role of every test database (created by the global setup, password DB_PASSWORD). */
export const TEST_ROLE = 'bastion_test';
