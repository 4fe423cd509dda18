// Exits 0 when a PostgreSQL server answers at the URL given as the first argument (used by .ci/run).
const { Client } = require('pg');

const client = new Client({ connectionString: process.argv[2], connectionTimeoutMillis: 3000 });
client
  .connect()
  .then(() => client.query('SHOW server_version'))
  .then((result) => {
    console.log(`PostgreSQL ${result.rows[0].server_version} is reachable`);
    return client.end().then(() => process.exit(0));
  })
  .catch((error) => {
    console.log(`not reachable: ${error.message}`);
    process.exit(1);
  });
