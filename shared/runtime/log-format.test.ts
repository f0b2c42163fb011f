import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { logFormatOf } from './log-format.ts';

describe('log format', () => {
  it('is what FFA_LOG_FORMAT asks for, and refuses what it does not know', () => {
    assert.equal(logFormatOf({ FFA_LOG_FORMAT: 'pretty', NODE_TEST_CONTEXT: 'child' }, false), 'pretty');
    assert.equal(logFormatOf({ FFA_LOG_FORMAT: 'json' }, true), 'json');
    assert.throws(() => logFormatOf({ FFA_LOG_FORMAT: 'fancy' }, true), /FFA_LOG_FORMAT="fancy" must be one of json, pretty/);
  });

  it('unset, is pretty on a terminal only, and never under the test runner or CI', () => {
    assert.equal(logFormatOf({}, true), 'pretty');
    assert.equal(logFormatOf({}, false), 'json');
    assert.equal(logFormatOf({ NODE_TEST_CONTEXT: 'child' }, true), 'json');
    assert.equal(logFormatOf({ CI: 'true' }, true), 'json');
  });

  it('writes pino-pretty lines on stderr when asked, JSON lines otherwise', () => {
    const program = `import pino from 'pino'; import { logDestination, logFormatOf } from './shared/runtime/log-format.ts';
      pino({ base: { component: 'spmc' } }, logDestination(logFormatOf(), false)).info('bitmap created');`;
    const run = (format: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { encoding: 'utf8', env: { ...process.env, FFA_LOG_FORMAT: format } });
    const pretty = run('pretty');
    assert.equal(pretty.status, 0, pretty.stderr);
    assert.match(pretty.stderr, /^\[[\d:.]+\] INFO: bitmap created\n\s+component: "spmc"\n$/);
    const json = JSON.parse(run('json').stderr) as Record<string, unknown>;
    assert.deepEqual([json['msg'], json['component']], ['bitmap created', 'spmc']);
  });
});
