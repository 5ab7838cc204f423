/**
 * The viewer's Node side: the live-feed contract (browser-safe, `./feed.js`) and the HTTP server
 * that serves the web app and streams a feed (`./server.js`, Node only). The browser app itself
 * lives in `web/` and imports the library's decoders from `src/` directly (docs/viewer.md).
 */

export type {
  FeedBuffer,
  FeedCoprocState,
  FeedCrash,
  FeedEvent,
  FeedHubOptions,
  FeedMessage,
  FeedPhase,
  FeedState,
  FeedSyslog,
} from './feed.js';
export { FeedHub } from './feed.js';
export {
  defaultWebRoot,
  FEED_BATCH_MAX,
  FEED_FLUSH_MS,
  FEED_QUEUE_MAX,
  KEEP_ALIVE_MS,
  startViewerServer,
  type ViewerServer,
  type ViewerServerOptions,
} from './server.js';
