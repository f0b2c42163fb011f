#!/usr/bin/env node
// The `ffa-world` command. TypeScript runs through tsx without a build step.
import { tsImport } from 'tsx/esm/api';

await tsImport('./cli.ts', import.meta.url);
