/**
 * One string names a link, for the CLI and the environment: `tcp:HOST:PORT` (IPv6 in brackets),
 * or a serial device path with an optional `:BAUD`, read as m1n1's tooling reads `M1N1DEVICE`
 * (the baud rate follows the last colon; M1N1-PROXY.md §1).
 */

import type { Clock } from '../clock.js';
import type { ByteLink } from '../m1n1/link.js';
import { checkBaudRate } from '../m1n1/web-serial-link.js';
import { badInput, checkHost, checkPort } from './common.js';
import { openSerial } from './serial.js';
import { connectTcp } from './tcp.js';

export type DeviceSpec =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'serial'; path: string; baudRate?: number };

const FORMS = 'expected tcp:HOST:PORT or a device path with an optional :BAUD';

function parseTcp(spec: string, rest: string): DeviceSpec {
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0 || rest[end + 1] !== ':')
      throw badInput(`bad device spec ${JSON.stringify(spec)}: ${FORMS}`, { spec });
    host = rest.slice(0, end + 1);
    portText = rest.slice(end + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0)
      throw badInput(`bad device spec ${JSON.stringify(spec)}: no port; ${FORMS}`, { spec });
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(':')) {
      throw badInput(
        `bad device spec ${JSON.stringify(spec)}: an IPv6 address goes in brackets, tcp:[::1]:PORT`,
        {
          spec,
        },
      );
    }
  }
  if (!/^\d{1,5}$/.test(portText)) {
    throw badInput(
      `bad device spec ${JSON.stringify(spec)}: port ${JSON.stringify(portText)} is not a number 1..65535`,
      {
        spec,
      },
    );
  }
  const port = checkPort(Number(portText), `device spec ${JSON.stringify(spec)}`);
  return { kind: 'tcp', host: checkHost(host, `device spec ${JSON.stringify(spec)}`), port };
}

/** Parse a link spec; a malformed one throws BAD_INPUT saying what was expected. */
export function parseDeviceSpec(spec: string): DeviceSpec {
  if (typeof spec !== 'string' || spec.trim() === '' || spec.includes('\0')) {
    throw badInput(`bad device spec ${JSON.stringify(spec)}: ${FORMS}`, { spec });
  }
  if (spec.startsWith('tcp:') && !spec.startsWith('tcp://')) return parseTcp(spec, spec.slice(4));
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(spec)) {
    throw badInput(`bad device spec ${JSON.stringify(spec)}: URLs are not accepted; ${FORMS}`, {
      spec,
    });
  }
  const colon = spec.lastIndexOf(':');
  if (colon < 0) return { kind: 'serial', path: spec };
  const path = spec.slice(0, colon);
  const baudText = spec.slice(colon + 1);
  if (path === '')
    throw badInput(`bad device spec ${JSON.stringify(spec)}: no device path`, { spec });
  if (!/^\d{1,10}$/.test(baudText)) {
    throw badInput(
      `bad device spec ${JSON.stringify(spec)}: what follows the last ':' must be a baud rate (a path containing ':' needs an explicit :BAUD)`,
      { spec },
    );
  }
  const baudRate = checkBaudRate(Number(baudText), `device spec ${JSON.stringify(spec)}`);
  return { kind: 'serial', path, baudRate };
}

export interface OpenLinkOptions {
  /** Bound on opening (TCP connect, serial open), default 5000 ms. */
  timeoutMs?: number;
  clock?: Clock;
}

/** Open the link a spec names (see parseDeviceSpec). */
export async function openLink(spec: string, opts: OpenLinkOptions = {}): Promise<ByteLink> {
  const parsed = parseDeviceSpec(spec);
  const common = {
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.clock !== undefined ? { clock: opts.clock } : {}),
  };
  if (parsed.kind === 'tcp') return connectTcp(parsed.host, parsed.port, common);
  return openSerial(parsed.path, {
    ...common,
    ...(parsed.baudRate !== undefined ? { baudRate: parsed.baudRate } : {}),
  });
}
