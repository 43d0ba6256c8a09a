/**
 * The Prometheus alert rules and their unit tests, checked by promtool (Debian's `prometheus` package,
 * installed by .ci/run), and the Grafana provisioning wired to them. That every metric the rules and the
 * dashboard query is really exported is checked against a live scrape in ./metrics.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const PROMETHEUS = path.join(ROOT, 'deploy/prometheus');
const GRAFANA = path.join(ROOT, 'deploy/grafana');
const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
const yaml = (file: string) => YAML.parse(readFileSync(file, 'utf8'));

function promtool(...args: string[]) {
  const r = spawnSync(PROMTOOL, args, { cwd: PROMETHEUS, encoding: 'utf8', timeout: 60_000 });
  if (r.error)
    throw new Error(`${PROMTOOL}: ${r.error.message} (.ci/run installs Debian's prometheus package)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (yaml(path.join(PROMETHEUS, 'alerts.yml')) as { groups: { rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);

test('promtool accepts the rules and the Prometheus config, and the rules pass their unit tests', () => {
  expect(promtool('check', 'rules', 'alerts.yml')).toEqual({
    status: 0,
    output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`),
  });
  expect(promtool('check', 'config', 'prometheus.yml')).toMatchObject({ status: 0 });
  expect(promtool('test', 'rules', 'alerts.test.yml')).toEqual({
    status: 0,
    output: expect.stringContaining('SUCCESS'),
  });
});

test('every alert has a severity and a summary; every paging alert is unit-tested firing', () => {
  for (const r of rules) {
    expect({ alert: r.alert, severity: r.labels?.severity }).toEqual({
      alert: r.alert,
      severity: expect.stringMatching(/^(page|warn|info)$/),
    });
    expect(r.annotations?.summary).toBeTruthy();
  }
  const tests = (
    yaml(path.join(PROMETHEUS, 'alerts.test.yml')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    }
  ).tests;
  const firing = new Set(
    tests.flatMap((t) =>
      (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length).map((a) => a.alertname),
    ),
  );
  const paging = rules.filter((r) => r.labels?.severity === 'page').map((r) => r.alert);
  expect(paging.filter((a) => !firing.has(a))).toEqual([]);
});

test('Grafana provisions the Prometheus datasource the dashboard panels name, and the dashboard', () => {
  const datasources = yaml(path.join(GRAFANA, 'provisioning/datasources/prometheus.yml')).datasources as {
    uid: string;
    type: string;
    url: string;
  }[];
  expect(datasources).toHaveLength(1);
  expect(datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
  const dashboard = JSON.parse(readFileSync(path.join(GRAFANA, 'dashboards/crm.json'), 'utf8')) as {
    uid: string;
    panels: { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
  };
  expect(dashboard.uid).toBe('crm-automation');
  const graphs = dashboard.panels.filter((p) => p.type !== 'row');
  expect(graphs.length).toBeGreaterThan(10);
  for (const p of graphs) {
    expect({ panel: p.title, uid: p.datasource?.uid }).toEqual({ panel: p.title, uid: datasources[0].uid });
    expect({ panel: p.title, hasQueries: (p.targets?.length ?? 0) > 0 }).toEqual({
      panel: p.title,
      hasQueries: true,
    });
  }
  const providers = yaml(path.join(GRAFANA, 'provisioning/dashboards/crm.yml')).providers as {
    type: string;
    options: { path: string };
  }[];
  expect(providers).toEqual([expect.objectContaining({ type: 'file' })]);
});
