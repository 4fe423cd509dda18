import { performance } from 'node:perf_hooks';

/** Where CLI output goes and how it looks: colours and live progress only on a terminal, plain lines otherwise. */
export interface Output {
  readonly interactive: boolean;
  line(text?: string): void;
  ok(text: string): void;
  warn(text: string): void;
  fail(text: string): void;
  dim(text: string): string;
  bold(text: string): string;
  /** Shows `label` with a ticking elapsed time until the returned function is called with the result line. */
  progress(label: string): (done: string) => void;
}

const codes = { green: 32, yellow: 33, red: 31, dim: 2, bold: 1 } as const;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Output on `stream` (stdout); interactive when it is a TTY and NO_COLOR is not set. */
export function createOutput(stream: NodeJS.WriteStream = process.stdout): Output {
  const interactive = Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
  const paint = (code: number, text: string) => (interactive ? `\u001b[${code}m${text}\u001b[0m` : text);
  const write = (text: string) => {
    stream.write(`${text}\n`);
  };
  return {
    interactive,
    line: (text = '') => write(text),
    ok: (text) => write(`${paint(codes.green, '✔')} ${text}`),
    warn: (text) => write(`${paint(codes.yellow, '!')} ${text}`),
    fail: (text) => write(`${paint(codes.red, '✖')} ${text}`),
    dim: (text) => paint(codes.dim, text),
    bold: (text) => paint(codes.bold, text),
    progress(label) {
      const started = performance.now();
      if (!interactive) {
        write(`… ${label}`);
        return (done) => write(done);
      }
      let frame = 0;
      const draw = () => {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        stream.write(`\r${paint(codes.yellow, SPINNER[frame++ % SPINNER.length]!)} ${label} ${paint(codes.dim, `${seconds}s`)}\u001b[K`);
      };
      draw();
      const timer = setInterval(draw, 100);
      timer.unref();
      return (done) => {
        clearInterval(timer);
        stream.write('\r\u001b[K');
        write(done);
      };
    },
  };
}

/** `1234` → `1.23 s`, `56.7` → `57 ms`. */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
