/**
 * Bulk data of REQ_MEMREAD and REQ_MEMWRITE (M1N1-PROXY.md §3): raw bytes right after the reply
 * (MEMREAD) or the request (MEMWRITE), unframed. With data checksums on, the frame's
 * `data_checksum` covers them; with DISABLE_DATA_CSUMS on, the field is `0xD0DECADE` and the
 * sentinel `10 CC CA B0` follows the data instead (§5).
 */

import { ErrorCode, RtkitError } from '../errors.js';
import { DATA_SENTINEL_BYTES, dataChecksumField, m1n1Checksum } from './checksum.js';
import { encodeReply, encodeRequest, ReplyStatus } from './frames.js';

/** Wire bytes that follow the frame for `size` data bytes. */
export function bulkWireLength(size: number, checksums: boolean): number {
  return size + (checksums ? 0 : DATA_SENTINEL_BYTES.length);
}

function concat(head: Uint8Array, data: Uint8Array, checksums: boolean): Uint8Array {
  const out = new Uint8Array(head.length + bulkWireLength(data.length, checksums));
  out.set(head, 0);
  out.set(data, head.length);
  if (!checksums) out.set(DATA_SENTINEL_BYTES, head.length + data.length);
  return out;
}

/** Host side: the REQ_MEMWRITE request followed by its data (and sentinel), ready to send. */
export function encodeMemWrite(addr: bigint, data: Uint8Array, checksums: boolean): Uint8Array {
  const head = encodeRequest({
    kind: 'memwrite',
    addr,
    size: BigInt(data.length),
    dataChecksum: dataChecksumField(data, checksums),
  });
  return concat(head, data, checksums);
}

/**
 * Device side: the OK reply of a REQ_MEMREAD followed by the data (and sentinel), one unit as m1n1
 * sends it. Size 0 carries data checksum 0 (§3.1) and still the sentinel when checksums are off.
 */
export function encodeMemReadReply(data: Uint8Array, checksums: boolean): Uint8Array {
  const dataChecksum = data.length === 0 ? 0 : dataChecksumField(data, checksums);
  const head = encodeReply({ kind: 'memread', status: ReplyStatus.Ok, dataChecksum });
  return concat(head, data, checksums);
}

export interface BulkCheck {
  /** The data bytes (without the sentinel). */
  readonly data: Uint8Array;
  /**
   * Checksum computed over `data`, checksums on only: with DISABLE_DATA_CSUMS the sentinel is
   * what is checked, and a per-byte checksum (~1 ms per MiB) would be wasted on every transfer.
   */
  readonly checksum?: number;
  readonly valid: boolean;
  /** Set when not valid: `data-checksum` or `sentinel`. */
  readonly reason?: 'data-checksum' | 'sentinel';
}

/**
 * Check received bulk bytes (`bulkWireLength(size)` of them). `expected` is the frame's
 * `data_checksum`; it is ignored when checksums are off (it should then be 0xD0DECADE) and for
 * size 0, where m1n1 sends 0 rather than the checksum of nothing.
 */
export function checkBulkData(
  wire: Uint8Array,
  size: number,
  checksums: boolean,
  expected: number,
): BulkCheck {
  if (wire.length !== bulkWireLength(size, checksums)) {
    throw new RtkitError(
      ErrorCode.BAD_INPUT,
      `bulk data is ${wire.length} bytes, expected ${bulkWireLength(size, checksums)}`,
      {
        size,
        checksums,
      },
    );
  }
  return checkBulkAt(wire, 0, size, checksums, expected);
}

/**
 * `checkBulkData` on the wire bytes held at `buf[at…]` (the caller knows they are all there):
 * the data is copied out once, the sentinel checked where it lies. The parsers use it so a
 * transfer is not copied twice.
 */
export function checkBulkAt(
  buf: Uint8Array,
  at: number,
  size: number,
  checksums: boolean,
  expected: number,
): BulkCheck {
  const data = buf.slice(at, at + size);
  if (checksums) {
    const checksum = m1n1Checksum(data);
    if (size > 0 && checksum !== expected >>> 0) {
      return { data, checksum, valid: false, reason: 'data-checksum' };
    }
    return { data, checksum, valid: true };
  }
  for (let i = 0; i < DATA_SENTINEL_BYTES.length; i++) {
    if (buf[at + size + i] !== DATA_SENTINEL_BYTES[i])
      return { data, valid: false, reason: 'sentinel' };
  }
  return { data, valid: true };
}
