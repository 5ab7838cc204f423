import { describe, expect, it } from 'vitest';
import { bulkWireLength, checkBulkData, encodeMemReadReply, encodeMemWrite } from './bulk.js';
import { DATA_CHECKSUM_DISABLED } from './checksum.js';
import { encodeReply, ReplyStatus } from './frames.js';
import {
  DATA_00_0F,
  DATA_DEADBEEF,
  hexBytes,
  REPLY_VECTORS,
  REQUEST_VECTORS,
  SENTINEL_HEX,
  toHex,
} from './testing/vectors.js';

describe('bulk data framing (M1N1-PROXY.md §3)', () => {
  it('MEMWRITE with checksums on: request then the raw data', () => {
    const wire = encodeMemWrite(0x801000000n, DATA_DEADBEEF, true);
    expect(toHex(wire)).toBe(`${toHex(hexBytes(REQUEST_VECTORS.memWriteOn))}deadbeef`);
  });

  it('MEMWRITE with checksums off: 0xD0DECADE, data, sentinel', () => {
    const wire = encodeMemWrite(0x801000000n, DATA_DEADBEEF, false);
    expect(toHex(wire)).toBe(
      `${toHex(hexBytes(REQUEST_VECTORS.memWriteOff))}deadbeef${toHex(hexBytes(SENTINEL_HEX))}`,
    );
  });

  it('MEMREAD reply with checksums on and off', () => {
    expect(toHex(encodeMemReadReply(DATA_00_0F, true))).toBe(
      toHex(hexBytes(REPLY_VECTORS.memReadOn)) + toHex(DATA_00_0F),
    );
    expect(toHex(encodeMemReadReply(DATA_00_0F, false))).toBe(
      `${toHex(hexBytes(REPLY_VECTORS.memReadOff)) + toHex(DATA_00_0F)}10cccab0`,
    );
  });

  it('MEMREAD fault reply matches the XFRERR example', () => {
    expect(encodeReply({ kind: 'memread', status: ReplyStatus.XfrErr, dataChecksum: 0 })).toEqual(
      hexBytes(REPLY_VECTORS.memReadFault),
    );
  });

  it('size 0: checksum field 0, no data; the sentinel still follows when checksums are off', () => {
    const on = encodeMemReadReply(new Uint8Array(0), true);
    expect(on.length).toBe(36);
    expect(Array.from(on.subarray(8, 12))).toEqual([0, 0, 0, 0]);
    expect(toHex(encodeMemReadReply(new Uint8Array(0), false).subarray(36))).toBe('10cccab0');
    expect(checkBulkData(new Uint8Array(0), 0, true, 0).valid).toBe(true);
  });

  it('checks data checksum and sentinel', () => {
    expect(bulkWireLength(4, true)).toBe(4);
    expect(bulkWireLength(4, false)).toBe(8);
    expect(checkBulkData(DATA_DEADBEEF, 4, true, 0xca6bd27e)).toMatchObject({ valid: true });
    expect(checkBulkData(DATA_DEADBEEF, 4, true, 0xca6bd27f)).toMatchObject({
      valid: false,
      reason: 'data-checksum',
    });
    const off = hexBytes(`deadbeef ${SENTINEL_HEX}`);
    expect(checkBulkData(off, 4, false, DATA_CHECKSUM_DISABLED)).toMatchObject({
      valid: true,
      data: DATA_DEADBEEF,
    });
    off[7] = 0;
    expect(checkBulkData(off, 4, false, DATA_CHECKSUM_DISABLED)).toMatchObject({
      valid: false,
      reason: 'sentinel',
    });
    // Checksums off: only the sentinel is checked, no checksum is computed (or reported).
    expect(checkBulkData(off, 4, false, 0x1234)).not.toHaveProperty('checksum');
    expect(checkBulkData(DATA_DEADBEEF, 4, true, 0)).toEqual({
      data: DATA_DEADBEEF,
      checksum: 0xca6bd27e,
      valid: false,
      reason: 'data-checksum',
    });
    expect(checkBulkData(new Uint8Array(0), 0, true, 0).checksum).toBe(0x73736542);
    expect(() => checkBulkData(off, 5, false, 0)).toThrow(/BAD_INPUT/);
  });
});
