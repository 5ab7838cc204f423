/**
 * The RTKit firmware version string carried by `Cver` [observed, PROTOCOL.md §7.4]:
 * `RTKit: RTKit-<major>.<minor>.<patch>.<release|debug> - Client: <client-build>`.
 */

export interface RtkitVersion {
  /** `major.minor.patch`, e.g. `1827.120.2`. */
  rtkitVersion: string;
  major: number;
  minor: number;
  patch: number;
  build: 'debug' | 'release';
  /** The client (firmware product) build, e.g. `local-ipad14dcp.release`; kept verbatim. */
  client: string;
}

// The leading `RTKit: ` is optional so that text already stripped of it (m1n1 prints
// `RTKit Version: <text>`, macOS reports vary) still parses; the build word is matched without
// case because client builds are seen in both cases (`.release`, `.RELEASE`). The input is trimmed
// first, so the client group needs no trailing-space handling (and the pattern stays linear).
const VERSION_RE =
  /^(?:RTKit:\s*)?RTKit-(\d{1,9})\.(\d{1,9})\.(\d{1,9})\.(debug|release)\s+-\s+Client:\s*(\S.*)$/i;

/** Parse a version string; `undefined` when it does not have the observed shape. */
export function parseRtkitVersion(s: string): RtkitVersion | undefined {
  const m = VERSION_RE.exec(s.trim());
  if (m === null) return undefined;
  const [, maj, min, pat, build, client] = m;
  if (maj === undefined || min === undefined || pat === undefined) return undefined;
  if (build === undefined || client === undefined) return undefined;
  return {
    rtkitVersion: `${maj}.${min}.${pat}`,
    major: Number(maj),
    minor: Number(min),
    patch: Number(pat),
    build: build.toLowerCase() === 'debug' ? 'debug' : 'release',
    client,
  };
}
