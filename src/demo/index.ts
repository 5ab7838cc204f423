/**
 * The scripted demo session (`rtkit demo`, docs/demo.md): a simulated Mac driven by the host
 * library, published as a live feed; and the publisher that turns any host session's events into
 * that feed (also used by `rtkit sim`).
 */

export { type Pace, type PaceOptions, runClock } from './pace.js';
export {
  coprocState,
  type FeedDetail,
  FeedPublisher,
  type FeedPublisherOptions,
  type FeedSink,
  feedSeconds,
  type TapOptions,
} from './publisher.js';
export {
  type DemoCrash,
  type DemoOptions,
  type DemoResult,
  type DemoValue,
  runDemo,
  type SmcReading,
} from './session.js';
