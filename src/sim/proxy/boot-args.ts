/**
 * iBoot's boot-args structure as m1n1 hands it to the host (GET_BOOTARGS, M1N1-PROXY.md §11.2):
 * the same layout for every revision up to `devtree_size`, then a command line whose length
 * depends on the revision (m1n1 `src/xnuboot.h`, host side `proxyclient/m1n1/tgtypes.py`).
 * The host reads the revision with two READ8s, then the whole structure with one REQ_MEMREAD of
 * `bootArgsSize(revision)` bytes.
 */

import { ErrorCode, RtkitError } from '../../errors.js';

/** Command-line field length per revision (revisions 0 and 1 share the oldest layout). */
const CMDLINE_LENGTH: Readonly<Record<number, number>> = { 0: 256, 1: 256, 2: 608, 3: 1024 };
/** Offset of the command line: everything before it is common to all revisions. */
const CMDLINE_OFFSET = 108;
/** After the command line: 4 bytes of padding, u64 boot_flags, u64 mem_size_actual. */
const TAIL_LENGTH = 4 + 8 + 8;

/** The highest revision m1n1's host tooling reads (it refuses anything newer). */
export const MAX_BOOT_ARGS_REVISION = 3;

export interface VideoArgs {
  readonly base: bigint;
  readonly display: bigint;
  readonly stride: bigint;
  readonly width: bigint;
  readonly height: bigint;
  readonly depth: bigint;
}

export interface BootArgs {
  readonly revision: number;
  readonly version: number;
  readonly virtBase: bigint;
  readonly physBase: bigint;
  readonly memSize: bigint;
  readonly topOfKernelData: bigint;
  readonly video: VideoArgs;
  readonly machineType: number;
  /** Virtual address of the ADT: the host reads it at `devtree − virtBase + physBase`. */
  readonly devtree: bigint;
  readonly devtreeSize: number;
  /** ASCII, at most the revision's field length minus the terminating NUL. */
  readonly cmdline: string;
  readonly bootFlags: bigint;
  readonly memSizeActual: bigint;
}

/** Bytes of the structure for `revision` (384, 736 or 1152). */
export function bootArgsSize(revision: number): number {
  const cmd = CMDLINE_LENGTH[revision];
  if (cmd === undefined) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `boot-args revision ${revision} is not 0–3`, {
      revision,
    });
  }
  return CMDLINE_OFFSET + cmd + TAIL_LENGTH;
}

function u64(v: DataView, at: number, value: bigint, field: string): void {
  if (value < 0n || value >= 1n << 64n) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `boot-args ${field} is not a u64`, { field });
  }
  v.setBigUint64(at, value, true);
}

function u32(v: DataView, at: number, value: number, field: string, max = 0xffff_ffff): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `boot-args ${field} ${value} is out of range`, {
      field,
    });
  }
  if (max === 0xffff) v.setUint16(at, value, true);
  else v.setUint32(at, value, true);
}

export function encodeBootArgs(args: BootArgs): Uint8Array {
  const size = bootArgsSize(args.revision);
  const cmdLength = size - CMDLINE_OFFSET - TAIL_LENGTH;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  u32(v, 0, args.revision, 'revision', 0xffff);
  u32(v, 2, args.version, 'version', 0xffff);
  u64(v, 8, args.virtBase, 'virtBase');
  u64(v, 16, args.physBase, 'physBase');
  u64(v, 24, args.memSize, 'memSize');
  u64(v, 32, args.topOfKernelData, 'topOfKernelData');
  const video = args.video;
  [video.base, video.display, video.stride, video.width, video.height, video.depth].forEach(
    (x, i) => {
      u64(v, 40 + 8 * i, x, 'video');
    },
  );
  u32(v, 88, args.machineType, 'machineType');
  u64(v, 96, args.devtree, 'devtree');
  u32(v, 104, args.devtreeSize, 'devtreeSize');
  // The host decodes the field as ASCII (tgtypes.py PaddedString(…, "ascii")).
  if (!/^[\x01-\x7f]*$/.test(args.cmdline) || args.cmdline.length >= cmdLength) {
    throw new RtkitError(
      ErrorCode.BAD_INPUT,
      `boot-args cmdline must be ASCII and shorter than ${cmdLength} characters`,
      { length: args.cmdline.length },
    );
  }
  for (let i = 0; i < args.cmdline.length; i++) {
    out[CMDLINE_OFFSET + i] = args.cmdline.charCodeAt(i);
  }
  const tail = CMDLINE_OFFSET + cmdLength + 4;
  u64(v, tail, args.bootFlags, 'bootFlags');
  u64(v, tail + 8, args.memSizeActual, 'memSizeActual');
  return out;
}

/** Decode a structure read from a device (the host's view; never trusts the bytes). */
export function decodeBootArgs(bytes: Uint8Array): BootArgs {
  if (bytes.length < 2) {
    throw new RtkitError(ErrorCode.BAD_INPUT, 'boot-args shorter than their revision field', {
      length: bytes.length,
    });
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const revision = v.getUint16(0, true);
  if (revision > MAX_BOOT_ARGS_REVISION) {
    throw new RtkitError(ErrorCode.BAD_INPUT, `boot-args revision ${revision} is not 0–3`, {
      revision,
    });
  }
  const size = bootArgsSize(revision);
  if (bytes.length < size) {
    throw new RtkitError(
      ErrorCode.BAD_INPUT,
      `boot-args revision ${revision} needs ${size} bytes, got ${bytes.length}`,
      { revision, length: bytes.length },
    );
  }
  const cmdLength = size - CMDLINE_OFFSET - TAIL_LENGTH;
  const cmd = bytes.subarray(CMDLINE_OFFSET, CMDLINE_OFFSET + cmdLength);
  const nul = cmd.indexOf(0);
  const tail = CMDLINE_OFFSET + cmdLength + 4;
  const q = (at: number): bigint => v.getBigUint64(at, true);
  return {
    revision,
    version: v.getUint16(2, true),
    virtBase: q(8),
    physBase: q(16),
    memSize: q(24),
    topOfKernelData: q(32),
    video: {
      base: q(40),
      display: q(48),
      stride: q(56),
      width: q(64),
      height: q(72),
      depth: q(80),
    },
    machineType: v.getUint32(88, true),
    devtree: q(96),
    devtreeSize: v.getUint32(104, true),
    cmdline: String.fromCharCode(...cmd.subarray(0, nul < 0 ? cmd.length : nul)),
    bootFlags: q(tail),
    memSizeActual: q(tail + 8),
  };
}
