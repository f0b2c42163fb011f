/**
 * `npm run compose:credentials [-- --force] [-- --out DIR]`: makes compose/credentials/ (git-ignored),
 * one file per service role with the keys of that service's own links only
 * (scripts/compose/credentials.ts). docker-compose.yml mounts each into its own service. Refuses to
 * overwrite existing files unless --force: running services would no longer match. Exit 0 made,
 * 1 refused (files exist), 2 bad arguments.
 */
import { resolve } from 'node:path';
import { cac } from 'cac';
import { CredentialsExistError, writeWorldCredentials } from './compose/credentials.ts';

const EXIT = { made: 0, refused: 1, invalid: 2 } as const;

const cli = cac('compose:credentials');
cli
  .command('', 'make the credentials files of a world of services')
  .option('--out <dir>', 'where the files go', { default: 'compose/credentials' })
  .option('--force', 'replace existing files (services started with the old ones no longer link)')
  .action((options: { out: string; force?: boolean }) => {
    try {
      const files = writeWorldCredentials(resolve(String(options.out)), options.force === true);
      process.stdout.write(`compose:credentials: wrote ${files.length} files (each readable by its owner only):\n${files.map((f) => `  ${f}\n`).join('')}`);
    } catch (error) {
      if (!(error instanceof CredentialsExistError)) throw error;
      process.stderr.write(`compose:credentials: ${error.message}\n`);
      process.exit(EXIT.refused);
    }
  });
cli.help();
try {
  cli.parse(process.argv, { run: false });
  const unknown = Object.keys(cli.options).filter((key) => !['--', 'out', 'force', 'help', 'h'].includes(key));
  if (unknown.length > 0 || cli.args.length > 0) throw new Error(`unknown argument ${[...unknown.map((k) => `--${k}`), ...cli.args].join(' ')}`);
  await cli.runMatchedCommand();
} catch (error) {
  process.stderr.write(`compose:credentials: ${(error as Error).message}\n`);
  process.exit(EXIT.invalid);
}
