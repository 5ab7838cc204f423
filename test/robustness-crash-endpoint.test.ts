// ROBUSTNESS B8, B13, B17 at the decoding level: the trace decoder's per-co-processor history
// recognises the crash notification the way our host must. (Copying the buffer and refusing
// later sends are the host library's part, tested with it.)
import { describe, expect, it } from 'vitest';
import { decodeTrace, type MessageRecord } from '../src/index.js';

function messages(lines: string[]): MessageRecord[] {
  return decodeTrace(`${lines.join('\n')}\n`, { format: 'plain' }).filter(
    (r): r is MessageRecord => r.type === 'message',
  );
}

describe('crash endpoint (EP1) history', () => {
  it('B17: the second IOP type-1 on EP1 is a crash notification, not a buffer request', () => {
    const m = messages([
      '< 1 0x0010100000000000',
      '> 1 0x0010100800004000',
      '< 1 0x0010100800004000',
    ]);
    expect(m.map((r) => r.kind)).toEqual([
      'crashlogBufferRequest',
      'crashlogBufferReply',
      'crashNotification',
    ]);
  });

  it('B13: a SIZE-0 request still arms crash detection', () => {
    const m = messages(['< 1 0x0010000000000000', '< 1 0x0010000000000000']);
    expect(m.map((r) => r.kind)).toEqual(['crashlogBufferRequest', 'crashNotification']);
  });

  it('B8: a notification naming a larger buffer decodes with its own numbers', () => {
    const m = messages([
      '< 1 0x0010100000000000',
      '> 1 0x0010100800004000',
      '< 1 0x001ff00800004000',
    ]);
    expect(m[2]).toMatchObject({
      kind: 'crashNotification',
      fields: { size: 255, iova: '0x800004000' },
    });
  });

  it('each co-processor keeps its own history', () => {
    const trace = [
      '{"t":0,"dir":"iop->ap","coproc":"smc","ep":1,"msg":"0x0010100000000000"}',
      '{"t":1,"dir":"iop->ap","coproc":"dcp","ep":1,"msg":"0x0010100000000000"}',
      '{"t":2,"dir":"iop->ap","coproc":"smc","ep":1,"msg":"0x0010100000000000"}',
    ].join('\n');
    const kinds = decodeTrace(trace)
      .filter((r): r is MessageRecord => r.type === 'message')
      .map((r) => r.kind);
    expect(kinds).toEqual(['crashlogBufferRequest', 'crashlogBufferRequest', 'crashNotification']);
  });
});

describe('crash endpoint without directions', () => {
  it('the host reply to a host-allocated request is not mistaken for a crash', () => {
    const m = messages(['1 0x0010100000000000', '1 0x0010100800004000', '1 0x0010100800004000']);
    expect(m.map((r) => r.kind)).toEqual([
      'crashlogBufferRequest',
      'crashlogBufferReply',
      'crashNotification',
    ]);
    expect(m.every((r) => r.dir === null)).toBe(true);
  });

  it('a firmware-owned request expects no reply: the next word is the crash', () => {
    const m = messages(['1 0x0010100801000000', '1 0x0010100801000000']);
    expect(m.map((r) => r.kind)).toEqual(['crashlogBufferRequest', 'crashNotification']);
  });
});
