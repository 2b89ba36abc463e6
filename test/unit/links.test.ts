import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { fillTemplate, type LinkContext } from '../../src/config/links.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

function configWith(yaml: string) {
  const dir = tempDir();
  dirs.push(dir);
  return loadConfig({ SLOGUARD_CONFIG: dir.file('sloguard.yaml', yaml) });
}

const context: LinkContext = {
  slo: 'checkout-availability',
  service: 'check out',
  fromMs: Date.parse('2026-12-03T10:00:00Z'),
  toMs: Date.parse('2026-12-03T10:01:00.500Z'),
  route: '/api/orders/:id',
  method: 'GET',
  status: '5xx',
};

describe('links to traces and logs', () => {
  it('fills every placeholder, URL-encoded: ms, s and RFC 3339 times, service, route, method, status', () => {
    const template =
      'https://logs.example.com/?q=service:{service} AND route:{route} AND method:{method} AND status:{status}&slo={slo}&a={from_ms}&b={to_ms}&c={from_s}&d={to_s}&e={from}&f={to}';
    expect(fillTemplate(template, context)).toBe(
      'https://logs.example.com/?q=service:check%20out AND route:%2Fapi%2Forders%2F%3Aid AND method:GET AND status:5xx' +
        '&slo=checkout-availability&a=1796292000000&b=1796292060500&c=1796292000&d=1796292061' +
        '&e=2026-12-03T10%3A00%3A00.000Z&f=2026-12-03T10%3A01%3A00.500Z',
    );
  });

  it('defaults to the Zipkin UI at /zipkin/ and reads per-service and default templates', () => {
    expect(loadConfig({ SLOGUARD_CONFIG: undefined }).links).toEqual({ zipkin: '/zipkin/', services: {} });
    const config = configWith(
      'links:\n  zipkin: ""\n  logs: "https://kibana.example.com/app/discover#/?q={service}"\n  services:\n    checkout: { traces: "https://grafana.example.com/explore?left={from_ms}" }\n',
    );
    expect(config.links).toEqual({
      logs: 'https://kibana.example.com/app/discover#/?q={service}',
      services: { checkout: { traces: 'https://grafana.example.com/explore?left={from_ms}' } },
    });
  });

  it('refuses at start a template with an unknown placeholder or that is no URL, naming the field', () => {
    const refused = (yaml: string) => {
      try {
        configWith(yaml);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return { field: (error as ConfigError).field, message: (error as ConfigError).message };
      }
      throw new Error('accepted');
    };
    expect(refused('links:\n  services:\n    checkout: { logs: "https://k/?q={svc}" }\n')).toMatchObject({
      field: 'links.services.checkout.logs',
      message: expect.stringContaining('unknown placeholder {svc}'),
    });
    // Names every object has are no placeholders either: rendering {__proto__} would throw on each request.
    for (const name of ['__proto__', 'constructor'])
      expect(refused(`links:\n  logs: "https://k/?q={${name}}"\n`)).toMatchObject({
        field: 'links.logs',
        message: expect.stringContaining(`unknown placeholder {${name}}`),
      });
    expect(refused('links:\n  traces: "javascript:alert(1)"\n')).toMatchObject({ field: 'links.traces' });
    expect(refused('links:\n  zipkin: "ftp://zipkin"\n')).toMatchObject({ field: 'links.zipkin' });
    expect(refused('links:\n  tracez: "https://x"\n').field).toContain('links');
  });
});
