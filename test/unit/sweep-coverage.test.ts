import { sweepCoverage } from '../../lambda/redrive/sweep-plan';
import { parseRedriveConfig } from '../../lambda/shared/autoheal-config';

const HOME = 'arn:aws:states:eu-central-1:123456789012:stateMachine:';
const SWEEP_TIMEOUT_MS = 5 * 60_000;
const machines = (count: number) => Array.from({ length: count }, (_, i) => `${HOME}gen-${i}`);

describe('what a pass over the scope costs the sweeper', () => {
  it.each([
    {
      label: '1,000 machines at 1 call/s',
      rps: 1,
      calls: 2000,
      perSweep: 271,
      sweeps: 8,
      covered: true,
    },
    {
      label: '1,000 machines at 2 calls/s',
      rps: 2,
      calls: 2000,
      perSweep: 541,
      sweeps: 4,
      covered: true,
    },
    {
      label: '1,000 machines at 0.25 call/s',
      rps: 0.25,
      calls: 2000,
      perSweep: 68,
      sweeps: 30,
      covered: false,
    },
  ])(
    '$label: $sweeps hourly sweeps a pass, covered: $covered',
    ({ rps, calls, perSweep, sweeps, covered }) => {
      // Prepare
      const config = parseRedriveConfig({
        stateMachineArns: machines(1000),
        sweeper: { requestsPerSecond: rps },
      });

      // Act
      const coverage = sweepCoverage(config, { timeoutMs: SWEEP_TIMEOUT_MS });

      // Assess
      expect(coverage).toEqual({
        machines: 1000,
        callsPerPass: calls,
        callsPerSweep: perSweep,
        listStateMachinesPerSweep: 0,
        sweepsPerPass: sweeps,
        passMinutes: sweeps * 60,
        lookbackMinutes: 1440,
        covered,
      });
    },
  );

  it('counts one more call for each machine whose override also redrives ABORTED', () => {
    // Prepare
    const arns = machines(100);
    const config = parseRedriveConfig({
      stateMachineArns: arns,
      overrides: {
        'gen-1': { statuses: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
        'gen-2': { statuses: ['FAILED'] },
      },
    });

    // Act
    const coverage = sweepCoverage(config, { timeoutMs: SWEEP_TIMEOUT_MS });

    // Assess
    expect(coverage.callsPerPass).toBe(200 + 1 - 1);
  });

  it('keeps one call of each sweep for ListStateMachines when the scope has name prefixes', () => {
    // Prepare: 271 calls a sweep, 270 of them ListExecutions; 540 of them make two sweeps exactly
    const config = parseRedriveConfig({
      stateMachineArns: machines(170),
      stateMachineNamePrefixes: ['team-'],
    });

    // Act
    const coverage = sweepCoverage(config, { timeoutMs: SWEEP_TIMEOUT_MS, machinesByPrefix: 100 });

    // Assess
    expect(coverage).toMatchObject({
      machines: 270,
      callsPerPass: 540,
      listStateMachinesPerSweep: 1,
      sweepsPerPass: 2,
    });
  });
});
