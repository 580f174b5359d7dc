/**
 * A concrete path for a route pattern of a route table (placeholder ids of the right shape;
 * `id` for `:id`, e.g. an `art_` id on the Artifacta listener).
 */
export function concretePath(path: string, id = 'a_01J00000000000000000000000'): string {
  return path
    .replace(':sid', 'auth_s')
    .replace('*name', 'x.txt')
    .replace(':sha256', '0'.repeat(64))
    .replace(':id', id)
    .replace(/:[a-z_]+/g, 'x')
    .replace(/\*[a-z_]+/g, 'x');
}
