// Prints the SHA-256 of an API key in the form API_KEYS expects, so the key itself never goes into
// configuration. Usage: npm run hash-key -- <key> [name] [permissions]
import { sha256Hex } from '../src/http/api-keys.js';

const [key, name, permissions] = process.argv.slice(2);
if (!key) {
  process.stderr.write(
    'Usage: npm run hash-key -- <key> [name] [permissions]\n' +
      '  prints the SHA-256 of <key>; with a name it prints a whole API_KEYS entry, e.g.\n' +
      '  npm run hash-key -- "$KEY" flows packages.read+packages.install\n',
  );
  process.exit(2);
}
const hash = sha256Hex(key);
process.stdout.write(name ? `${name}:${hash}:${permissions ?? '*'}\n` : `${hash}\n`);
