/**
 * Every AWS call made through an Autoheal client ends by the deadline of the
 * work it runs in, and a call cut short there is a transient error (the record
 * is retried, not lost).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { boundByDeadline, withCallDeadline } from '../../lambda/shared/aws-call';
import { isTransientAwsError } from '../../lambda/shared/aws-errors';

const sfnMock = mockClient(SFNClient);
const describe1 = () =>
  new DescribeExecutionCommand({
    executionArn: 'arn:aws:states:eu-central-1:123456789012:execution:orders:run-1',
  });

beforeEach(() => sfnMock.reset());

/** The options the SDK's send received with the first DescribeExecution. */
function sendOptions(): { abortSignal?: AbortSignal } | undefined {
  const [call] = sfnMock.commandCalls(DescribeExecutionCommand);
  return (call.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined;
}

describe('a client bound by the deadline', () => {
  it('ends a call that never answers by the deadline, with a transient AbortError', async () => {
    // Prepare: AWS accepts the call and never answers
    sfnMock.on(DescribeExecutionCommand).callsFake(() => new Promise(() => undefined));
    const sfn = boundByDeadline(new SFNClient({ region: 'eu-central-1' }));
    const startedAt = Date.now();
    const deadline = startedAt + 1_000;

    // Act: the call starts 1 s before the deadline
    const outcome = await withCallDeadline(deadline, () => sfn.send(describe1())).then(
      () => undefined,
      (error: Error) => error,
    );

    // Assess: it ended (generously bounded: unbounded, it would hang forever)
    expect(outcome?.name).toBe('AbortError');
    expect(isTransientAwsError(outcome)).toBe(true);
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(sendOptions()).toEqual({ abortSignal: expect.any(AbortSignal) });
  });

  it('hands the SDK an aborted signal once the deadline has passed, and fails the call at once', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({});
    const sfn = boundByDeadline(new SFNClient({ region: 'eu-central-1' }));
    let now = 5_000;

    // Act
    const outcome = await withCallDeadline(
      4_999,
      () => sfn.send(describe1()),
      () => now++,
    ).then(
      () => undefined,
      (error: Error) => error,
    );

    // Assess
    expect(outcome?.name).toBe('AbortError');
    expect(sendOptions()?.abortSignal?.aborted).toBe(true);
  });

  it('passes the time left to the deadline to the SDK as an abort signal, and answers as AWS does', async () => {
    // Prepare: an injected clock, 2999.5 ms before the deadline (deadlines keep back a fraction of the time left)
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    const sfn = boundByDeadline(new SFNClient({ region: 'eu-central-1' }));
    const timeout = jest.spyOn(AbortSignal, 'timeout');

    // Act
    const output = await withCallDeadline(
      9_999.5,
      () => sfn.send(describe1()),
      () => 7_000,
    );

    // Assess
    expect(output.status).toBe('FAILED');
    expect(timeout).toHaveBeenCalledWith(3_000);
    expect(sendOptions()?.abortSignal).toBe(timeout.mock.results[0].value);
    timeout.mockRestore();
  });

  it('leaves a call outside any work unbounded', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });
    const sfn = boundByDeadline(new SFNClient({ region: 'eu-central-1' }));

    // Act
    await sfn.send(describe1());

    // Assess
    expect(sendOptions()).toBeUndefined();
  });
});

describe('Autoheal handlers', () => {
  it('create every AWS client through autohealClient, so no call escapes the deadline', () => {
    // Prepare
    const root = join(__dirname, '..', '..', 'lambda');
    const sources = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));

    // Act: client constructions in code (not in comments), outside the one helper
    const unbounded = sources.flatMap(({ file, text }) =>
      text
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\/)/.test(line) && /new \w+Client\(/.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
    const handlers = sources.filter(({ file }) => file.endsWith('.handler.ts'));

    // Assess
    expect(unbounded.filter((line) => !line.startsWith('shared/aws-call.ts'))).toEqual([]);
    expect(handlers.length).toBeGreaterThanOrEqual(4);
    for (const { text } of handlers) expect(text).toContain('autohealClient(');
  });
});
