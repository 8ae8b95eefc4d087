/**
 * The admin token `npm start` generates when no KILN_TOKENS are configured, so a first run needs
 * no setup. It is kept in KILN_HOME (mode 0600) and reused on the next start; the dashboard's
 * sign-in page and the CLI point people at the file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KilnConfig } from './config';

export const adminTokenFile = (home: string) => path.join(home, 'admin-token');

/** The generated token (made on first use), or null when tokens are configured. */
export function ensureAdminToken(config: Pick<KilnConfig, 'home' | 'tokens'>): string | null {
  if (config.tokens.length > 0) return null;
  const file = adminTokenFile(config.home);
  const token = existsSync(file) ? readFileSync(file, 'utf8').trim() : `kiln_${randomBytes(24).toString('base64url')}`;
  mkdirSync(config.home, { recursive: true });
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

/**
 * Where the generated admin token is, as a path to show people (relative to the working directory
 * when it is below it), or null when the configured tokens do not include it: then the tokens came
 * from KILN_TOKENS and whoever set them hands them out.
 */
export function generatedTokenPath(config: Pick<KilnConfig, 'home' | 'tokens'>): string | null {
  const file = adminTokenFile(config.home);
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
  if (!config.tokens.some((t) => t.role === 'admin' && t.token === token)) return null;
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
