/** Credentials of an engine, by the environment variables that hold them (secrets never sit in files). */
export interface DataSourceAuth {
  bearerTokenEnv?: string;
  basic?: { username: string; passwordEnv: string };
}

/** A resolved engine: where to send queries, with which credentials, and how long to wait. */
export interface PrometheusDataSource {
  name: string;
  url: string;
  timeoutMs: number;
  auth?: DataSourceAuth;
}

/** An SLI read with PromQL: good or bad events and the total, each with `{{.window}}` for the window. */
export interface PromQlIndicator {
  dataSource: PrometheusDataSource;
  /** Exactly one of good and bad. */
  good?: string;
  bad?: string;
  total: string;
}
