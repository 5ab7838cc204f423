/**
 * Mode B (PROTOCOL.md §6.3): the firmware already owns the buffer and announces its IOVA; the
 * host only finds the memory behind it for its own CPU access and sends no reply. AS DCP and
 * m1n1-C translate the IOVA through the DART; OpenBSD maps device-tree memory regions.
 *
 * - Every page of `[iova, iova + bytes)` is translated; the physical pages need not be
 *   contiguous, so the buffer reads and writes run by run.
 * - Any unmapped page → `BUFFER_UNMAPPED` (ROBUSTNESS B24: never decode from a buffer we do not
 *   hold a view of); outside the optional window → `BUFFER_OUT_OF_WINDOW` (M5).
 * - A mapping hook (a driver's own lookup, as in the AS Rust binding) must describe exactly the
 *   requested IOVA: a different device address or a shorter range → `BUFFER_MAP_MISMATCH`
 *   (ROBUSTNESS B35: AS overwrote the IOVA with the buffer's own and hid the mismatch).
 * - The IOMMU mapping is the firmware's (the bootloader made it): release drops the host's view
 *   and never unmaps it.
 */

import {
  type AddressWindow,
  checkDeviceRange,
  checkDramMask,
  checkMaxBytes,
  checkWindow,
  type Grant,
  HostSharedBuffer,
  hex,
  inWindow,
  isU53,
  type Refusal,
  ramIo,
  refuse,
  type Segment,
  StrategySkeleton,
  stripMask,
} from './common.js';
import type { BufferRequest, BufferStrategy, HostMemory, IommuControl } from './types.js';

/** What a mapping hook found behind a firmware IOVA. */
export interface FirmwareMapping {
  /** The device address the mapping starts at; must equal the requested IOVA (mask stripped). */
  readonly device: number;
  /** Physical runs in buffer order; together at least the requested length. */
  readonly segments: readonly Segment[];
}

export interface FirmwareIovaStrategyOptions {
  readonly memory: HostMemory;
  readonly iommu: IommuControl;
  /** IOVAs (without the dram mask) the firmware may announce, e.g. its reserved region. */
  readonly window?: AddressWindow;
  /** ADT `asc-dram-mask`: stripped from the announced IOVA; an IOVA lacking it is refused. */
  readonly dramMask?: number;
  /** Largest request accepted (default 1 MiB). */
  readonly maxBytes?: number;
  /**
   * The driver's own lookup instead of the IOMMU walk. Undefined = nothing there
   * (`BUFFER_UNMAPPED`). Its answer is checked against the request (B35).
   */
  readonly map?: (iova: number, bytes: number) => Promise<FirmwareMapping | undefined>;
  /** Host-allocated requests (IOVA 0) go here; without it they are refused. */
  readonly fallback?: BufferStrategy;
  readonly name?: string;
}

/** Translate every IOMMU page of a range, or report the first unmapped address. */
export async function translateRange(
  iommu: IommuControl,
  iova: number,
  bytes: number,
): Promise<{ segments: Segment[] } | { unmapped: number }> {
  const ps = iommu.pageSize;
  const segments: Segment[] = [];
  let pos = 0;
  while (pos < bytes) {
    const at = iova + pos;
    const pa = await iommu.translate(at);
    if (!isU53(pa)) return { unmapped: at };
    const n = Math.min(ps - (at % ps), bytes - pos);
    const last = segments[segments.length - 1];
    // Merge physically contiguous pages: fewer copies, and nothing assumed when they are not.
    if (last !== undefined && last.paddr + last.len === pa) {
      segments[segments.length - 1] = { paddr: last.paddr, len: last.len + n };
    } else segments.push({ paddr: pa, len: n });
    pos += n;
  }
  return { segments };
}

export function firmwareIovaStrategy(opts: FirmwareIovaStrategyOptions): BufferStrategy {
  const { memory, iommu } = opts;
  const mask = checkDramMask(opts.dramMask);
  if (opts.window !== undefined) checkWindow(opts.window, 'firmware IOVA window');
  const window = opts.window;
  const name = opts.name ?? 'firmware-iova';

  const firmwareOwned = async (req: BufferRequest): Promise<Grant | Refusal> => {
    const range = checkDeviceRange(req);
    if (range) return range;
    const iova = stripMask(req.iova, mask);
    if (iova === undefined) {
      return refuse(
        'BUFFER_UNMAPPED',
        `endpoint ${hex(req.ep)}: IOVA ${hex(req.iova)} lacks the asc-dram-mask bits ${hex(mask)}`,
      );
    }
    if (window !== undefined && !inWindow(iova, req.bytes, window.base, window.size)) {
      return refuse(
        'BUFFER_OUT_OF_WINDOW',
        `endpoint ${hex(req.ep)}: firmware buffer ${hex(iova)}+${hex(req.bytes)} is outside ` +
          `[${hex(window.base)}, ${hex(window.base + window.size - 1)}]`,
      );
    }
    let segments: readonly Segment[];
    if (opts.map !== undefined) {
      const m = await opts.map(iova, req.bytes);
      if (m === undefined) {
        return refuse(
          'BUFFER_UNMAPPED',
          `endpoint ${hex(req.ep)}: nothing mapped at firmware IOVA ${hex(iova)}`,
        );
      }
      const covered = coveredBytes(m.segments);
      if (m.device !== iova || covered === undefined || covered < req.bytes) {
        return refuse(
          'BUFFER_MAP_MISMATCH',
          `endpoint ${hex(req.ep)}: the mapping of IOVA ${hex(iova)}+${hex(req.bytes)} ` +
            `describes ${hex(m.device)}+${covered === undefined ? 'invalid runs' : hex(covered)}`,
        );
      }
      segments = trim(m.segments, req.bytes);
    } else {
      const t = await translateRange(iommu, iova, req.bytes);
      if ('unmapped' in t) {
        return refuse(
          'BUFFER_UNMAPPED',
          `endpoint ${hex(req.ep)}: firmware buffer ${hex(iova)}+${hex(req.bytes)}: IOVA ` +
            `${hex(t.unmapped)} is not mapped`,
        );
      }
      segments = t.segments;
    }
    const buffer = new HostSharedBuffer(
      req.ep,
      'firmware-iova',
      req.iova,
      req.bytes,
      { iova, segments },
      ramIo(memory, segments),
    );
    return { buffer, reply: false, teardown: async () => {} };
  };

  return new StrategySkeleton({
    name,
    maxBytes: checkMaxBytes(opts.maxBytes),
    firmwareOwned,
    delegate: opts.fallback,
    hostRefusal: (req) =>
      refuse(
        'BUFFER_REJECTED',
        `endpoint ${hex(req.ep)}: request without an IOVA refused (the ${name} strategy needs ` +
          'the firmware to own the buffer)',
      ),
  });
}

function coveredBytes(segments: readonly Segment[]): number | undefined {
  let n = 0;
  for (const s of segments) {
    if (!(isU53(s.paddr) && isU53(s.len) && s.len > 0)) return undefined;
    n += s.len;
  }
  return n;
}

/** The runs cut to exactly `bytes`: a longer mapping never widens the grant (M4). */
function trim(segments: readonly Segment[], bytes: number): Segment[] {
  const out: Segment[] = [];
  let left = bytes;
  for (const s of segments) {
    if (left === 0) break;
    const n = Math.min(s.len, left);
    out.push({ paddr: s.paddr, len: n });
    left -= n;
  }
  return out;
}
