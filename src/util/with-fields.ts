// A record with some fields added or replaced: `{ ...record, ...fields }`, the same keys in the same
// order, without the object literal.
//
// In Node 20's V8 (11.3) an object literal that begins with a spread and goes on with anything
// else (`{ ...flow, app }`) gives every object it makes a hidden class of its own: V8 copies the
// spread object's class for the clone and then adds the next key to that copy, a new class each
// time, and a class lives in the old generation. A flow's request, its response, its coverage and
// its app each made one per small request: about 1.3 kB a request went to the old generation
// through them (scripts/profile-capture.mjs --alloc-profile --promoted), which V8 then had to
// collect whole. Object.assign onto a fresh `{}` reuses one class for every object of the same
// shape (test/unit/util/with-fields.test.ts checks both, with V8's own test of hidden classes).
// A literal that begins with a key of its own (`{ kind, ...rest }`) is not affected, and neither
// is one whose later keys the spread object already has (`{ ...flow, id }`): only an added key
// makes the new class.

/** `{ ...record, ...fields }` on one hidden class per shape (see above); a field that replaces one keeps its type. */
export function withFields<T extends object, U extends object>(record: T, fields: U): T & U {
  return Object.assign({}, record, fields);
}
