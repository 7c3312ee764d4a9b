import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SIGNING_SECRET_PREFIX, keySetProblems, MIN_SECRET_LENGTH, newestKey, parseSigningKeySet, signingSecretName } from './signing-keys.ts';

const secret = (n: number) => 's'.repeat(n);

function rejection(text: string): string {
  try {
    parseSigningKeySet(text, 'secret pictor/signing-keys/shop');
  } catch (error) {
    assert.equal((error as Error).name, 'InvalidConfig');
    return (error as Error).message;
  }
  assert.fail('expected the key set to be rejected');
}

describe('signing key sets', () => {
  it('names one secret per tenant under the prefix, which IAM grants by name', () => {
    assert.equal(signingSecretName(DEFAULT_SIGNING_SECRET_PREFIX, 'shop'), 'pictor/signing-keys/shop');
    assert.equal(signingSecretName('p/', 'shop'), 'p/shop');
  });

  it('reads a stored set, oldest first, and signs with the last key', () => {
    const set = parseSigningKeySet(JSON.stringify({ keys: [{ kid: 'old', secret: secret(32) }, { kid: 'new', secret: secret(40), extra: 1 }] }), 'here');
    assert.deepEqual(set, { keys: [{ kid: 'old', secret: secret(32) }, { kid: 'new', secret: secret(40) }] });
    assert.deepEqual(newestKey(set), { kid: 'new', secret: secret(40) });
    assert.equal(newestKey({ keys: [] }), undefined);
  });

  it('says what is wrong with a stored set, and where', () => {
    assert.match(rejection('{keys'), /^secret pictor\/signing-keys\/shop is not JSON; expected \{"keys":\[\{"kid","secret"\}\]\}\.$/);
    assert.match(rejection('null'), /^secret pictor\/signing-keys\/shop has no "keys" array/);
    assert.match(rejection('{"keys":{}}'), /has no "keys" array/);
    assert.match(rejection(JSON.stringify({ keys: [{ kid: 'k1', secret: secret(31) }] })), /^secret pictor\/signing-keys\/shop: the secret of k1 must be at least 32 characters$/);
    assert.match(rejection(JSON.stringify({ keys: [{ kid: 'k1', secret: secret(31) }, { kid: 'k1', secret: secret(32) }] })), /: the secret of k1 must be at least 32 characters; key k1 appears twice$/);
  });

  it('lists every problem of a set: bad ids, short secrets, duplicates, too many', () => {
    assert.equal(MIN_SECRET_LENGTH, 32, 'HMAC-SHA256 keys shorter than the hash add no strength');
    assert.deepEqual(keySetProblems([{ kid: 'k1', secret: secret(32) }]), []);
    assert.deepEqual(keySetProblems([{ kid: 'k1', secret: secret(31) }]), ['the secret of k1 must be at least 32 characters']);
    assert.deepEqual(keySetProblems([{ kid: 'k1', secret: 42 }]), ['the secret of k1 must be at least 32 characters']);
    assert.deepEqual(keySetProblems([{ kid: 'k 1', secret: secret(32) }]), ['a key id is 1 to 32 of A-Z a-z 0-9 _ -, not "k 1"']);
    assert.deepEqual(keySetProblems([{ kid: 7, secret: secret(32) }]), ['a key id is 1 to 32 of A-Z a-z 0-9 _ -, not 7']);
    assert.deepEqual(keySetProblems([null]), ['a key id is 1 to 32 of A-Z a-z 0-9 _ -, not undefined', 'the secret of undefined must be at least 32 characters']);
    assert.deepEqual(keySetProblems([{ kid: 'k1', secret: secret(32) }, { kid: 'k1', secret: secret(33) }]), ['key k1 appears twice']);
    const five = Array.from({ length: 5 }, (_, i) => ({ kid: `k${i}`, secret: secret(32) }));
    assert.deepEqual(keySetProblems(five), []);
    assert.deepEqual(keySetProblems([...five, { kid: 'k5', secret: secret(32) }]), ['at most 5 active keys; retire the oldest first']);
  });
});
