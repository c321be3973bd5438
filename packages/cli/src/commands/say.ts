/** A ✓/✗ line on standard error, where people look while logs go to standard output. */
export function say(ok: boolean, text: string): void {
  process.stderr.write(`${ok ? '✓' : '✗'} ${text}\n`);
}
