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
  /** `debug` or `release` in every published string; another word is kept as printed. */
  build: string;
  /** The client (firmware product) build, e.g. `local-ipad14dcp.release`; kept verbatim. */
  client: string;
}

// The leading `RTKit: ` is optional so that text already stripped of it (m1n1 prints
// `RTKit Version: <text>`, macOS reports vary) still parses; the build word is matched without
// case because client builds are seen in both cases (`.release`, `.RELEASE`). The input is trimmed
// first, so the client group needs no trailing-space handling (and the pattern stays linear).
// Extra numeric components (`1.2.3.4.release`) are kept in `rtkitVersion` so that an unfamiliar
// firmware still parses.
const VERSION_RE =
  /^(?:RTKit:\s*)?RTKit-(\d{1,9})\.(\d{1,9})\.(\d{1,9})((?:\.\d{1,9}){0,4})\.([A-Za-z][\w-]{0,31})\s+-\s+Client:\s*(\S.*)$/;

/** Parse a version string; `undefined` when it does not have the observed shape. */
export function parseRtkitVersion(s: string): RtkitVersion | undefined {
  const m = VERSION_RE.exec(s.trim());
  if (m === null) return undefined;
  const [, maj, min, pat, extra, build, client] = m;
  if (maj === undefined || min === undefined || pat === undefined) return undefined;
  if (build === undefined || client === undefined) return undefined;
  return {
    rtkitVersion: `${maj}.${min}.${pat}${extra ?? ''}`,
    major: Number(maj),
    minor: Number(min),
    patch: Number(pat),
    build: /^(debug|release)$/i.test(build) ? build.toLowerCase() : build,
    client,
  };
}
