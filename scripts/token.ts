/**
 * Prints a signed development JWT (R-API-2):
 *   npm run token -- --account <uuid> --role <owner|member|finance|support|admin> [--user <id>] [--ttl 12h]
 * It signs with JWT_SECRET (HS256), the same secret the service verifies with. With a JWKS set-up tokens
 * come from your identity provider instead.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { ROLES, type Role } from '../apps/billing-api/src/platform/auth/principal.js';
import { validateEnvironment } from '../apps/billing-api/src/platform/config/environment.js';

if (existsSync('.env')) process.loadEnvFile('.env');
const { values } = parseArgs({
  options: {
    account: { type: 'string' },
    role: { type: 'string', default: 'owner' },
    user: { type: 'string' },
    ttl: { type: 'string', default: '12h' },
  },
});
const role = values.role as Role;
if (!(ROLES as readonly string[]).includes(role)) {
  process.stderr.write(`--role must be one of ${ROLES.join(', ')}\n`);
  process.exit(2);
}
if ((role === 'owner' || role === 'member') && !values.account) {
  process.stderr.write('--account <id> is required for owner and member tokens\n');
  process.exit(2);
}
const env = validateEnvironment(process.env);
if (!env.JWT_SECRET) {
  process.stderr.write(
    'JWT_SECRET is not set (the service verifies with JWT_JWKS_URL): get tokens from your identity provider\n',
  );
  process.exit(2);
}
const token = await new SignJWT({ role, ...(values.account ? { account_id: values.account } : {}) })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.user ?? `dev-${role}`)
  .setIssuedAt()
  .setExpirationTime(values.ttl)
  .setIssuer(env.JWT_ISSUER ?? 'billing-dev')
  .setAudience(env.JWT_AUDIENCE ?? 'billing-api')
  .sign(new TextEncoder().encode(env.JWT_SECRET));
process.stdout.write(`${token}\n`);
