// Whether an app is the entity's own: its package (Android application id, iOS bundle id) starts
// with one of the company's package prefixes, on a label boundary. A package that merely contains
// a company's name (com.example.google, com.googlex) is not the company's.

/** True when the app id is one of the prefixes or lies beneath one (com.miui.gallery under com.miui). */
export function packageUnderPrefixes(appId: string, prefixes: readonly string[]): boolean {
  const id = appId.trim().toLowerCase();
  if (id.length === 0) return false;
  return prefixes.some((prefix) => {
    const p = prefix.toLowerCase();
    return id === p || id.startsWith(`${p}.`);
  });
}
