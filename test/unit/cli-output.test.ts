import { Writable } from 'node:stream';
import { createOutput, formatDuration } from '../../src/cli/output';

/** A stream that records what is written, posing as a terminal or not. */
function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY });
  return { stream, text: () => chunks.join('') };
}

describe('CLI output', () => {
  const savedNoColor = process.env.NO_COLOR;
  beforeEach(() => {
    delete process.env.NO_COLOR;
  });
  afterAll(() => {
    if (savedNoColor !== undefined) process.env.NO_COLOR = savedNoColor;
  });

  it('writes plain lines, no colour and no progress animation, when not on a terminal (CI logs)', () => {
    const { stream, text } = sink(false);
    const out = createOutput(stream);
    const done = out.progress('applying CreateGadgets');
    done('✔ CreateGadgets 12 ms');
    out.ok('Applied 1 migration.');
    expect(out.interactive).toBe(false);
    expect(text()).toBe('… applying CreateGadgets\n✔ CreateGadgets 12 ms\n✔ Applied 1 migration.\n');
  });

  it('colours and animates on a terminal, then replaces the progress line with the result', () => {
    const { stream, text } = sink(true);
    const out = createOutput(stream);
    const done = out.progress('applying CreateGadgets');
    done('✔ CreateGadgets 12 ms');
    expect(out.interactive).toBe(true);
    // eslint-disable-next-line no-control-regex -- the ANSI escapes are what this test checks
    expect(text()).toMatch(/^\r\u001b\[33m⠋\u001b\[0m applying CreateGadgets \u001b\[2m0\.0s\u001b\[0m\u001b\[K\r\u001b\[K✔ CreateGadgets 12 ms\n$/);
  });

  it('turns colours off with NO_COLOR, even on a terminal', () => {
    process.env.NO_COLOR = '1';
    const { stream, text } = sink(true);
    createOutput(stream).ok('done');
    expect(text()).toBe('✔ done\n');
  });

  it('formats durations for people', () => {
    expect(formatDuration(56.7)).toBe('57 ms');
    expect(formatDuration(1234)).toBe('1.23 s');
  });
});
