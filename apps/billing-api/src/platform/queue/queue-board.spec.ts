import { runInNewContext } from 'node:vm';
import { describe, expect, it, jest } from '@jest/globals';
import { boardToken, DROP_URL_CREDENTIALS } from './queue-board.js';

/** Runs the board page's first script against a location made from `href`; returns where it went. */
function reloadTarget(href: string): string | undefined {
  const url = new URL(href);
  const replace = jest.fn<(to: string) => void>();
  const location = {
    ...Object.fromEntries(
      ['protocol', 'host', 'pathname', 'search', 'hash', 'username', 'password'].map((k) => [
        k,
        url[k as keyof URL],
      ]),
    ),
    replace,
  };
  runInNewContext(DROP_URL_CREDENTIALS, { location }); // as the browser runs it, with this location
  return replace.mock.calls[0]?.[0];
}

describe('the queue board page', () => {
  it('reloads itself without the user name and token of its address, keeping the rest', () => {
    expect(
      reloadTarget('http://admin:eyJ.a.b@10.0.0.5:3000/admin/queues/queue/webhooks?status=failed#x'),
    ).toBe('http://10.0.0.5:3000/admin/queues/queue/webhooks?status=failed#x');
    expect(reloadTarget('http://:tok@host/admin/queues')).toBe('http://host/admin/queues');
  });

  it('does nothing when its address holds no credentials', () => {
    expect(reloadTarget('http://10.0.0.5:3000/admin/queues')).toBeUndefined();
  });
});

describe('boardToken', () => {
  it('takes a Bearer token or the password of Basic credentials', () => {
    expect(boardToken('Bearer abc')).toBe('abc');
    expect(boardToken(`Basic ${Buffer.from('admin:tok.en').toString('base64')}`)).toBe('tok.en');
    expect(boardToken(`Basic ${Buffer.from('admin:').toString('base64')}`)).toBeNull();
    expect(boardToken(undefined)).toBeNull();
  });
});
