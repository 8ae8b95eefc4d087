/** `kiln tokens create|list|revoke`: API tokens managed at run time (admin). */
import type { Command } from 'commander';
import { contextOf, type Io } from '../context';
import { UsageError } from '../errors';
import { table } from '../format';

interface TokenEntry {
  id: string;
  name: string;
  role: string;
  createdAt: string;
  expiresAt?: string;
  source: 'api' | 'config';
  token?: string;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `30d`, `12h`, `90m` or seconds, as seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new UsageError(`Expected a lifetime such as 30d, 12h, 90m or 3600 (seconds) but received ${JSON.stringify(text)}`);
  return Number(m[1]) * UNITS[m[2] || 's'];
}

export function registerTokens(program: Command, io: Io): void {
  const tokens = program.command('tokens').description('API tokens that expire and can be revoked (admin)');

  tokens
    .command('create')
    .description('Create a token; it is printed once, keep it')
    .requiredOption('--name <name>', 'what or who it is for')
    .requiredOption('--role <role>', 'reader, builder or admin')
    .option('--expires <lifetime>', 'lifetime: 30d, 12h, 90m or seconds (Default: never)')
    .action(async (opts: { name: string; role: string; expires?: string }, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const body = { name: opts.name, role: opts.role, ...(opts.expires ? { expiresInSeconds: parseDuration(opts.expires) } : {}) };
      const created = await ctx.client.json<TokenEntry>('POST', '/v1/tokens', { json: body });
      ctx.output(created, () => `${created.token}\n\nid ${created.id}, ${created.role}, ${created.expiresAt ? `expires ${created.expiresAt}` : 'never expires'}; it is not shown again`);
    });

  tokens
    .command('list')
    .description('Tokens (ids, names, roles, expiry; never the tokens)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = await ctx.client.json<{ tokens: TokenEntry[] }>('GET', '/v1/tokens');
      ctx.output(answer, () =>
        table(
          ['ID', 'NAME', 'ROLE', 'EXPIRES', 'SOURCE'],
          answer.tokens.map((t) => [t.id, t.name, t.role, t.expiresAt ?? 'never', t.source === 'config' ? 'KILN_TOKENS' : 'api']),
        ),
      );
    });

  tokens
    .command('revoke <id>')
    .description('Revoke a token by its id (at once on this API, within seconds on others)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd, io);
      const answer = await ctx.client.json<{ id: string; revoked: boolean }>('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
      ctx.output(answer, () => `revoked ${answer.id}`);
    });
}
