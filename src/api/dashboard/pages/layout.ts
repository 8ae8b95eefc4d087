/** The frame of every dashboard page: navigation, the user's role, sign-out, and the assets. */
import { hasRole, type Session } from '../sessions';
import { html, type Html } from '../html';

export interface PageOptions {
  title: string;
  /** Which nav entry is current. */
  nav?: NavId;
  session: Session | null;
  body: Html;
  /** Page scripts under /dashboard/assets/ (common.js is always loaded). */
  scripts?: string[];
  /** Load Chart.js. */
  charts?: boolean;
}

export type NavId = 'overview' | 'builds' | 'requests' | 'models' | 'fleet' | 'timing-caches' | 'submit' | 'queues';

const NAV: { id: NavId; label: string; href: string; role: 'reader' | 'builder' | 'admin' }[] = [
  { id: 'overview', label: 'Overview', href: '/dashboard', role: 'reader' },
  { id: 'builds', label: 'Builds', href: '/dashboard/builds', role: 'reader' },
  { id: 'requests', label: 'Requests', href: '/dashboard/requests', role: 'reader' },
  { id: 'models', label: 'Models', href: '/dashboard/models', role: 'reader' },
  { id: 'fleet', label: 'Fleet', href: '/dashboard/fleet', role: 'reader' },
  { id: 'timing-caches', label: 'Timing caches', href: '/dashboard/timing-caches', role: 'reader' },
  { id: 'submit', label: 'Submit', href: '/dashboard/submit', role: 'builder' },
  { id: 'queues', label: 'Queues', href: '/dashboard/queues', role: 'admin' },
];

export function page(options: PageOptions): string {
  const { session } = options;
  const nav = session
    ? html`<nav aria-label="Main">
        <ul>
          ${NAV.filter((n) => hasRole(session, n.role)).map(
            (n) => html`<li><a href="${n.href}" ${n.id === options.nav ? html`aria-current="page"` : ''}>${n.label}</a></li>`,
          )}
        </ul>
      </nav>
      <form class="sign-out" method="post" action="/dashboard/sign-out">
        <input type="hidden" name="_csrf" value="${session.csrf}">
        <span class="role" title="Signed in with a ${session.role} token">${session.role}</span>
        <button type="submit" class="link">Sign out</button>
      </form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${session ? html`<meta name="csrf-token" content="${session.csrf}">` : ''}
<title>${options.title} · Kiln</title>
<link rel="stylesheet" href="/dashboard/assets/dashboard.css">
<link rel="icon" href="/dashboard/assets/favicon.svg" type="image/svg+xml">
${options.charts ? html`<script src="/dashboard/assets/vendor/chart.umd.min.js" defer></script><script src="/dashboard/assets/charts.js" defer></script>` : ''}
<script src="/dashboard/assets/common.js" defer></script>
${(options.scripts ?? []).map((s) => html`<script src="/dashboard/assets/${s}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/dashboard"><span class="logo" aria-hidden="true">◆</span> Kiln</a>
  ${nav}
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
<div id="toast" role="status" aria-live="polite"></div>
</body>
</html>`.value;
}
