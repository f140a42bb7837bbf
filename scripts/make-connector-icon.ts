// Draws connector/icon.png: 230×230, the brand colour (apiProperties iconBrandColor) as background
// and a white "relay" glyph (two opposed arrows). Written with node:zlib so no image library is
// needed; run `npx tsx scripts/make-connector-icon.ts` after changing the colour.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { CONNECTOR_BRAND_COLOR } from './connector-files.js';

const SIZE = 230;

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** True where the glyph is: an arrow to the right above an arrow to the left. */
function glyph(x: number, y: number): boolean {
  const arrow = (cy: number, right: boolean) => {
    const shaftHalf = 9;
    const headLength = 36;
    const headHalf = 30;
    const left = 48;
    const rightEnd = SIZE - 48;
    const headBase = right ? rightEnd - headLength : left + headLength;
    const inShaft =
      Math.abs(y - cy) <= shaftHalf && (right ? x >= left && x <= headBase : x >= headBase && x <= rightEnd);
    const along = right ? x - headBase : headBase - x;
    const inHead =
      along >= 0 && along <= headLength && Math.abs(y - cy) <= headHalf * (1 - along / headLength);
    return inShaft || inHead;
  };
  return arrow(82, true) || arrow(148, false);
}

export function drawIcon(hex: string): Buffer {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
  const raw = Buffer.alloc((SIZE * 3 + 1) * SIZE);
  for (let y = 0; y < SIZE; y++) {
    const row = y * (SIZE * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < SIZE; x++) {
      const white = glyph(x, y);
      raw[row + 1 + x * 3] = white ? 255 : r;
      raw[row + 2 + x * 3] = white ? 255 : g;
      raw[row + 3 + x * 3] = white ? 255 : b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = fileURLToPath(new URL('../connector/icon.png', import.meta.url));
  writeFileSync(out, drawIcon(CONNECTOR_BRAND_COLOR));
  console.log(`wrote ${out} (${SIZE}×${SIZE}, ${CONNECTOR_BRAND_COLOR})`);
}
