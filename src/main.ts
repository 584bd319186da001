/**
 * `npm start`: reads the settings, starts the server (or, with PROCESSES > 1, a primary that
 * runs that many server processes), and shuts down gracefully on SIGTERM or SIGINT: in-flight
 * requests finish (up to SHUTDOWN_GRACE_MS), pending cache writes are flushed, then the process
 * exits 0.
 */
import type { Logger } from 'pino';
import { isClusterPrimary, runPrimary } from './cluster.ts';
import { ConfigError, helpText, loadConfig, type Config } from './config.ts';
import { createLogger } from './logger.ts';
import { startServer } from './server.ts';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(helpText());
  process.exit(0);
}

let config: Config;
try {
  config = loadConfig(argv);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`predictql: ${error.message}`);
  process.exit(2);
}

const logger = createLogger(config.logLevel);
if (isClusterPrimary(config.processes)) runPrimary(config.processes, logger);
else await serve(config, logger);

async function serve(config: Config, logger: Logger): Promise<void> {
  let server;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    process.exit(1);
  }
  const running = server;
  running.ready.catch((error: unknown) => {
    logger.fatal({ err: error }, 'a model failed to load');
    process.exit(1);
  });

  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const forced = setTimeout(() => {
        logger.error({ graceMs: config.shutdownGraceMs }, 'in-flight requests did not finish within the grace period; exiting');
        process.exit(1);
      }, config.shutdownGraceMs);
      forced.unref();
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'error while shutting down');
          process.exit(1);
        },
      );
    });
  }
}
