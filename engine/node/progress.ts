/**
 * A terminal progress bar with time remaining. On a TTY it redraws one line; elsewhere (CI
 * logs, pipes) it prints only the lines passed to `log`, so output stays readable.
 */

export class ProgressBar {
  private done_ = 0;
  private readonly start = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number,
  ) {}

  tick(label: string): void {
    this.done_++;
    if (!this.stream.isTTY) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && this.done_ < this.total) return;
    this.lastDraw = now;
    const frac = this.total > 0 ? this.done_ / this.total : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? elapsed * (1 / frac - 1) : 0;
    this.stream.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ` +
        `${label}  eta ${formatSeconds(eta)}\x1b[K`,
    );
  }

  log(line: string): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
    this.stream.write(line + '\n');
  }

  done(): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[K');
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round(s - m * 60)
    .toString()
    .padStart(2, '0')}s`;
}
