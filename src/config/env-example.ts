import { describeSettings } from './load-config';

const HEADINGS: Record<string, string> = {
  database: 'Database: where PostgreSQL is (as seen from the bastion when SSH_HOST is set)',
  pool: 'Pool (node-postgres)',
  session: 'Session settings applied to every new connection',
  logging: 'Logging',
  ssh: 'SSH tunnel (only with SSH_HOST)',
};

/** The text of `.env.example`: every variable, one line of explanation with its default, grouped by section. */
export function renderEnvExample(): string {
  const lines = [
    '# bastion configuration. Copy to .env and uncomment what you need: real environment variables always win.',
    "# A named database (Database.connect({ name: 'analytics' })) reads the same variables with its prefix:",
    '# ANALYTICS_DATABASE_URL, ANALYTICS_DB_POOL_MAX, ...',
    '# With no DATABASE_URL or DB_HOST, `npm start` and `npm test` boot an embedded PostgreSQL under .data/.',
  ];
  let section = '';
  for (const setting of describeSettings()) {
    if (setting.section !== section) {
      section = setting.section;
      lines.push('', `## ${HEADINGS[section] ?? section}`);
    }
    lines.push(`# ${setting.description}`, `# ${setting.name}=`);
  }
  return `${lines.join('\n')}\n`;
}
