export {
  SMC_DEFAULT_KEY_LIMIT,
  SMC_DEFAULT_TIMEOUT_MS,
  SMC_ENDPOINT,
  SMC_INLINE_MAX,
  SMC_MAX_DATA,
  SMC_SHMEM_SIZE,
  type SmcCallOptions,
  SmcClient,
  type SmcClientOptions,
  SmcKeyFlag,
  type SmcKeyInfo,
  type SmcListOptions,
  type SmcWarning,
} from './client.js';
export { SmcErrorCode, SmcResult, smcResultName } from './errors.js';
export {
  classifyNotification,
  type SmcButton,
  SmcButtonCode,
  type SmcButtonNotification,
  SmcEventType,
  type SmcNotification,
  type SmcOtherNotification,
} from './notifications.js';
export {
  type ByteOrder,
  DEFAULT_BIG_ENDIAN_KEYS,
  type SmcRawValue,
  type SmcValue,
  type SmcValueInput,
  smcTypeSize,
  smcValueFromBytes,
  smcValueToBytes,
} from './values.js';
