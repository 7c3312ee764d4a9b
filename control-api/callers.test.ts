import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identifyCaller, mayActOn, principalKey } from './callers.ts';

const principals = {
  tenantRoles: { 'arn:aws:iam::111122223333:role/pictor-tenant-shop': 'shop', 'arn:aws:iam::111122223333:role/teams/pictor-tenant-blog': 'blog' },
  admins: ['arn:aws:iam::111122223333:role/pictor-api-admin', 'arn:aws:iam::111122223333:user/ops'],
};

describe('control API callers', () => {
  it("maps a role's session to its tenant, a path in the role's ARN included", () => {
    assert.deepEqual(identifyCaller('arn:aws:sts::111122223333:assumed-role/pictor-tenant-shop/alice', principals), {
      arn: 'arn:aws:sts::111122223333:assumed-role/pictor-tenant-shop/alice',
      admin: false,
      tenant: 'shop',
    });
    assert.equal(identifyCaller('arn:aws:sts::111122223333:assumed-role/pictor-tenant-blog/ci', principals).tenant, 'blog');
  });

  it('knows admins by role session or by user ARN', () => {
    assert.equal(identifyCaller('arn:aws:sts::111122223333:assumed-role/pictor-api-admin/bob', principals).admin, true);
    assert.equal(identifyCaller('arn:aws:iam::111122223333:user/ops', principals).admin, true);
  });

  it("gives a role of the same name in another account, or an unknown caller, nothing", () => {
    const stranger = identifyCaller('arn:aws:sts::999999999999:assumed-role/pictor-tenant-shop/eve', principals);
    assert.equal(stranger.admin, false);
    assert.equal(stranger.tenant, undefined);
    assert.equal(mayActOn(stranger, 'shop'), false);
  });

  it('lets a tenant act on its own tenant only, and an admin on all', () => {
    const shop = identifyCaller('arn:aws:sts::111122223333:assumed-role/pictor-tenant-shop/alice', principals);
    assert.equal(mayActOn(shop, 'shop'), true);
    assert.equal(mayActOn(shop, 'blog'), false);
    const admin = identifyCaller('arn:aws:iam::111122223333:user/ops', principals);
    assert.equal(mayActOn(admin, 'blog'), true);
  });

  it('matches roles by account and name', () => {
    assert.equal(principalKey('arn:aws:iam::111122223333:role/a/b/name'), '111122223333:role/name');
    assert.equal(principalKey('arn:aws:sts::111122223333:assumed-role/name/s'), '111122223333:role/name');
    assert.equal(principalKey('arn:aws:iam::111122223333:user/ops'), 'arn:aws:iam::111122223333:user/ops');
  });
});
