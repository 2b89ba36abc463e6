import {
  defaultStatusCodeTagName,
  defaultStatusErrorTagName,
  toZipkinSpan,
} from '@opentelemetry/exporter-zipkin/build/src/transform.js';
import { core, type tracing } from '@opentelemetry/sdk-node';
import { readAnswerStart } from '../net/boundedBody.js';

/** Where a failed export is told: its spans are dropped, so this is the only trace of them. */
export interface ExportLog {
  warn(details: object, message: string): void;
}

export interface ZipkinExportOptions {
  url: string;
  headers: Record<string, string>;
  /** The service name of spans whose resource names none. */
  serviceName: string;
  /** How long one export may take, its answer included; then it is aborted and its spans dropped. */
  timeoutMs: number;
  log: ExportLog;
}

/**
 * fetch refuses a URL with a user and password in it; the library's node:http sender sent them as Basic auth, so a
 * tracing URL written for it (`https://user:secret@zipkin/api/v2/spans`) keeps working.
 */
function withoutCredentials(url: string): { url: string; headers: Record<string, string> } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url, headers: {} };
  const user = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, headers: { authorization: `Basic ${Buffer.from(user).toString('base64')}` } };
}

const SERVICE_NAME = 'service.name';
const SUCCESS: core.ExportResult = { code: core.ExportResultCode.SUCCESS };

/**
 * Sends spans to a Zipkin `/api/v2/spans` as the library's ZipkinExporter does (v2 JSON, its own `toZipkinSpan`
 * conversion with its default tag names), but over fetch with a timeout and a bounded read of the answer
 * ([security](../../docs/security.md#answers-from-other-servers)). The library's sender reads the answer whole
 * with no timeout, and offers no hook for a sender of ours: an endless answer grew memory until a RangeError
 * crashed the process, and a hung endpoint held each export, and its socket, forever. The conversion is not
 * re-exported by the package's index, so it is imported from its module; the self-tracing tests pin the format.
 */
export class BoundedZipkinExporter implements tracing.SpanExporter {
  /** Exports under way; each ends by its timeout, and the batch processor sends one batch at a time. */
  private readonly sending = new Set<Promise<void>>();
  private stopped = false;
  private readonly url: string;
  private readonly headers: Record<string, string>;

  constructor(private readonly options: ZipkinExportOptions) {
    const target = withoutCredentials(options.url);
    this.url = target.url;
    // A token given apart (SLOGUARD_TRACING_TOKEN) wins over a user in the URL.
    this.headers = { 'content-type': 'application/json', ...target.headers, ...options.headers };
  }

  export(spans: tracing.ReadableSpan[], done: (result: core.ExportResult) => void): void {
    if (this.stopped) {
      done({ code: core.ExportResultCode.FAILED, error: new Error('the span exporter is shut down') });
      return;
    }
    const sending = this.send(spans).then(done);
    this.sending.add(sending);
    void sending.finally(() => this.sending.delete(sending));
  }

  /** Waits for the exports under way, then takes no more. */
  shutdown(): Promise<void> {
    this.stopped = true;
    return this.forceFlush();
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.sending);
  }

  /** One POST; never rejects: every failure is a FAILED result, warned about once. */
  private async send(spans: tracing.ReadableSpan[]): Promise<core.ExportResult> {
    const { timeoutMs, log } = this.options;
    let failure: { status: number; answer: string } | { err: unknown };
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: this.headers,
        body: JSON.stringify(spans.map((span) => this.toZipkin(span))),
        // A redirect is not a delivery: followed, fetch would turn the POST into a GET.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.ok) {
        // Delivered: what the endpoint says besides its status is not wanted, and a failed cancel changes nothing.
        await response.body?.cancel().catch(() => undefined);
        return SUCCESS;
      }
      failure = { status: response.status, answer: await readAnswerStart(response) };
    } catch (error) {
      failure = { err: error };
    }
    // No URL in the line: a tracing URL may carry credentials in its user part.
    log.warn({ spans: spans.length, ...failure }, 'self-tracing export failed; its spans are dropped');
    const reason = 'status' in failure ? `was answered ${failure.status}` : 'failed';
    return { code: core.ExportResultCode.FAILED, error: new Error(`the span export ${reason}`) };
  }

  private toZipkin(span: tracing.ReadableSpan) {
    // The exporter's order: the span's own service name, its resource's, then the one configured.
    const serviceName =
      span.attributes[SERVICE_NAME] || span.resource.attributes[SERVICE_NAME] || this.options.serviceName;
    return toZipkinSpan(span, String(serviceName), defaultStatusCodeTagName, defaultStatusErrorTagName);
  }
}
