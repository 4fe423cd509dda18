import 'reflect-metadata';
import { createDataSource } from './src';

/**
 * The DataSource for the stock TypeORM CLI (`npx typeorm-ts-node-commonjs -d ormconfig.ts migration:run`): the same
 * configuration as the application (.env, DATABASE_URL or DB_*, SSH_* for the tunnel), with the sample domain's
 * entities and migrations from their default globs (DB_ENTITIES, DB_MIGRATIONS).
 */
export default createDataSource();
