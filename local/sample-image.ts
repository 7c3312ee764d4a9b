import sharp from 'sharp';

/**
 * A photo-like image drawn from SVG (gradient sky, sun, hills), so the twin and
 * the tests need no network and no image files of their own.
 */
export async function sampleImage(width = 1600, height = 1067, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 1600 1067" preserveAspectRatio="none">
    <defs>
      <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#1e3c72"/><stop offset="1" stop-color="#f0a35e"/></linearGradient>
      <linearGradient id="hill" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#2a9d8f"/><stop offset="1" stop-color="#264653"/></linearGradient>
    </defs>
    <rect width="1600" height="1067" fill="url(#sky)"/>
    <circle cx="1150" cy="380" r="150" fill="#f9d423"/>
    <path d="M0 760 C 300 600, 600 640, 900 760 S 1400 700, 1600 620 L 1600 1067 L 0 1067 Z" fill="url(#hill)"/>
    <path d="M0 880 C 400 780, 800 860, 1600 800 L 1600 1067 L 0 1067 Z" fill="#1d3557" opacity="0.8"/>
  </svg>`;
  return sharp(Buffer.from(svg))[format]({ quality: 90 }).toBuffer();
}
