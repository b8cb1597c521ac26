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

const USAGE = `Usage: npm run token -- [--role <role>] [--account <account id>] [--user <id>] [--ttl <duration>]
       node dist/scripts/token.js ...

Prints a bearer JWT signed with JWT_SECRET (from the environment or .env), as the service verifies it.
  --role <role>      ${ROLES.join(' | ')} (default owner)
  --account <id>     the account's id; required for owner and member tokens
  --user <id>        the subject (default dev-<role>)
  --ttl <duration>   lifetime, e.g. 30m, 12h, 7d (default 12h)
  -h, --help         this text

  npm run token -- --role admin
  npm run token -- --role owner --account 6f1c... --user alice`;

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    options: {
      account: { type: 'string' },
      role: { type: 'string', default: 'owner' },
      user: { type: 'string' },
      ttl: { type: 'string', default: '12h' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
try {
  parsed = parseOptions();
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
  process.exit(2);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (existsSync('.env')) process.loadEnvFile('.env');
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
// Issuer and audience only as the service is configured to check them: it refuses a token that carries
// a claim it was not told to expect (platform/auth/token-verifier.ts).
const jwt = new SignJWT({ role, ...(values.account ? { account_id: values.account } : {}) })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.user ?? `dev-${role}`)
  .setIssuedAt()
  .setExpirationTime(values.ttl);
if (env.JWT_ISSUER) jwt.setIssuer(env.JWT_ISSUER);
if (env.JWT_AUDIENCE) jwt.setAudience(env.JWT_AUDIENCE);
const token = await jwt.sign(new TextEncoder().encode(env.JWT_SECRET));
process.stdout.write(`${token}\n`);
