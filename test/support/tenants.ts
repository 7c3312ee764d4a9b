import { parseConfig, type PictorConfig } from '../../core/tenant-config.ts';

/** Tenants shared by the edge tests: one open but embedded only on its own sites, one signed with two keys, one without AVIF. */
export const TEST_CONFIG: PictorConfig = parseConfig({
  tenants: {
    acme: { breakpoints: [100, 200, 320, 640, 1280], qualities: [50, 75, 90], defaultQuality: 75, referers: ['acme.test', '*.acme.test'] },
    'acme-private': {
      breakpoints: [100, 200, 320, 640, 1280],
      signing: {
        required: true,
        keys: { k1: 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz', k2: 'k2-secret-0123456789abcdefghijklmnopqrstuvwxyz' },
      },
    },
    'no-avif': { breakpoints: [100, 200, 320, 640, 1280], formats: ['webp', 'jpeg', 'png'] },
  },
});

export const CHROME_ACCEPT = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
export const SAFARI_OLD_ACCEPT = 'image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5';
