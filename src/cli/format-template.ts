/**
 * `--format TEMPLATE`: one line per item of a command's result, each `{field}` replaced by that
 * field of the item (`{meta.KEY}` for metadata; `{{` and `}}` for literal braces), values as
 * they are, or passed through `show` (the CLI escapes control characters on a terminal). The items are a page's `items`, a list's elements, or the one
 * record. Throws an Error naming the fields an item has for a field it lacks.
 */
export function formatItems(
  template: string,
  value: unknown,
  show: (text: string) => string = (t) => t,
): string {
  const items = Array.isArray(value)
    ? (value as unknown[])
    : isRecord(value) && Array.isArray(value.items)
      ? (value.items as unknown[])
      : [value];
  return items.map((item) => `${formatOne(template, item, show)}\n`).join('');
}

function formatOne(template: string, item: unknown, show: (text: string) => string): string {
  return template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (whole, field: string | undefined) => {
    if (field === undefined) return whole[0];
    const v = lookup(item, field.trim());
    if (v === undefined) {
      const fields = isRecord(item) ? Object.keys(item).join(', ') : '';
      throw new Error(
        `--format: no field '${field}'; the fields are ${fields} (meta.KEY for metadata)`,
      );
    }
    return show(v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v as string));
  });
}

function lookup(item: unknown, path: string): unknown {
  if (path.startsWith('meta.') && isRecord(item) && isRecord(item.meta))
    return item.meta[path.slice(5)] ?? null;
  return isRecord(item) && Object.hasOwn(item, path) ? item[path] : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
