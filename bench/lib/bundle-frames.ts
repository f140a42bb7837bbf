// The relay runs as a bundle (dist/bundle/), so a CPU profile names one big file for every frame.
// Through the bundle's source maps each frame gets back its original file and line (a package in
// node_modules or a file in src/), which is what the summary groups by.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface FrameNode {
  callFrame: { url: string; lineNumber: number; columnNumber?: number };
}

export function withOriginalFrames<P extends { nodes: FrameNode[] }>(profile: P): P {
  const maps = new Map<string, { map: SourceMap; dir: string } | null>();
  const mapFor = (url: string) => {
    // relay.js names its frames by file URL; relay-main.cjs, compiled through vm.Script, by path.
    if (!url.includes('/dist/bundle')) return null;
    if (!maps.has(url)) {
      const file = `${url.startsWith('file://') ? fileURLToPath(url) : url}.map`;
      maps.set(url, existsSync(file) ? { map: new SourceMap(JSON.parse(readFileSync(file, 'utf8'))), dir: dirname(file) } : null);
    }
    return maps.get(url) ?? null;
  };
  const nodes = profile.nodes.map((node) => {
    const found = mapFor(node.callFrame.url);
    if (!found) return node;
    const entry = found.map.findEntry(node.callFrame.lineNumber, Math.max(0, node.callFrame.columnNumber ?? 0));
    if (!entry || !('originalSource' in entry) || !entry.originalSource) return node;
    const url = pathToFileURL(resolve(found.dir, entry.originalSource)).href;
    return { ...node, callFrame: { ...node.callFrame, url, lineNumber: entry.originalLine } };
  });
  return { ...profile, nodes };
}
