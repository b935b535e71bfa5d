import { SingleBar, Presets } from 'cli-progress';

/**
 * Where a command speaks. Human-readable progress goes to stderr; with `--json` the one
 * machine-readable summary goes to stdout, so `scones x --json | jq` always works.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
  ) {}

  /** A progress or status line for humans (stderr). */
  info(message: string): void {
    this.stderr.write(`${message}\n`);
  }

  /** The command's result: JSON on stdout with --json, otherwise the human rendering. */
  result(summary: unknown, human?: () => string): void {
    if (this.json) this.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else if (human) this.stdout.write(`${human()}\n`);
  }

  /**
   * A progress bar on stderr. On a terminal it redraws in place; elsewhere (CI, pipes) it prints
   * a line at most every 10 % so logs stay readable.
   */
  progress(label: string, total: number, unit = 'items'): Progress {
    if (this.stderr.isTTY) {
      const bar = new SingleBar(
        { format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {duration_formatted} elapsed | eta {eta_formatted}{suffix}`, stream: this.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 50 },
        Presets.shades_classic,
      );
      bar.start(total, 0, { suffix: '' });
      return {
        update: (value, suffix) => bar.update(value, { suffix: suffix ? ` | ${suffix}` : '' }),
        setTotal: (t) => bar.setTotal(t),
        stop: () => bar.stop(),
      };
    }
    let lastDecile = -1;
    let currentTotal = total;
    const started = Date.now();
    return {
      update: (value, suffix) => {
        const decile = currentTotal > 0 ? Math.floor((value / currentTotal) * 10) : 10;
        if (decile > lastDecile) {
          lastDecile = decile;
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          this.info(`${label} ${value}/${currentTotal} ${unit} (${secs}s)${suffix ? ` ${suffix}` : ''}`);
        }
      },
      setTotal: (t) => {
        currentTotal = t;
      },
      stop: () => undefined,
    };
  }
}

export interface Progress {
  update(value: number, suffix?: string): void;
  setTotal(total: number): void;
  stop(): void;
}
