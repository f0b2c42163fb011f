/**
 * Writes the scenario format's JSON Schema for editors (scenarios/scenario.schema.json), generated
 * from the loader's zod schema so that the two cannot disagree. services/orchestrator/scenario/json-schema.test.ts
 * fails when the committed file is stale; run this to refresh it:
 *
 *   npx tsx scripts/scenario-schema.ts           # write the file
 *   npx tsx scripts/scenario-schema.ts --check   # exit 1 if the file is stale
 *
 * Editors pick it up from a modeline on a scenario's first line:
 *   # yaml-language-server: $schema=../scenario.schema.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchemaText } from '../services/orchestrator/scenario/json-schema.ts';

const SCENARIO_SCHEMA_PATH = fileURLToPath(new URL('../scenarios/scenario.schema.json', import.meta.url));

function committedText(): string | null {
  try {
    return readFileSync(SCENARIO_SCHEMA_PATH, 'utf8');
  } catch {
    return null;
  }
}

const text = scenarioJsonSchemaText();
if (process.argv.includes('--check')) {
  const fresh = committedText() === text;
  console.log(fresh ? `${SCENARIO_SCHEMA_PATH} is up to date` : `${SCENARIO_SCHEMA_PATH} is stale: run npx tsx scripts/scenario-schema.ts`);
  process.exitCode = fresh ? 0 : 1;
} else {
  writeFileSync(SCENARIO_SCHEMA_PATH, text);
  console.log(`wrote ${SCENARIO_SCHEMA_PATH}`);
}
