#!/usr/bin/env node
// Container health check: exits 0 when GET <url> answers 2xx within 2.5 s, 1 otherwise.
// Usage: node scripts/healthcheck.mjs [url]   (default http://127.0.0.1:$PORT/health/ready)
const url = process.argv[2] ?? `http://127.0.0.1:${process.env.PORT ?? '8081'}/health/ready`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2500) });
  if (!response.ok) console.error(`${url}: HTTP ${response.status}`);
  process.exit(response.ok ? 0 : 1);
} catch (error) {
  console.error(`${url}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
