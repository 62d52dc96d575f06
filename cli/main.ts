/** Process entry of the `autoheal` bin: runs the CLI on the process's streams. */
import { runCli } from './autoheal';

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
}).then((code) => {
  process.exitCode = code;
});
