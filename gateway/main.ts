// Entry point: `node gateway/main.ts --config /etc/airlock/gateway.yaml` (in the image:
// `node dist/gateway/main.js`). Exits 2 with every configuration problem listed when the config is
// invalid; drains and exits 0 on SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { ConfigError, loadGatewayConfig } from '../core/config/gateway-config.ts';
import { startGateway } from './gateway.ts';

const USAGE = 'usage: airlock-gateway --config FILE   (see the README, "Gateway configuration")';

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    process.stderr.write(`airlock-gateway: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help === true) { process.stdout.write(`${USAGE}\n`); return; }
  const path = args.config ?? process.env['AIRLOCK_GATEWAY_CONFIG'];
  if (path === undefined) { process.stderr.write(`airlock-gateway: no configuration file given\n${USAGE}\n`); process.exit(2); }
  let config;
  try {
    config = await loadGatewayConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) { process.stderr.write(`airlock-gateway: ${error.message}\n`); process.exit(2); }
    throw error;
  }
  const gateway = await startGateway(config);
  // The backstop behind the pipeline's own: a defect in a callback no request owns is logged and
  // counted, not turned into an exit that one crafted request could repeat to take every replica
  // down. Every request path already answers its own failures (handler.ts).
  process.on('unhandledRejection', (error) => { gateway.reportUnexpected(error, 'unhandledRejection'); });
  process.on('uncaughtException', (error) => { gateway.reportUnexpected(error, 'uncaughtException'); });
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void gateway.stop().then(() => process.exit(0), () => process.exit(1));
    });
  }
}

await main();
