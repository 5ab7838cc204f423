/** The simulated ASC: register block, mailbox FIFOs, interrupt lines and the firmware's port. */
export {
  type FifoName,
  SimAsc,
  type SimAscCounters,
  type SimAscOptions,
  type TrafficDirection,
  type TrafficTap,
} from './asc.js';
export { EchoFirmware, type EchoFirmwareOptions } from './echo-firmware.js';
export type { FifoCounters } from './fifo.js';
export type { IopPort } from './iop-port.js';
