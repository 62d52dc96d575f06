/**
 * A state machine whose name Step Functions allows but Autoheal used to refuse
 * (`orders-eu.v2`), end to end: its failure event, through the local AWS
 * endpoint's SQS and Step Functions, reaches the real redrive handler and is
 * redriven once; a failure whose event was lost is found by the real sweeper,
 * enqueued once, redriven, and not enqueued again by the next sweep.
 */
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';
import { type RedriveRig, startRedriveRig } from '../support/resilience/redrive-rig';
import { rigSweeper } from '../support/resilience/rig-sweeper';

jest.setTimeout(120_000);

const MACHINE = 'orders-eu.v2';
/** In scope by a name prefix: the rule and IAM always covered it, only the name check refused it. */
const config = parseRedriveConfig({ stateMachineNamePrefixes: ['orders-'] });
/** Stopped long enough ago that the delay and the sweeper's grace for in-flight events have passed. */
const STOPPED_AGO_MS = 30 * 60_000;

let rig: RedriveRig;
const clients: { destroy(): void }[] = [];

beforeEach(async () => {
  rig = await startRedriveRig({ environments: 2, config });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await rig.stop();
});

describe(`a state machine named ${MACHINE}`, () => {
  it('has its in-scope failure redriven once from its event, nothing parked', async () => {
    // Prepare
    const [executionArn] = rig.seedFailures(1, { machine: MACHINE, stoppedAgoMs: STOPPED_AGO_MS });

    // Act
    await rig.enqueue([rig.failureEventBody(executionArn)]);
    const run = await rig.drain(60_000);

    // Assess
    expect(run.abandoned).toBe(false);
    expect(rig.tally([executionArn])).toMatchObject({
      redriven: 1,
      duplicates: 0,
      parkedWithReason: 0,
      lost: 0,
    });
    expect(rig.parked()).toEqual([]);
  });

  it('has a failure whose event was lost swept once, redriven, and not swept again', async () => {
    // Prepare: the failure's event never arrives
    const [executionArn] = rig.seedFailures(1, { machine: MACHINE, stoppedAgoMs: STOPPED_AGO_MS });
    const sweeper = rigSweeper(rig, config);
    clients.push(sweeper);

    // Act
    const first = await sweeper.sweep();
    await rig.drain(60_000);
    const second = await sweeper.sweep();
    await rig.drain(60_000);

    // Assess
    expect(first).toMatchObject({ enqueued: 1, alreadyHandled: 0, failed: 0 });
    expect(second).toMatchObject({ enqueued: 0, failed: 0 });
    expect(rig.tally([executionArn])).toMatchObject({ redriven: 1, duplicates: 0, lost: 0 });
    expect(rig.parked()).toEqual([]);
  });
});
