/**
 * Static assets: the dashboard's own CSS and scripts (dashboard/public, plain files, no build
 * step) and Chart.js's UMD build served straight from node_modules, so nothing comes from a CDN.
 */
import path from 'node:path';
import express, { Router } from 'express';

/** `src/api/dashboard` and `dist/api/dashboard` are both three levels below the repository root. */
export const PUBLIC_DIR = path.resolve(__dirname, '../../../dashboard/public');

export function chartJsFile(): string {
  // require.resolve gives chart.js's CommonJS entry in dist/; the UMD build sits next to it.
  return path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js');
}

export function assetRoutes(): Router {
  const router = Router();
  const chartJs = chartJsFile();
  router.get('/dashboard/assets/vendor/chart.umd.min.js', (_req, res) => {
    res.sendFile(chartJs, { maxAge: '1d', headers: { 'Content-Type': 'text/javascript; charset=utf-8' } });
  });
  router.use('/dashboard/assets', express.static(PUBLIC_DIR, { maxAge: '5m', index: false, fallthrough: true }));
  return router;
}
