/**
 * Co-processor profiles for the firmware model: what each modelled co-processor announces,
 * which buffers it asks for and where, what it logs, and where the SoC places it.
 */

import type { FirmwareProfile } from '../firmware/types.js';
import { type AnsProfileOptions, ansProfile } from './ans.js';
import { type DcpProfileOptions, dcpProfile } from './dcp.js';
import { type GenericProfileOptions, genericProfile } from './generic.js';
import { mtpProfile } from './mtp.js';
import { type SmcProfileOptions, smcProfile } from './smc.js';

export { ANS_SYSLOG_LINES, type AnsProfileOptions, ansProfile } from './ans.js';
export { DCP_SYSLOG_LINES, type DcpProfileOptions, dcpProfile } from './dcp.js';
export {
  createIomfbEndpoint,
  IOMFB_ENDPOINT,
  IomfbContext,
  type IomfbEndpoint,
  type IomfbOptions,
} from './dcp-iomfb.js';
export { createEchoEndpoint, type EchoEndpoint } from './echo-app.js';
export { AOP_SYSLOG_LINES, type GenericProfileOptions, genericProfile } from './generic.js';
export { MTP_OSLOG_BOOT_MESSAGES, mtpProfile } from './mtp.js';
export { SMC_SRAM, SMC_SYSLOG_LINES, type SmcProfileOptions, smcProfile } from './smc.js';

export const PROFILE_NAMES = ['generic', 'smc', 'ans', 'dcp', 'mtp'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface ProfileOptionsByName {
  generic: GenericProfileOptions;
  smc: SmcProfileOptions;
  ans: AnsProfileOptions;
  dcp: DcpProfileOptions;
  mtp: Record<string, never>;
}

export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

/** A fresh profile by name (each call creates new application endpoint factories). */
export function getProfile<N extends ProfileName>(
  name: N,
  options?: ProfileOptionsByName[N],
): FirmwareProfile {
  switch (name) {
    case 'generic':
      return genericProfile(options as GenericProfileOptions | undefined);
    case 'smc':
      return smcProfile(options as SmcProfileOptions | undefined);
    case 'ans':
      return ansProfile(options as AnsProfileOptions | undefined);
    case 'dcp':
      return dcpProfile(options as DcpProfileOptions | undefined);
    case 'mtp':
      return mtpProfile();
    default:
      throw new Error(`unknown profile ${String(name)}`);
  }
}
