import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setTimeout as delay } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { ASYNC_COMMIT_CTE, rows } from '../database/row-sql.js';
import { Clock } from '../clock/clock.js';
import { AppConfig } from '../config/app-config.js';
import { ApiError } from '../http/api-error.js';

export type BeginOutcome =
  { kind: 'execute' } | { kind: 'replay'; status: number; body: unknown } | { kind: 'mismatch' };

interface Row {
  request_hash: string;
  status: 'in_progress' | 'completed';
  response_status: number | null;
  response_body: unknown;
  locked_at: Date;
  expires_at: Date;
}

export interface KeyRef {
  scope: string;
  key: string;
}

/**
 * Idempotency keys in PostgreSQL (R-API-5). The primary key (scope, key) makes "exactly one executes"
 * a database fact: the first insert wins, later requests wait for its stored response or replay it.
 * A key left in progress by a crashed process is taken over after the lock timeout.
 */
@Injectable()
export class IdempotencyStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async begin(ref: KeyRef, request: { method: string; path: string; hash: string }): Promise<BeginOutcome> {
    const { waitMs, lockTimeoutMs, ttlHours } = this.config.idempotency;
    const deadline = Date.now() + waitMs;
    let pause = 20;
    for (;;) {
      const now = this.clock.now();
      const expires = new Date(now.getTime() + ttlHours * 3_600_000);
      // The key's claim commits without waiting for the WAL flush: lost in a database crash, it is as if
      // the request had not come yet; whatever the handler then does in the database commits durably,
      // which flushes the claim first.
      const inserted = await rows(
        this.db,
        `WITH ${ASYNC_COMMIT_CTE}
         INSERT INTO idempotency_keys (scope, key, method, path, request_hash, status, locked_at, created_at, expires_at)
         SELECT $1, $2, $3, $4, $5, 'in_progress', $6, $6, $7 FROM async_commit
         ON CONFLICT (scope, key) DO NOTHING RETURNING key`,
        [ref.scope, ref.key, request.method, request.path, request.hash, now, expires],
      );
      if (inserted.length === 1) return { kind: 'execute' };

      const found = await this.db.query<Row[]>(
        `SELECT request_hash, status, response_status, response_body, locked_at, expires_at
         FROM idempotency_keys WHERE scope = $1 AND key = $2`,
        [ref.scope, ref.key],
      );
      const row = found[0];
      if (!row) continue; // deleted between our insert and select: try again
      if (row.expires_at.getTime() <= now.getTime()) {
        await this.db.query(
          `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at <= $3`,
          [ref.scope, ref.key, now],
        );
        continue;
      }
      if (row.request_hash !== request.hash) return { kind: 'mismatch' };
      if (row.status === 'completed') {
        return { kind: 'replay', status: row.response_status ?? 200, body: row.response_body };
      }
      if (now.getTime() - row.locked_at.getTime() > lockTimeoutMs) {
        const taken = await this.db.query<[unknown[], number]>(
          `UPDATE idempotency_keys SET locked_at = $3
           WHERE scope = $1 AND key = $2 AND status = 'in_progress' AND locked_at = $4 RETURNING key`,
          [ref.scope, ref.key, now, row.locked_at],
        );
        if (taken[1] === 1) return { kind: 'execute' };
        continue;
      }
      if (Date.now() >= deadline) {
        throw new ApiError(
          'idempotency_request_in_progress',
          'A request with this Idempotency-Key is still being processed; retry later to get its result.',
        );
      }
      await delay(pause);
      pause = Math.min(pause * 2, 200);
    }
  }

  async complete(ref: KeyRef, status: number, body: unknown): Promise<void> {
    await rows(
      this.db,
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4::jsonb
       WHERE scope = $1 AND key = $2`,
      [ref.scope, ref.key, status, JSON.stringify(body ?? null)],
    );
  }

  /** Forgets a key whose request failed for a reason a retry may not meet (5xx), so it can run again. */
  async release(ref: KeyRef): Promise<void> {
    await this.db.query(
      `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 'in_progress'`,
      [ref.scope, ref.key],
    );
  }

  /** Deletes expired keys; returns how many. Run by the maintenance queue. */
  async purgeExpired(limit = 10_000): Promise<number> {
    const result = await this.db.query<[unknown[], number]>(
      `DELETE FROM idempotency_keys WHERE ctid IN (
         SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`,
      [this.clock.now(), limit],
    );
    return result[1];
  }
}
