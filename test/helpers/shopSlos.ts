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
