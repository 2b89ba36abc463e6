import Type from 'typebox';
import { Value } from 'typebox/value';
import { expect, it, describe as suite } from 'vitest';
import { describe, mostUseful, pointerField, pointerKeys } from '../../src/config/schemaErrors.js';
import { readNativeSlo } from '../../src/definitions/native.js';
import { parseYamlFile } from '../../src/definitions/yamlSource.js';

suite('schema errors', () => {
  it('names a field by the keys of its JSON pointer, unescaped as RFC 6901 says', () => {
    expect(pointerKeys('')).toEqual([]);
    expect(pointerKeys('/spec/components/0/slo')).toEqual(['spec', 'components', '0', 'slo']);
    expect(pointerKeys('/labels/a~1b~0c')).toEqual(['labels', 'a/b~c']);
    expect(pointerField('/spec/window')).toBe('spec.window');
    expect(pointerField('')).toBe('');
  });

  it('describes the most useful error of a schema at the field it names, a key with "/" or "~" included', () => {
    const schema = Type.Object({ labels: Type.Record(Type.String(), Type.String()) });
    const error = mostUseful(Value.Errors(schema, { labels: { 'team/games~1': 5 } }));
    expect(describe(error!)).toEqual({
      path: ['labels', 'team/games~1'],
      atKey: false,
      reason: expect.any(String),
    });
  });

  it('places a definition error under a label key holding "/" at that label, by its real name', () => {
    const text = `apiVersion: sloguard/v1
kind: SLO
metadata:
  name: profile-availability
  service: user-profile
  labels:
    team: games
    example.com/tier: 1
spec:
  indicator: { source: loadbalancer }
  objective: 99.9
  window: 28d
`;
    const { documents } = parseYamlFile(text, 'slo.yaml');
    expect(() => readNativeSlo(documents[0]!)).toThrow(
      /^slo\.yaml:8:23: metadata\.labels\.example\.com\/tier: /,
    );
  });
});
