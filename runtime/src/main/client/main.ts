/**
 * Entry of the client commands (`bin/jobplane.js list …`): imports only the HTTP client, not the
 * server's adapters, so a command starts in a fraction of the time `jobplane api` needs.
 */
import { CLIENT_COMMANDS, runClient, type ClientCommand } from './commands.js';

export async function clientMain(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || !(CLIENT_COMMANDS as readonly string[]).includes(cmd)) return 2;
  return runClient(cmd as ClientCommand, rest);
}

clientMain(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`jobplane: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
