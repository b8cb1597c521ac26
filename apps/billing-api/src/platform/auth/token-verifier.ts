import { Injectable } from '@nestjs/common';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppConfig } from '../config/app-config.js';
import { ROLES, type Principal, type Role } from './principal.js';

export class InvalidTokenError extends Error {}

/** How long a verified token is remembered at most, and how many are (oldest dropped first). */
const CACHE_TTL_MS = 60_000;
const CACHE_SIZE = 10_000;

/** Verifies bearer JWTs: HS256 with a shared secret, or RS/ES keys from a JWKS URL (R-API-2). */
@Injectable()
export class TokenVerifier {
  private readonly secret: Uint8Array | null;
  private readonly jwks: JWTVerifyGetKey | null;
  /**
   * Tokens already verified, until their `exp` or one minute, whichever is first: a client sends the same
   * token with every request and verifying it (WebCrypto HMAC or a signature) costs more than the rest
   * of a small request. A Map in insertion order is enough for the bound; a key rotation takes at most
   * a minute to reach remembered tokens.
   */
  private readonly verified = new Map<string, { principal: Principal; until: number }>();

  constructor(private readonly config: AppConfig) {
    const { jwtSecret, jwksUrl } = config.auth;
    this.secret = jwtSecret ? new TextEncoder().encode(jwtSecret) : null;
    this.jwks = jwksUrl ? createRemoteJWKSet(new URL(jwksUrl)) : null;
  }

  async verify(token: string): Promise<Principal> {
    const now = Date.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return known.principal;
    if (known) this.verified.delete(token);
    const { principal, exp } = await this.verifyNow(token);
    if (this.verified.size >= CACHE_SIZE) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(token, {
      principal,
      until: Math.min(now + CACHE_TTL_MS, exp === undefined ? Infinity : exp * 1000),
    });
    return principal;
  }

  private async verifyNow(token: string): Promise<{ principal: Principal; exp: number | undefined }> {
    const options = {
      ...(this.config.auth.issuer ? { issuer: this.config.auth.issuer } : {}),
      ...(this.config.auth.audience ? { audience: this.config.auth.audience } : {}),
    };
    let payload: JWTPayload;
    try {
      if (this.jwks) payload = (await jwtVerify(token, this.jwks, options)).payload;
      else if (this.secret)
        payload = (await jwtVerify(token, this.secret, { ...options, algorithms: ['HS256'] })).payload;
      else throw new InvalidTokenError('no verification key configured');
    } catch (e) {
      throw new InvalidTokenError(e instanceof Error ? e.message : 'invalid token');
    }
    // A token issued for a named audience or by a named issuer is only accepted by a service told to
    // expect that name (JWT_AUDIENCE, JWT_ISSUER; jose checks them when set): otherwise a token another
    // service's audience received from the same identity provider would open this API too.
    if (payload.aud !== undefined && !this.config.auth.audience)
      throw new InvalidTokenError('the token names an audience; set JWT_AUDIENCE to accept it');
    if (payload.iss !== undefined && !this.config.auth.issuer)
      throw new InvalidTokenError('the token names an issuer; set JWT_ISSUER to accept it');
    const {
      sub,
      account_id: accountId,
      role,
    } = payload as JWTPayload & { account_id?: unknown; role?: unknown };
    if (typeof sub !== 'string' || sub.length === 0) throw new InvalidTokenError('claim sub is missing');
    if (typeof role !== 'string' || !(ROLES as readonly string[]).includes(role))
      throw new InvalidTokenError('claim role is missing or unknown');
    if (accountId !== undefined && accountId !== null && typeof accountId !== 'string')
      throw new InvalidTokenError('claim account_id must be a string');
    if ((role === 'owner' || role === 'member') && !accountId)
      throw new InvalidTokenError('claim account_id is required for owners and members');
    return {
      principal: { userId: sub, accountId: (accountId as string | undefined) ?? null, role: role as Role },
      exp: payload.exp,
    };
  }
}
