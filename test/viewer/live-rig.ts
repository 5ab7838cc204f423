/**
 * The viewer fed live: Chromium, the bundled page, a FeedHub behind a viewer server, and one open
 * page — what every live browser test starts from.
 */
import type { Browser } from 'playwright-core';
import {
  buildViewer,
  launchChromium,
  openViewer,
  type ViewerPage,
} from '../../src/bench/viewer.js';
import { FeedHub } from '../../src/viewer/feed.js';
import { startViewerServer, type ViewerServer } from '../../src/viewer/server.js';

export interface LiveViewer {
  readonly browser: Browser;
  readonly hub: FeedHub;
  readonly server: ViewerServer;
  readonly vp: ViewerPage;
  close(): Promise<void>;
}

export async function startLiveViewer(): Promise<LiveViewer> {
  const [browser, web] = await Promise.all([launchChromium(), buildViewer()]);
  const hub = new FeedHub();
  const server = await startViewerServer({ hub, webRoot: web.dir });
  const vp = await openViewer(browser, server.url);
  return {
    browser,
    hub,
    server,
    vp,
    close: async () => {
      await server.close();
      await browser.close();
      await web.dispose();
    },
  };
}
