/** Prints an {@link Explanation} as an operator reads it. */
import type { Output } from '../output';
import type { Explanation } from './explain';

const iso = (ms: number | undefined): string =>
  ms === undefined ? '(unknown)' : new Date(ms).toISOString();

function factsLine(explanation: Explanation): string {
  const f = explanation.facts;
  if (!f)
    return `(none: ${explanation.parked ? 'the event is invalid' : 'the execution does not exist'})`;
  const parts = [
    f.status,
    `redriveCount ${f.redriveCount ?? '(unknown)'}`,
    f.redriveStatus ?? 'redriveStatus (unknown)',
    `error ${f.errorName || '(none)'}`,
    `stopped ${iso(f.stopDate)}`,
  ];
  if (f.redriveStatusReason) parts.push(`reason: ${f.redriveStatusReason}`);
  if (f.isMapRunChild) parts.push('Distributed Map child run');
  return `${parts.join(' · ')} (from ${explanation.factsFrom === 'event' ? 'the event' : 'DescribeExecution, now'})`;
}

function policyLine(explanation: Explanation): string | undefined {
  const p = explanation.policy;
  if (!p) return undefined;
  const origin = explanation.override
    ? `defaults + override "${explanation.override}"`
    : 'defaults (no override for this machine)';
  return [
    `${origin}: statuses ${p.statuses.join(', ')}`,
    `maxRedrives ${p.maxRedrives}`,
    `deny ${p.errors.deny.join(', ') || '(none)'}`,
    `allow ${p.errors.allow.join(', ') || '(any error)'}`,
    `delay ${p.delay.baseSeconds} s ×${p.delay.factor} ≤${p.delay.capSeconds} s, jitter ${p.delay.jitterRatio}`,
    `observe only ${p.observeOnly ? 'yes' : 'no'}`,
  ].join(' · ');
}

function decisionWord(explanation: Explanation, out: Output): string {
  const word = explanation.action.toUpperCase();
  if (explanation.action === 'redrive' && explanation.policy?.observeOnly) {
    return `${out.paint.warn(word)} (observe only: recorded as observed, not redriven)`;
  }
  if (
    explanation.action === 'redrive' &&
    explanation.breaker &&
    explanation.breaker.effectiveState !== 'closed'
  ) {
    return `${out.paint.warn(word)} (the breaker is ${explanation.breaker.effectiveState}: the handler holds it instead, unless it is a probe)`;
  }
  if (explanation.action === 'redrive') return out.paint.ok(word);
  if (
    explanation.action === 'skip' ||
    explanation.action === 'give-up' ||
    explanation.action === 'park'
  ) {
    return out.paint.bad(word);
  }
  return out.paint.warn(word);
}

/**
 * Writes the explanation: facts, scope, policy, decision and its rule, the
 * breaker, the records of each failure, notes.
 *
 * @example
 * ```ts
 * printExplanation(explainEvent(setup, body, Date.now()), context.out);
 * ```
 */
export function printExplanation(explanation: Explanation, out: Output): void {
  const rows: [string, string | undefined][] = [
    ['Execution', explanation.executionArn],
    [
      'State machine',
      explanation.stateMachineName &&
        `${explanation.stateMachineName} (${
          explanation.scope?.inScope
            ? `in scope: ${explanation.scope.coveredBy.join(', ')}`
            : 'not in the deployed scope'
        })`,
    ],
    ['Facts', factsLine(explanation)],
    ['Policy', policyLine(explanation)],
    [
      'Live since',
      !explanation.policy || explanation.decision?.action === 'ignore'
        ? undefined
        : explanation.liveSince
          ? `${explanation.liveSince} (a failure that stopped before is skipped, never redriven)`
          : explanation.policy.observeOnly
            ? '(observe only: not under live healing)'
            : '(not under live healing for this status: every failure is skipped)',
    ],
    ['Decision', decisionWord(explanation, out)],
    ['Rule', explanation.rule],
    ['Due at', explanation.dueAt],
    [
      'Breaker',
      explanation.breaker &&
        `${explanation.breaker.effectiveState}${explanation.breaker.forced ? ` (forced by ${explanation.breaker.forced.by ?? '?'}: ${explanation.breaker.forced.reason ?? ''})` : ''}${explanation.breaker.cooldownEndsAt ? `, cool-down ends ${explanation.breaker.cooldownEndsAt}` : ''}`,
    ],
    [
      'Held',
      explanation.held &&
        `held since ${iso(explanation.held.heldAt)} (failure #${explanation.held.redriveCount}, ${explanation.held.errorName || 'no error name'}): redriven when the breaker closes`,
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  for (const [label, value] of rows) {
    if (value !== undefined) out.line(`${out.paint.bold(label.padEnd(width))}${value}`);
  }
  if (explanation.records) {
    out.line();
    const count = explanation.facts?.redriveCount ?? 0;
    out.line(out.paint.bold(`Recorded for failures #0..#${count} (idempotency records)`));
    if (explanation.records.length === 0) {
      out.line(
        '  none: Autoheal has not acted on any failure of this execution (or the records expired)',
      );
    } else {
      out.table(
        ['failure', 'key', 'status', 'outcome', 'reason', 'redriven at', 'expires'],
        explanation.records.map((r) => [
          `#${r.redriveCount}`,
          r.key,
          r.status,
          String(r.outcome?.outcome ?? ''),
          String(r.outcome?.reason ?? ''),
          String(r.outcome?.redriveDate ?? ''),
          r.expiresAt ?? '',
        ]),
      );
    }
  }
  if (explanation.notes.length > 0) {
    out.line();
    for (const note of explanation.notes) out.line(`${out.paint.dim('note:')} ${note}`);
  }
}
