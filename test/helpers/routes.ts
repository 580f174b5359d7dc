/** A concrete path for a route pattern of the route table (placeholder ids of the right shape). */
export function concretePath(path: string): string {
  return path
    .replace(':sid', 'auth_s')
    .replace('*name', 'x.txt')
    .replace(':sha256', '0'.repeat(64))
    .replace(':id', 'a_01J00000000000000000000000')
    .replace(/:[a-z_]+/g, 'x')
    .replace(/\*[a-z_]+/g, 'x');
}
