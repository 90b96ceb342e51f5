/**
 * Referential bindings: a pair of fields, one on each type, that the store keeps pointing at each
 * other. `onDelete` says what deleting an object of that side does to the objects it references.
 */
export type DeleteAction = 'cascade' | 'clear' | 'error';

export interface BindingSide {
  type: string;
  field: string;
  list: boolean;
  onDelete: DeleteAction;
}

export interface Binding {
  a: BindingSide;
  b: BindingSide;
}

/** One side seen from its own type: the field, what to do on delete, and the far side. */
export interface BoundField {
  field: string;
  list: boolean;
  onDelete: DeleteAction;
  other: BindingSide;
}

export class BindingIndex {
  private readonly byType = new Map<string, BoundField[]>();

  constructor(bindings: readonly Binding[]) {
    for (const { a, b } of bindings) {
      this.add(a, b);
      // A self-binding (Port.peerId <-> Port.peerId) is one field, indexed once.
      if (a.type !== b.type || a.field !== b.field) this.add(b, a);
    }
  }

  private add(side: BindingSide, other: BindingSide): void {
    const list = this.byType.get(side.type) ?? [];
    list.push({ field: side.field, list: side.list, onDelete: side.onDelete, other });
    this.byType.set(side.type, list);
  }

  fieldsOf(type: string): readonly BoundField[] {
    return this.byType.get(type) ?? [];
  }
}

/** The ids a field holds, whether scalar or list. */
export function refsOf(obj: Record<string, unknown>, field: string): string[] {
  const v = obj[field];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return typeof v === 'string' ? [v] : [];
}
