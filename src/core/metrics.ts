import type { CairnEvent, EventBus } from './events.js';

type Labels = Record<string, string>;

interface Family {
  type: 'counter' | 'gauge' | 'histogram';
  help: string;
  /** Label set (canonical text) → value, or histogram state. */
  series: Map<string, number | Histo>;
}

interface Histo {
  buckets: number[];
  sum: number;
  count: number;
}

/** Upper bounds (seconds) of the latency histograms: 0.5 ms to 10 s. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/**
 * In-process metrics rendered in the Prometheus text format (version 0.0.4). Counters only go
 * up, gauges go both ways, histograms use {@link LATENCY_BUCKETS}. Names and help texts are
 * declared on first use; a name is one type for the life of the process. Not thread-shared:
 * one instance per App.
 */
export class Metrics {
  private readonly families = new Map<string, Family>();

  /** Adds `by` (default 1) to a counter. */
  inc(name: string, help: string, labels: Labels = {}, by = 1): void {
    const s = this.family(name, 'counter', help).series;
    const k = labelText(labels);
    s.set(k, ((s.get(k) as number | undefined) ?? 0) + by);
  }

  /** Adds `by` (may be negative) to a gauge. */
  add(name: string, help: string, by: number, labels: Labels = {}): void {
    const s = this.family(name, 'gauge', help).series;
    const k = labelText(labels);
    s.set(k, ((s.get(k) as number | undefined) ?? 0) + by);
  }

  /** Sets a gauge (or, with `type: 'counter'`, a counter kept elsewhere, e.g. sweeper runs). */
  set(
    name: string,
    help: string,
    value: number,
    labels: Labels = {},
    type: 'gauge' | 'counter' = 'gauge',
  ): void {
    this.family(name, type, help).series.set(labelText(labels), value);
  }

  /** Records one observation (seconds) in a histogram. */
  observe(name: string, help: string, seconds: number, labels: Labels = {}): void {
    const s = this.family(name, 'histogram', help).series;
    const k = labelText(labels);
    let h = s.get(k) as Histo | undefined;
    if (!h) s.set(k, (h = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < LATENCY_BUCKETS.length; i++)
      if (seconds <= LATENCY_BUCKETS[i]) h.buckets[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** Current value of a counter or gauge (0 if never set); for tests and the CLI. */
  value(name: string, labels: Labels = {}): number {
    const v = this.families.get(name)?.series.get(labelText(labels));
    return typeof v === 'number' ? v : 0;
  }

  /** Counts pushes, pushed bytes, dedupe hits, deletions, seals and expiries from the bus. */
  follow(events: EventBus): () => void {
    return events.subscribe((ev: CairnEvent) => {
      const d = ev.data as { size?: number; deduplicated?: boolean; reason?: string };
      if (ev.type === 'artifact.created') {
        this.inc('cairn_pushes_total', 'Artifacts pushed (or imported)');
        this.inc('cairn_pushed_bytes_total', 'Bytes of pushed artifacts', {}, d.size ?? 0);
        if (d.deduplicated)
          this.inc('cairn_dedupe_hits_total', 'Pushes whose bytes the store already held');
      } else if (ev.type === 'artifact.deleted') {
        this.inc('cairn_artifacts_deleted_total', 'Artifacts removed', {
          reason: d.reason ?? 'deleted',
        });
      } else if (ev.type === 'session.sealed') {
        this.inc('cairn_sessions_sealed_total', 'Sessions sealed (or imported sealed)');
      } else {
        this.inc('cairn_sessions_expired_total', 'Sessions removed at their expiry');
      }
    });
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    const out: string[] = [];
    for (const [name, f] of [...this.families].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const [labels, v] of f.series) {
        if (typeof v === 'number') {
          out.push(`${name}${wrap(labels)} ${v}`);
          continue;
        }
        LATENCY_BUCKETS.forEach((le, i) =>
          out.push(`${name}_bucket${wrap(join(labels, `le="${le}"`))} ${v.buckets[i]}`),
        );
        out.push(`${name}_bucket${wrap(join(labels, 'le="+Inf"'))} ${v.count}`);
        out.push(`${name}_sum${wrap(labels)} ${v.sum}`, `${name}_count${wrap(labels)} ${v.count}`);
      }
    }
    return `${out.join('\n')}\n`;
  }

  private family(name: string, type: Family['type'], help: string): Family {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { type, help, series: new Map() }));
    return f;
  }
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  // Most series have no labels or plain ones: this runs several times per request.
  if (keys.length === 0) return '';
  return keys
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k])}"`)
    .join(',');
}

function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v)
    ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : v;
}

function join(a: string, b: string): string {
  return a ? `${a},${b}` : b;
}

function wrap(labels: string): string {
  return labels ? `{${labels}}` : '';
}
