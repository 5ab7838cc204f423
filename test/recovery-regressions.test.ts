// Regressions found by running `rtkit sim` with boot-time crashes: recovery must be clean, and
// the trace decoder must not carry a co-processor's history across a new HELLO.
import { describe, expect, it } from 'vitest';
import { decodeTrace, type MessageRecord } from '../src/trace/index.js';
import { cli } from './cli-harness.js';

describe('recovery from a crash during boot', () => {
  for (const step of ['hello', 'epmap', 'startep', 'buffer-request', 'first-log']) {
    it(`crash-at=${step}: recover() boots cleanly, zero violations`, async () => {
      for (const profile of ['smc', 'generic']) {
        const r = await cli(['sim', '--profile', profile, '--fault', `crash-at=${step}`]);
        expect(r.code, `${profile}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/violations\s+0/);
      }
    });
  }
});

describe('trace history across a firmware restart', () => {
  it('a new HELLO disarms crash detection: the next buffer request is a request', () => {
    const lines = [
      '< 0 0x00100000000c000b',
      '< 1 0x0010300000000000',
      '> 1 0x0010300800004000',
      '< 1 0x0010300800004000',
      '< 0 0x00100000000c000b',
      '< 1 0x0010300000000000',
    ];
    const kinds = decodeTrace(`${lines.join('\n')}\n`, { format: 'plain' })
      .filter((r): r is MessageRecord => r.type === 'message')
      .map((r) => r.kind);
    expect(kinds).toEqual([
      'hello',
      'crashlogBufferRequest',
      'crashlogBufferReply',
      'crashNotification',
      'hello',
      'crashlogBufferRequest',
    ]);
  });
});
