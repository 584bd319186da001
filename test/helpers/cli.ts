/** Runs `src/main.ts` (what `npm start` runs) as a child process, for tests of the CLI itself. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface CliServer {
  child: ChildProcess;
  url: string;
  /** The process's log lines so far, parsed. */
  logs: Array<Record<string, unknown>>;
}

/** Starts the server with `args` and resolves once it logs `ready` (`readyCount` times: once per process). */
export async function startCli(args: string[], env: Record<string, string> = {}, readyCount = 1): Promise<CliServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const logs: Array<Record<string, unknown>> = [];
  let url = '';
  let ready = 0;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.msg === 'listening') url = String(entry.url);
      if (entry.msg === 'ready' && ++ready === readyCount) resolve();
    });
  });
  return { child, url, logs };
}
