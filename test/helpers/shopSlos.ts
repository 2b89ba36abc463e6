/**
 * SLOs over trace data of a `shop` service: availability and latency of server spans, and availability of
 * the calls it makes (client and producer spans).
 */
export const SHOP_TRACE_SLOS = `
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-availability, service: shop }
spec:
  indicator: { source: traces }
  objective: 99
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-item-latency, service: shop }
spec:
  indicator:
    source: traces
    select: { route: "/items/:id", method: GET }
    good: { latency: "<= 100ms" }
  objective: 90
  window: 28d
---
apiVersion: sloguard/v1
kind: SLO
metadata: { name: shop-outbound, service: shop }
spec:
  indicator: { source: traces, select: { spanKinds: [client, producer] } }
  objective: 99
  window: 28d
`;

/** A batch of the shop's spans: 2,500, well past the 16 KiB from which a batch is parsed on a thread. */
export const SERVER_SPANS = 2_000;
export const CLIENT_SPANS = 500;

/**
 * Server spans: every 40th answers 503; durations 10–190 ms in steps of 20 (five of ten within 100 ms); half
 * carry `http.route`, half only a path such as `/items/sku-7`, which automatic normalisation keeps as it is
 * and only the SLO's route template turns into `/items/:id`. Client spans: every 50th failed.
 */
export function shopSpans(nowUs: number) {
  const hex = (n: number) => n.toString(16).padStart(16, '0');
  const server = Array.from({ length: SERVER_SPANS }, (_, i) => ({
    traceId: hex(0x10000 + i),
    id: hex(0x20000 + i),
    kind: 'SERVER',
    name: 'get',
    timestamp: nowUs - i * 1_000,
    duration: 10_000 + (i % 10) * 20_000,
    localEndpoint: { serviceName: 'shop' },
    tags: {
      'http.method': 'GET',
      'http.status_code': i % 40 === 0 ? '503' : '200',
      ...(i % 2 === 0 ? { 'http.route': '/items/:id' } : { 'http.path': `/items/sku-${i}` }),
    },
  }));
  const client = Array.from({ length: CLIENT_SPANS }, (_, i) => ({
    traceId: hex(0x10000 + i),
    parentId: hex(0x20000 + i),
    id: hex(0x30000 + i),
    kind: 'CLIENT',
    name: 'get',
    timestamp: nowUs - i * 1_000,
    duration: 5_000,
    localEndpoint: { serviceName: 'shop' },
    tags: { 'http.method': 'GET', 'http.path': '/stock', ...(i % 50 === 0 && { error: 'timeout' }) },
  }));
  return [...server, ...client];
}

/** Good and valid events of one copy of the batch, per SLO. */
export const ONE_BATCH = {
  'shop-availability': { good: SERVER_SPANS - SERVER_SPANS / 40, valid: SERVER_SPANS },
  'shop-item-latency': { good: SERVER_SPANS / 2, valid: SERVER_SPANS },
  'shop-outbound': { good: CLIENT_SPANS - CLIENT_SPANS / 50, valid: CLIENT_SPANS },
};
