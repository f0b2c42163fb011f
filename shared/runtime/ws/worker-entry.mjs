// Worker entry for one component (libraries.md tsx trap: `new Worker(url, { execArgv: ['--import',
// 'tsx'] })` fails on Node 20 with ERR_UNKNOWN_FILE_EXTENSION). Plain JavaScript that loads the
// TypeScript worker through tsx's API.
const { tsImport } = await import('tsx/esm/api');
await tsImport('./worker-main.ts', import.meta.url);
