import { performance } from 'node:perf_hooks';

/** One way of doing the job being compared (raw pg, plain TypeORM, bastion, …). */
export interface Variant {
  readonly name: string;
  /** Does the job once; called `iterations` times per round. */
  readonly op: () => Promise<unknown>;
  /** Runs before each round (e.g. truncating a table), outside the timing. */
  readonly beforeRound?: () => Promise<unknown>;
}

/** How a comparison is sized. */
export interface CompareOptions {
  readonly rounds: number;
  readonly iterations: number;
  /** Untimed rounds first, to warm caches and JIT. */
  readonly warmupRounds?: number;
}

/** One measured variant: per-operation times over the rounds. */
export interface Measured {
  readonly variant: string;
  readonly medianMs: number;
  readonly p95Ms: number;
  readonly opsPerSecond: number;
  /**
   * This variant against the baseline (the first variant): the median over rounds of (this round's time / the
   * baseline's time in the same round), so slow phases of the machine cancel out. Below 1 is faster.
   */
  readonly ratio: number;
}

/** A finished comparison, ready to be printed as a table. */
export interface BenchTable {
  readonly title: string;
  readonly description: string;
  readonly baseline: string;
  readonly unit: string;
  readonly rows: readonly Measured[];
  readonly notes?: readonly string[];
}

/**
 * Runs the variants in interleaved, rotating rounds (A B C, B C A, …) so drift of the machine hits them alike, and
 * reports per-operation medians with the first variant as the baseline.
 */
export async function compare(
  title: string,
  description: string,
  variants: readonly Variant[],
  options: CompareOptions,
  unit = 'operation',
): Promise<BenchTable> {
  const samples = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const total = (options.warmupRounds ?? 1) + options.rounds;
  for (let round = 0; round < total; round++) {
    // Rotate the order every round, so no variant always runs first (or right after the same neighbour).
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      await variant.beforeRound?.();
      const started = performance.now();
      for (let i = 0; i < options.iterations; i++) await variant.op();
      const perOp = (performance.now() - started) / options.iterations;
      if (round >= (options.warmupRounds ?? 1)) samples.get(variant.name)?.push(perOp);
    }
  }
  const baseline = samples.get(variants[0]!.name) ?? [];
  const rows = variants.map((v) => {
    const values = samples.get(v.name) ?? [];
    const med = median(values);
    const ratio = median(values.map((value, round) => value / baseline[round]!));
    return { variant: v.name, medianMs: med, p95Ms: percentile(values, 0.95), opsPerSecond: 1000 / med, ratio };
  });
  return { title, description, baseline: variants[0]!.name, unit, rows };
}

export function median(values: readonly number[]): number {
  return percentile(values, 0.5);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[index]!;
}

/** Markdown for one table. */
export function renderTable(table: BenchTable): string {
  const lines = [
    `### ${table.title}`,
    '',
    table.description,
    '',
    `| variant | median ms / ${table.unit} | p95 ms | ops / s | vs ${table.baseline} |`,
    '| --- | ---: | ---: | ---: | ---: |',
    ...table.rows.map(
      (r) =>
        `| ${r.variant} | ${r.medianMs.toFixed(3)} | ${r.p95Ms.toFixed(3)} | ${Math.round(r.opsPerSecond).toLocaleString('en-US')} | ${r.ratio.toFixed(2)}× |`,
    ),
  ];
  if (table.notes?.length) lines.push('', ...table.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}
