/**
 * Writes `schema/autoheal-config.schema.json`, the JSON Schema of the Autoheal
 * config, from its zod schema (`lambda/shared/config/*-schema.ts`): the input
 * side, what users write, with every default shown. A config file that names
 * it in `"$schema"` gets completion and checks in editors.
 *
 * Run `npm run schema` after changing the config schema (it formats the file
 * with biome, as `npm run lint` wants it);
 * `test/unit/config-schema.test.ts` fails while the committed file is stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { autohealConfigSchema } from '../lambda/shared/autoheal-config';

/** Where the JSON Schema is written, from the project root; shipped in the package. */
export const CONFIG_SCHEMA_FILE = path.join('schema', 'autoheal-config.schema.json');

/** The JSON Schema of the Autoheal config, as the text of the committed file. */
export function configJsonSchemaText(): string {
  const schema = z.toJSONSchema(autohealConfigSchema, {
    io: 'input',
    target: 'draft-2020-12',
    // Cross-field rules and transforms have no JSON Schema form: they stay zod's (and synth's) to check.
    unrepresentable: 'any',
  });
  return `${JSON.stringify({ ...schema, title: 'Autoheal config' }, null, 2)}\n`;
}

if (require.main === module) {
  const file = path.join(__dirname, '..', CONFIG_SCHEMA_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, configJsonSchemaText());
  console.log(`wrote ${CONFIG_SCHEMA_FILE}`);
}
