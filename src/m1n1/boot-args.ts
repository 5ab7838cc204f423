/**
 * iBoot's boot-args structure as m1n1 hands it to the host (GET_BOOTARGS, M1N1-PROXY.md §11.2),
 * the one codec for the client (which decodes what a device sends) and the simulated Mac (which
 * encodes its own). Facts from m1n1 `src/xnuboot.h` and the host side `proxyclient/m1n1/tgtypes.py`:
 * the layout is the same for every revision up to `devtree_size`; the command line after it is
 * 256 (revision ≤ 1), 608 (2) or 1024 (3) bytes, then 4 bytes of padding align `boot_flags` and
 * `mem_size_actual`. The host reads the revision with two READ8s, then the whole structure with one
 * REQ_MEMREAD of `bootArgsSize(revision)` bytes.
 */

import { ErrorCode, RtkitError } from '../errors.js';

/** Byte offsets shared by every revision, up to the command line (§11.2). */
export const BootArgsOffset = {
  revision: 0,
  version: 2,
  virtBase: 8,
  physBase: 16,
  memSize: 24,
  topOfKernelData: 32,
  /** Six u64s in `VIDEO_FIELDS` order. */
  video: 40,
  machineType: 88,
  devtree: 96,
  devtreeSize: 104,
  cmdline: 108,
} as const;

/** Newest revision m1n1's tooling reads: it refuses anything newer (§11.2). */
export const MAX_BOOT_ARGS_REVISION = 3;

/** `cmdline` length per revision; revisions 0 and 1 share the oldest layout. */
const CMDLINE_LENGTH: readonly number[] = [256, 256, 608, 1024];
/** Padding between the command line and `boot_flags` (aligns it to 8). */
const CMDLINE_PAD = 4;
/** `boot_flags` and `mem_size_actual`, the u64s after the padding. */
const TAIL_LENGTH = 16;

const VIDEO_FIELDS = ['base', 'display', 'stride', 'width', 'height', 'depth'] as const;

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
  /** The tooling reads only `video.base` (its framebuffer check at setup). */
  readonly video: VideoArgs;
  readonly machineType: number;
  /** Virtual address of the ADT: the host reads it at `devtree − virtBase + physBase`. */
  readonly devtree: bigint;
  readonly devtreeSize: number;
  /** Up to the first NUL; the encoder takes ASCII shorter than the revision's field. */
  readonly cmdline: string;
  readonly bootFlags: bigint;
  readonly memSizeActual: bigint;
}

/** Length of `cmdline` for `revision` (256, 608 or 1024); BAD_INPUT outside 0–3. */
export function bootArgsCmdlineLength(revision: number): number {
  const n = CMDLINE_LENGTH[revision];
  if (n === undefined) {
    throw new RtkitError(
      ErrorCode.BAD_INPUT,
      `boot args revision ${revision} is not 0–${MAX_BOOT_ARGS_REVISION}`,
      { revision },
    );
  }
  return n;
}

/** Bytes of the structure for `revision` (384, 736 or 1152); BAD_INPUT outside 0–3. */
export function bootArgsSize(revision: number): number {
  return BootArgsOffset.cmdline + bootArgsCmdlineLength(revision) + CMDLINE_PAD + TAIL_LENGTH;
}

/**
 * A revision read from a device: above 3 the layout is unknown, so nothing more may be read or
 * trusted (PROXY_PROTOCOL, as the tooling refuses it). `details` go into the error.
 */
export function checkBootArgsRevision(
  revision: number,
  details: Record<string, unknown> = {},
): void {
  if (revision > MAX_BOOT_ARGS_REVISION) {
    throw new RtkitError(
      ErrorCode.PROXY_PROTOCOL,
      `boot args revision ${revision} is newer than ${MAX_BOOT_ARGS_REVISION}`,
      { revision, ...details },
    );
  }
}

function invalid(field: string, value: unknown, what: string): RtkitError {
  return new RtkitError(
    ErrorCode.ENCODE_INVALID,
    `boot args ${field} ${String(value)} is not ${what}`,
    { field },
  );
}

