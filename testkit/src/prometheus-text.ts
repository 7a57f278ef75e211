import parsePrometheusTextFormat, { type PrometheusFamily, type PrometheusSample } from "parse-prometheus-text-format";

export type { PrometheusFamily, PrometheusSample };

/**
 * A scrape, read as Prometheus reads it: by family name. The parser throws on text Prometheus would refuse.
 * It folds a histogram's samples into one label-less sample, so series are also read from a second parse
 * with histograms and summaries declared untyped: there `x_count{…}`, `x_sum{…}` and `x_bucket{…}` are series of
 * their own, each sample with its labels.
 */
export class PrometheusScrape {
  /** The families as exposed, with their types. */
  readonly families: Map<string, PrometheusFamily>;
  private readonly series: Map<string, PrometheusFamily>;

  constructor(readonly text: string) {
    this.families = new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family]));
    const untyped = text.replace(/^# TYPE (\S+) (histogram|summary)$/gm, "# TYPE $1 untyped");
    // A histogram's series alternate (x_bucket…, x_sum, x_count, then the next label set's): one family per run.
    this.series = new Map();
    for (const family of parsePrometheusTextFormat(untyped)) {
      const seen = this.series.get(family.name);
      if (seen) seen.metrics.push(...family.metrics);
      else this.series.set(family.name, family);
    }
  }

  /** The samples of series `name` (a histogram's: `x_count`, `x_sum`, `x_bucket`) whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): PrometheusSample[] {
    return (this.series.get(name)?.metrics ?? []).filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value));
  }

  /** The value of series `name` with exactly these labels (0 when absent, as for a counter that has not moved yet). */
  value(name: string, labels: Record<string, string> = {}): number {
    const exact = this.samples(name, labels).find((sample) => Object.keys(sample.labels ?? {}).length === Object.keys(labels).length);
    return exact ? Number(exact.value) : 0;
  }

  /** A histogram's observation count with exactly these labels (0 when absent). */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.value(`${name}_count`, labels);
  }
}

/** GET `url` (a /metrics endpoint) as Prometheus scrapes it: text format 0.0.4, parsed. */
export async function scrapePrometheus(url: string): Promise<PrometheusScrape> {
  const response = await fetch(url, { headers: { accept: "text/plain;version=0.0.4" } });
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  const contentType = response.headers.get("content-type") ?? "";
  if (!contentType.startsWith("text/plain")) throw new Error(`GET ${url} answered ${contentType}, not Prometheus text`);
  return new PrometheusScrape(await response.text());
}
