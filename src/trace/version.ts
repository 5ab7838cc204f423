/**
 * RTKit firmware version strings as crash reports print them (PROTOCOL.md §7.4, Cver):
 * `RTKit: RTKit-<major>.<minor>.<patch>.<release|debug> - Client: <client-build>`.
 */

import type { RtkitVersion } from './records.js';

// The build word is `release` or `debug` in every published string; other words are accepted so
// that an unfamiliar firmware still parses. Extra numeric components are tolerated and ignored.
const VERSION_RE = /RTKit-(\d+)\.(\d+)\.(\d+)((?:\.\d+)*)\.([A-Za-z][\w-]*)\s+-\s+Client:\s*(.*)$/s;

/** Parse a version string; the leading `RTKit: ` is optional. Undefined when it does not match. */
export function parseRtkitVersion(s: string): RtkitVersion | undefined {
  const m = VERSION_RE.exec(s);
  if (m === null) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  return {
    rtkitVersion: `${m[1]}.${m[2]}.${m[3]}${m[4]}`,
    major,
    minor,
    patch,
    build: m[5]!,
    client: m[6]!.trimEnd(),
  };
}