/** The structure for `args.revision`, every field checked against its width (ENCODE_INVALID). */
export function encodeBootArgs(args: BootArgs): Uint8Array {
  const cmdLength = CMDLINE_LENGTH[args.revision];
  if (cmdLength === undefined) {
    throw invalid('revision', args.revision, `0–${MAX_BOOT_ARGS_REVISION}`);
  }
  const out = new Uint8Array(bootArgsSize(args.revision));
  const v = new DataView(out.buffer);
  const u64 = (at: number, value: bigint, field: string): void => {
    if (typeof value !== 'bigint' || value < 0n || value >= 1n << 64n) {
      throw invalid(field, value, 'a u64');
    }
    v.setBigUint64(at, value, true);
  };
  const u16 = (at: number, value: number, field: string): void => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff)
      throw invalid(field, value, 'a u16');
    v.setUint16(at, value, true);
  };
  const u32 = (at: number, value: number, field: string): void => {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
      throw invalid(field, value, 'a u32');
    }
    v.setUint32(at, value, true);
  };
  const O = BootArgsOffset;
  u16(O.revision, args.revision, 'revision');
  u16(O.version, args.version, 'version');
  u64(O.virtBase, args.virtBase, 'virtBase');
  u64(O.physBase, args.physBase, 'physBase');
  u64(O.memSize, args.memSize, 'memSize');
  u64(O.topOfKernelData, args.topOfKernelData, 'topOfKernelData');
  VIDEO_FIELDS.forEach((name, i) => {
    u64(O.video + 8 * i, args.video[name], `video.${name}`);
  });
  u32(O.machineType, args.machineType, 'machineType');
  u64(O.devtree, args.devtree, 'devtree');
  u32(O.devtreeSize, args.devtreeSize, 'devtreeSize');
  // The tooling decodes the field as ASCII (tgtypes.py PaddedString(…, "ascii")), and it needs
  // its terminating NUL.
  if (!/^[\x01-\x7f]*$/.test(args.cmdline) || args.cmdline.length >= cmdLength) {
    throw new RtkitError(
      ErrorCode.ENCODE_INVALID,
      `boot args cmdline must be ASCII and shorter than ${cmdLength} characters`,
      { field: 'cmdline', length: args.cmdline.length },
    );
  }
  for (let i = 0; i < args.cmdline.length; i++) out[O.cmdline + i] = args.cmdline.charCodeAt(i);
  const flagsAt = O.cmdline + cmdLength + CMDLINE_PAD;
  u64(flagsAt, args.bootFlags, 'bootFlags');
  u64(flagsAt + 8, args.memSizeActual, 'memSizeActual');
  return out;
}

/**
 * Decode a structure read from a device. The bytes are untrusted: fewer than the revision field,
 * a revision above 3 or fewer bytes than the revision's size → PROXY_PROTOCOL. Bytes beyond the
 * revision's size are ignored.
 */
export function decodeBootArgs(bytes: Uint8Array): BootArgs {
  if (bytes.length < 2) {
    throw new RtkitError(
      ErrorCode.PROXY_PROTOCOL,
      `boot args are ${bytes.length} bytes, too short for their revision`,
      { length: bytes.length },
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const O = BootArgsOffset;
  const revision = v.getUint16(O.revision, true);
  checkBootArgsRevision(revision);
  const size = bootArgsSize(revision);
  if (bytes.length < size) {
    throw new RtkitError(
      ErrorCode.PROXY_PROTOCOL,
      `boot args revision ${revision} need ${size} bytes, got ${bytes.length}`,
      { revision, length: bytes.length },
    );
  }
  const u64 = (at: number): bigint => v.getBigUint64(at, true);
  const cmd = bytes.subarray(O.cmdline, O.cmdline + bootArgsCmdlineLength(revision));
  const nul = cmd.indexOf(0);
  const flagsAt = size - TAIL_LENGTH;
  return {
    revision,
    version: v.getUint16(O.version, true),
    virtBase: u64(O.virtBase),
    physBase: u64(O.physBase),
    memSize: u64(O.memSize),
    topOfKernelData: u64(O.topOfKernelData),
    video: Object.fromEntries(
      VIDEO_FIELDS.map((name, i) => [name, u64(O.video + 8 * i)]),
    ) as unknown as VideoArgs,
    machineType: v.getUint32(O.machineType, true),
    devtree: u64(O.devtree),
    devtreeSize: v.getUint32(O.devtreeSize, true),
    // Non-ASCII bytes become U+FFFD rather than an error: the command line is only shown.
    cmdline: new TextDecoder().decode(nul < 0 ? cmd : cmd.subarray(0, nul)),
    bootFlags: u64(flagsAt),
    memSizeActual: u64(flagsAt + 8),
  };
}

/** `decodeBootArgs` under the name the client's API has always used. */
export const parseBootArgs: (bytes: Uint8Array) => BootArgs = decodeBootArgs;
