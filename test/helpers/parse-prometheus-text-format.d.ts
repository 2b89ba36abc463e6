/** The package ships no types; it returns metric families as its README shows. */
declare module 'parse-prometheus-text-format' {
  interface ParsedMetric {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  export default function parse(
    text: string,
  ): Array<{ name: string; help: string; type: string; metrics: ParsedMetric[] }>;
}
