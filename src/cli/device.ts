/**
 * `--device <spec>` of the commands that talk to m1n1: open the byte link (a serial device or
 * `tcp:HOST:PORT`) and bootstrap a proxy client on it, as m1n1's own tooling does.
 */

import { isRtkitError } from '../errors.js';
import { ProxyClient, type ProxyClientOptions } from '../m1n1/client.js';
import { openLink } from '../transports/open-link.js';
import { CliFailure } from './io.js';

export interface DeviceOptions {
  readonly timeoutMs: number;
  /** Where m1n1's console text goes (default: dropped). */
  readonly onConsole?: (text: Uint8Array) => void;
}

export async function connectDevice(spec: string, opts: DeviceOptions): Promise<ProxyClient> {
  let link: Awaited<ReturnType<typeof openLink>>;
  try {
    link = await openLink(spec, { timeoutMs: opts.timeoutMs });
  } catch (e) {
    throw new CliFailure(`cannot open ${spec}: ${isRtkitError(e) ? e.message : String(e)}`);
  }
  const clientOpts: ProxyClientOptions = {
    timeoutMs: opts.timeoutMs,
    ...(opts.onConsole ? { onConsole: opts.onConsole } : {}),
  };
  try {
    return await ProxyClient.connect(link, clientOpts);
  } catch (e) {
    await link.close();
    throw new CliFailure(
      `no m1n1 proxy answers on ${spec}: ${isRtkitError(e) ? e.message : String(e)}`,
    );
  }
}
