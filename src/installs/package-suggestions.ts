// Wrong package names are the most common install failure ("Package requested for installation
// was not found"): people paste the display name or the application id, or mistype the unique
// name. This turns a miss into a message that names the right uniqueName.
import type { RawApplicationPackage } from '../upstream/types.js';

export type PackageLookup =
  | { kind: 'found'; uniqueName: string }
  | { kind: 'displayName' | 'applicationId'; uniqueName: string; given: string }
  | { kind: 'missing'; suggestions: string[] };

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}

const norm = (s: string | null | undefined) => (s ?? '').trim().toLowerCase();

/**
 * Resolves what the caller typed against the packages an environment offers: an exact unique name,
 * the same name in another case, a display name or application/package id given by mistake, or
 * the closest unique names (edit distance, then substring) when nothing matches.
 */
export function lookupPackage(given: string, packages: RawApplicationPackage[], max = 3): PackageLookup {
  if (packages.some((p) => p.uniqueName === given)) return { kind: 'found', uniqueName: given };
  const q = norm(given);
  const caseOnly = [...new Set(packages.filter((p) => norm(p.uniqueName) === q).map((p) => p.uniqueName))];
  if (caseOnly.length === 1) return { kind: 'found', uniqueName: caseOnly[0]! };

  const byDisplay = packages.find((p) => norm(p.localizedName) === q || norm(p.applicationName) === q);
  if (byDisplay) return { kind: 'displayName', uniqueName: byDisplay.uniqueName, given };
  const byId = packages.find((p) => norm(p.applicationId) === q || norm(p.id) === q);
  if (byId) return { kind: 'applicationId', uniqueName: byId.uniqueName, given };

  return { kind: 'missing', suggestions: closestNames(given, packages, max) };
}

export function closestNames(given: string, packages: RawApplicationPackage[], max = 3): string[] {
  const q = norm(given);
  if (!q) return [];
  const names = [...new Set(packages.map((p) => p.uniqueName))];
  const scored = names
    .map((name) => {
      const n = name.toLowerCase();
      const display = packages.find((p) => p.uniqueName === name)?.localizedName ?? '';
      const distance = Math.min(levenshtein(q, n), levenshtein(q, display.toLowerCase()));
      const contains = n.includes(q) || q.includes(n) || (display !== '' && display.toLowerCase().includes(q));
      return { name, distance, contains };
    })
    // A name is a suggestion when it is a few edits away (a third of the length) or contains
    // what was typed (people type "Surveys" for "msdyn_ContosoSurveysAnchor").
    .filter((s) => s.contains || s.distance <= Math.max(2, Math.floor(q.length / 3)));
  scored.sort((a, b) => Number(b.contains) - Number(a.contains) || a.distance - b.distance || a.name.localeCompare(b.name));
  return scored.slice(0, max).map((s) => s.name);
}

/** The sentence for a 404: what was wrong and which name to use instead. */
export function packageNotFoundMessage(given: string, environmentId: string, lookup: PackageLookup): string {
  switch (lookup.kind) {
    case 'displayName':
      return `"${given}" is the display name of a package, not its unique name; use the unique name "${lookup.uniqueName}" instead.`;
    case 'applicationId':
      return `"${given}" is the application id of a package, not its unique name; use the unique name "${lookup.uniqueName}" instead.`;
    case 'missing': {
      const hint = lookup.suggestions.length
        ? ` Did you mean ${lookup.suggestions.map((s) => `"${s}"`).join(' or ')}?`
        : ' Use ListPackages to see the unique names this environment offers.';
      return `Environment ${environmentId} does not offer a package with the unique name "${given}" (it may not exist, or not be available in the environment's region).${hint}`;
    }
    default:
      return `Package "${given}" was found.`;
  }
}
