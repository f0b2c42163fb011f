/**
 * The scenario's JSON Schema for editors (yaml-language-server), generated from its zod schema
 * (schema.ts) so that the two cannot disagree; scenarios/scenario.schema.json is its published
 * text, written by scripts/scenario-schema.ts and checked by json-schema.test.ts.
 */
import { z } from 'zod';
import { scenarioSchema } from './schema.ts';
import { isU64Schema } from './value-shapes.ts';

/**
 * The JSON Schema for editors (yaml-language-server). Draft 7, which every editor plugin reads.
 * A 64-bit value is a bigint here, which JSON Schema has no type for: it is written as an integer.
 */
export function scenarioJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(scenarioSchema, {
    target: 'draft-07',
    io: 'input',
    unrepresentable: (ctx) => (ctx.zodSchema._zod.def.type === 'bigint' ? { type: 'integer', minimum: 0 } : 'throw'),
    override: (ctx) => {
      if (!isU64Schema(ctx.zodSchema)) return;
      // An editor reads 0x8004000040000003 as an integer; one type reads better than number-or-bigint.
      delete ctx.jsonSchema.anyOf;
      Object.assign(ctx.jsonSchema, { type: 'integer', minimum: 0 });
    },
  });
}

/** The published file's text (scenarios/scenario.schema.json): what scripts/scenario-schema.ts writes. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}
