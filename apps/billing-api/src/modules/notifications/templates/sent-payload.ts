import type { TemplateName } from './templates.js';

/**
 * What an outbox row keeps of its payload once its e-mail is sent, for templates that carry a secret
 * (R-SUB-9): the ownership transfer's one-time confirmation link holds its token, which must not stay
 * readable in `notifications.payload`. The rest stays, so that the row still renders (the link without
 * its token). Null when the template carries nothing to redact: the payload stays as it is.
 */
export function payloadAfterSent(template: TemplateName, payload: unknown): Record<string, unknown> | null {
  if (template !== 'ownership_transfer_requested') return null;
  const p = payload as Record<string, unknown>;
  if (typeof p.confirmUrl !== 'string') return null;
  return { ...p, confirmUrl: withoutQuery(p.confirmUrl) };
}

/** The URL without its query string and fragment (where the token travels). */
function withoutQuery(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    return parsed.toString();
  } catch {
    return '';
  }
}
