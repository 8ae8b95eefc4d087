/**
 * bull-board, for admins: one queue per target key the farm knows. The queue list is looked up
 * again on every request of the board (its page polls every few seconds), so targets that appear
 * later show up.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { RequestHandler } from 'express';
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
