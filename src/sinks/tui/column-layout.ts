// Column widths for a list row that must fit the terminal. Some columns are always there; the
// optional ones (app, company, download size…) are kept in an order of importance and given only
// what is left, so a narrow terminal loses the least useful column first instead of cutting every
// column to nothing. One free-width column (the path, the summary) takes whatever remains.

export interface OptionalColumn<Name extends string> {
  readonly name: Name;
  /** Below this width the column is not worth showing: it is hidden instead. */
  readonly min: number;
  /** More than this is never given. */
  readonly ideal: number;
  /** Shown only with room to spare once the others have grown to their ideal (a nicety: bytes down, duration). */
  readonly late?: boolean;
}

export interface ColumnPlan<Name extends string> {
  /** Each optional column's width; 0 means hidden (and its separating space is not spent). */
  readonly widths: Readonly<Record<Name, number>>;
  /** The free column's width. */
  readonly rest: number;
}

/**
 * `fixed`: the width the always-shown columns take, separators included. `restMin`: what the free
 * column needs before any optional column is shown. `keep`: optional columns, most important
 * first; each shown one costs its width plus one space. `grow`: who shares the room left after every
 * kept column has its minimum, up to its ideal (a column late in `grow` is the first to shrink;
 * a name given twice grows twice as fast).
 */
export function planColumns<Name extends string>(width: number, fixed: number, restMin: number, keep: readonly OptionalColumn<Name>[], grow: readonly Name[]): ColumnPlan<Name> {
  const widths = Object.fromEntries(keep.map((c) => [c.name, 0])) as Record<Name, number>;
  let room = Math.max(0, width - fixed - restMin);
  const place = (columns: readonly OptionalColumn<Name>[]): void => {
    for (const column of columns) {
      // Strictly by importance: once one does not fit, no less important one is shown in its place.
      if (column.min + 1 > room) break;
      widths[column.name] = column.min;
      room -= column.min + 1;
    }
  };
  place(keep.filter((c) => !c.late));
  // Room left over is shared a column at a time, so no column reaches its ideal while another
  // shown one is starved; when it runs out mid-round, the columns late in `grow` got one less.
  const growing = grow.map((name) => keep.find((c) => c.name === name)).filter((c): c is OptionalColumn<Name> => c !== undefined && widths[c.name] > 0);
  while (room > 0) {
    const hungry = growing.filter((c) => widths[c.name] < c.ideal);
    if (hungry.length === 0) break;
    for (const column of hungry) {
      if (room === 0) break;
      widths[column.name]++;
      room--;
    }
  }
  place(keep.filter((c) => c.late));
  return { widths, rest: restMin + room };
}
