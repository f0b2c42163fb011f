// Worker entry for one thread of the chain floor (plain JavaScript): loads chain-member.ts through
// tsx's API (libraries.md tsx trap: `new Worker(url, { execArgv: ['--import', 'tsx'] })` fails on
// Node 20 with ERR_UNKNOWN_FILE_EXTENSION), as shared/runtime/ws/worker-entry.mjs does.
const { tsImport } = await import('tsx/esm/api');
await tsImport('./chain-member.ts', import.meta.url);
