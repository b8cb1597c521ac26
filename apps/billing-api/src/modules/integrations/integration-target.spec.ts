import { describe, expect, it } from '@jest/globals';
import { forbiddenTargetReason, isForbiddenAddress } from './integration-target.js';

describe('integration endpoint targets (issue 16, SSRF)', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    'not-an-address',
  ])('refuses %p', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %p',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it('resolves names, and lets the operator allow private targets', async () => {
    expect(await forbiddenTargetReason('http://localhost:3000/x', false)).toMatch(/private, loopback/);
    expect(await forbiddenTargetReason('http://[::1]/x', false)).toMatch(/private, loopback/);
    expect(await forbiddenTargetReason('https://93.184.215.14/x', false)).toBeNull();
    expect(await forbiddenTargetReason('http://localhost:3000/x', true)).toBeNull();
  });
});
