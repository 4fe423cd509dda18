import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderEnvExample } from '../src/config/env-example';

/** Regenerates .env.example from the settings classes (the single source of names, meanings and defaults). */
writeFileSync(join(__dirname, '..', '.env.example'), renderEnvExample());
console.log('wrote .env.example');
