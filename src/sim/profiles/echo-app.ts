/**
 * A test application endpoint for the generic profile: it echoes every AP→IOP word unchanged.
 * It models no real co-processor; it exists so that host tests can exercise STARTEP, app traffic
 * before and after AP ON, and stop/start on any protocol version (v10 puts it at 5 or 6).
 */

import type { AppEndpoint, FirmwareServices } from '../firmware/app.js';

export interface EchoEndpoint extends AppEndpoint {
  /** Words received since the last start. */
  readonly received: readonly bigint[];
  readonly running: boolean;
}

export function createEchoEndpoint(ep: number, name = 'echo'): EchoEndpoint {
  let fw: FirmwareServices | undefined;
  let received: bigint[] = [];
  return {
    ep,
    name,
    get received() {
      return received;
    },
    get running() {
      return fw !== undefined;
    },
    start(services) {
      fw = services;
      received = [];
    },
    stop() {
      fw = undefined;
    },
    message(msg) {
      received.push(msg);
      fw?.send(ep, msg);
    },
  };
}
