#!/usr/bin/env node
// The `bastion` command. In a checkout (src/ present) it runs the TypeScript sources through ts-node (swc, no type
// check); in an installed package it runs the compiled dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'src', 'cli', 'main.ts');
let main;
if (existsSync(source)) {
  require('ts-node').register({ project: join(root, 'tsconfig.json'), swc: true, compilerOptions: { module: 'commonjs' } });
  main = require(source);
} else {
  main = require(join(root, 'dist', 'src', 'cli', 'main.js'));
}
main.runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  },
);
