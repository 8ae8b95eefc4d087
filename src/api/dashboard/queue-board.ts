/**
 * bull-board, for admins: one queue per target key the farm knows. The queue list is looked up
 * again on every request of the board (its page polls every few seconds), so targets that appear
 * later show up. Its page is served without the stylesheet link to Google Fonts that bull-board
 * puts in it: the dashboard loads nothing from the internet (the CSP would block it anyway, and a
 * farm often has no way out); the board falls back to the system's sans-serif and monospace fonts.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, RequestHandler } from 'express';
import type { FarmContext } from '../../context';
import type { Catalog } from './data/catalog';

export const QUEUES_PATH = '/dashboard/queues';

export function queueBoard(ctx: FarmContext, catalog: Catalog): { refresh: RequestHandler; router: RequestHandler } {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Kiln queues',
        hideDocsLink: true,
        miscLinks: [{ text: 'Back to the dashboard', url: '/dashboard' }],
      },
    },
  });
  withoutWebFonts(serverAdapter.getRouter() as Express);
  let shown = '';
  const refresh: RequestHandler = async (_req, _res, next) => {
    const targets = await catalog.targetKeys({ fresh: true });
    const signature = targets.join('\n');
    if (signature !== shown) {
      board.replaceQueues(targets.map((t) => new BullMQAdapter(ctx.queues.queue(t))));
      shown = signature;
    }
    next();
  };
  return { refresh, router: serverAdapter.getRouter() as RequestHandler };
}

/** bull-board's page template links IBM Plex from fonts.googleapis.com. */
const WEB_FONT_LINK = /<link[^>]+href="https:\/\/fonts\.(?:googleapis|gstatic)\.com[^"]*"[^>]*>\s*/g;

/** Wraps the board app's view engine (ejs, registered by createBullBoard) so rendered pages lose the link. */
function withoutWebFonts(app: Express): void {
  type Render = (file: string, options: object, callback: (err: Error | null, html?: string) => void) => void;
  const engines = (app as unknown as { engines: Record<string, Render> }).engines;
  const render = engines['.ejs'];
  if (!render) throw new Error("bull-board registered no ejs view engine; its page would link Google Fonts (check @bull-board/express's version)");
  app.engine('ejs', (file, options, callback) => render(file, options, (err, html) => callback(err, html?.replace(WEB_FONT_LINK, ''))));
}
