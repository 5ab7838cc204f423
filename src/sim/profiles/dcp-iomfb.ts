/**
 * DCP's IOMFB endpoint (0x37) as a small believable model (PROTOCOL.md §10.1, Asahi
 * `drivers/gpu/drm/apple/iomfb.h`, `iomfb.c`, `dcp.c`): the AP starts the endpoint and sends
 * SET_SHMEM with the shared region's DVA; DCP answers INITIALIZED (the Asahi driver starts its
 * IOMFB setup on that message). Afterwards every AP command (CMD, OOBCMD) is acknowledged with the
 * ACK word of its context (`0x242`, `0x642`, as in the #142 crash dump), and the ACKs the AP sends
 * for DCP's callbacks/async messages are checked against what DCP sent. The RPC payloads in the
 * shared region are not modelled.
 */

import { decode, encode } from '../../protocol/index.js';
import type { AppEndpoint, FirmwareServices } from '../firmware/app.js';

export const IOMFB_ENDPOINT = 0x37;

/** IOMFB contexts (`dcpep.h`): CB 0, CMD 2, ASYNC 3, OOBCB 4, OOBCMD 6. */
export const IomfbContext = { Cb: 0, Cmd: 2, Async: 3, OobCb: 4, OobCmd: 6 } as const;

export interface IomfbOptions {
  /**
   * When INITIALIZED is sent: after SET_SHMEM (the Asahi driver's flow, default) or right after
   * STARTEP.
   */
  readonly initializedAfter?: 'set-shmem' | 'start';
  /** Virtual ms between a command and its ACK (default 0.2). */
  readonly ackDelayMs?: number;
  /** After INITIALIZED, send one ASYNC message of this length and expect its ACK. */
  readonly asyncLength?: number;
}

export interface IomfbEndpoint extends AppEndpoint {
  readonly shmem: number | undefined;
  readonly initialized: boolean;
  /** Commands acknowledged since start. */
  readonly commands: number;
}

export function createIomfbEndpoint(options: IomfbOptions = {}): IomfbEndpoint {
  const ep = IOMFB_ENDPOINT;
  const after = options.initializedAfter ?? 'set-shmem';
  const ackDelay = options.ackDelayMs ?? 0.2;
  let fw: FirmwareServices | undefined;
  let shmem: number | undefined;
  let initialized = false;
  let commands = 0;
  /** Contexts of DCP→AP messages waiting for the AP's ACK, in order. */
  let awaiting: number[] = [];
  let generation = 0;

  const later = (fn: () => void): void => {
    const f = fw;
    const g = generation;
    if (f === undefined) return;
    f.clock.setTimer(ackDelay, () => {
      if (fw === f && generation === g) fn();
    });
  };

  const initialize = (): void => {
    if (initialized || fw === undefined) return;
    initialized = true;
    fw.send(ep, encode({ kind: 'iomfbInitialized', ack: false, context: 0, offset: 0, length: 0 }));
    fw.syslog(
      'eoInterfaceIOAV.cpp',
      296,
      'IOMFB: VideoInterfaceIOAV::power_on: m_power_ctrl->setPower( 1 )',
    );
    const len = options.asyncLength;
    if (len !== undefined && len > 0) {
      awaiting.push(IomfbContext.Async);
      fw.send(
        ep,
        encode({
          kind: 'iomfbMessage',
          ack: false,
          context: IomfbContext.Async,
          offset: 0,
          length: len,
        }),
      );
    }
  };

  return {
    ep,
    name: 'IOMFB',
    get shmem() {
      return shmem;
    },
    get initialized() {
      return initialized;
    },
    get commands() {
      return commands;
    },
    start(services) {
      fw = services;
      generation++;
      shmem = undefined;
      initialized = false;
      commands = 0;
      awaiting = [];
      if (after === 'start') later(initialize);
    },
    stop() {
      fw = undefined;
      generation++;
    },
    message(msg) {
      const f = fw;
      if (f === undefined) return;
      const m = decode(ep, msg, { dir: 'ap->iop', coproc: 'dcp' });
      if (m.kind === 'iomfbSetShmem') {
        shmem = m.address;
        if (after === 'set-shmem') later(initialize);
        return;
      }
      if (m.kind !== 'iomfbMessage') {
        f.violation('UNKNOWN_MESSAGE', `IOMFB: unexpected ${m.kind} from the AP`);
        return;
      }
      if (m.ack) {
        // The AP acknowledges a callback or async message DCP sent.
        const i = awaiting.indexOf(m.context);
        if (i < 0) {
          f.violation(
            'UNEXPECTED_ECHO',
            `IOMFB: ACK of context ${m.context} with none outstanding`,
          );
        } else awaiting.splice(i, 1);
        return;
      }
      if (m.context !== IomfbContext.Cmd && m.context !== IomfbContext.OobCmd) {
        f.violation('UNKNOWN_MESSAGE', `IOMFB: AP message in DCP's context ${m.context}`);
        return;
      }
      if (!initialized) {
        f.violation('OUT_OF_ORDER', 'IOMFB: command before INITIALIZED');
      }
      const context = m.context;
      later(() => {
        commands++;
        fw?.send(ep, encode({ kind: 'iomfbMessage', ack: true, context, offset: 0, length: 0 }));
      });
    },
  };
}
