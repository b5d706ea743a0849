// Shape detectors look for records (an SMS, a mail, a call) anywhere in a structured value: this
// walks it, keeps the objects `recordOf` accepts (and the arrays `rowOf` accepts, for rows whose
// columns have no names), and does not look inside an accepted record.

export function collectRecords<T>(value: unknown, recordOf: (object: Record<string, unknown>) => T | undefined, max = 10_000, maxDepth = 16, rowOf?: (items: readonly unknown[]) => T | undefined): T[] {
  const out: T[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (out.length >= max || depth > maxDepth) return;
    if (Array.isArray(node)) {
      const row = rowOf?.(node);
      if (row) out.push(row);
      else for (const item of node) walk(item, depth + 1);
    } else if (node && typeof node === 'object') {
      const record = recordOf(node as Record<string, unknown>);
      if (record) out.push(record);
      else for (const inner of Object.values(node)) walk(inner, depth + 1);
    }
  };
  walk(value, 0);
  return out;
}

