/**
 * The faults the local AWS endpoint injects: AWS's own token-bucket API
 * quotas, and seeded random server errors, hangs, latency and
 * ExecutionLimitExceeded answers.
 */
import type { LocalAwsService } from './wire';

/**
 * An API quota as AWS enforces it: a bucket that starts full at `burst`
 * tokens and refills `perSecond` tokens a second; each admitted request takes
 * one token, and a throttled request takes none.
 */
export interface TokenBucketQuota {
  readonly burst: number;
  readonly perSecond: number;
}

/** What goes wrong, and how often. Every field is optional; an empty object means no faults. */
export interface FaultOptions {
  /** Token-bucket throttling per operation name, e.g. `{ RedriveExecution: { burst: 800, perSecond: 150 } }`. Applies to every service. */
  readonly quotas?: Readonly<Record<string, TokenBucketQuota>>;
  /** Fraction (0-1) of requests answered with a 5xx (alternately 500 InternalFailure and 503 ServiceUnavailable for SFN and SQS; 500 InternalServerException for AppFlow). */
  readonly serverErrorRate?: number;
  /** Fraction of requests that are accepted and never answered (the socket stays open until the client gives up or the endpoint stops). */
  readonly hangRate?: number;
  /** Added latency per answered request, uniformly in [min, max] ms. */
  readonly latencyMs?: { readonly min: number; readonly max: number };
  /** Fraction of RedriveExecution calls answered ExecutionLimitExceeded. */
  readonly executionLimitExceededRate?: number;
  /**
   * Services the random faults (5xx, hang, latency, ExecutionLimitExceeded) apply to.
   * @default ['sfn', 'appflow'] (SQS is the harness's plumbing and stays reliable unless asked)
   */
  readonly services?: readonly LocalAwsService[];
  /**
   * Seed of the deterministic PRNG deciding which requests fail.
   * @default 1
   */
  readonly seed?: number;
}

/** The mulberry32 PRNG: a fast, seeded source of numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One quota's bucket; times are monotonic milliseconds (`performance.now()`, or the plan's clock). */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly quota: TokenBucketQuota,
    now: number,
  ) {
    this.tokens = quota.burst;
    this.refilledAt = now;
  }

  /** Takes a token if there is one; false (and nothing taken) when the request is throttled. */
  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.quota.burst, this.tokens + (elapsed * this.quota.perSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** What the fault plan decided for one request, before the operation runs. */
export type FaultDecision = 'ok' | 'throttled' | 'hung' | 'server-error' | 'execution-limit';

/** The faults in force: quota buckets, and the PRNG that draws the random faults. */
export class FaultPlan {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly random: () => number;
  private readonly services: ReadonlySet<LocalAwsService>;

  /**
   * @param clock the quotas' clock, monotonic ms: real time by default; a
   *   simulated clock makes a quota a rate per simulated second
   */
  constructor(
    private readonly options: FaultOptions,
    private readonly clock: () => number = () => performance.now(),
  ) {
    const now = clock();
    for (const [operation, quota] of Object.entries(options.quotas ?? {})) {
      if (!(quota.burst >= 0 && quota.perSecond >= 0)) {
        throw new Error(`Quota of ${operation} needs a burst and a rate of at least 0`);
      }
      this.buckets.set(operation, new TokenBucket(quota, now));
    }
    this.random = mulberry32(options.seed ?? 1);
    this.services = new Set(options.services ?? ['sfn', 'appflow']);
  }

  /**
   * Decides the fate of one request: its quota first, then, for the services
   * the random faults apply to, a hang, a 5xx and (RedriveExecution only) an
   * ExecutionLimitExceeded, each drawn from the PRNG; plus the latency to add
   * to the answer.
   */
  decide(
    service: LocalAwsService,
    operation: string,
  ): { readonly decision: FaultDecision; readonly latencyMs: number } {
    const faulted = this.services.has(service);
    const { latencyMs } = this.options;
    const latency =
      faulted && latencyMs ? latencyMs.min + this.random() * (latencyMs.max - latencyMs.min) : 0;
    const bucket = this.buckets.get(operation);
    if (bucket && !bucket.take(this.clock())) {
      return { decision: 'throttled', latencyMs: latency };
    }
    if (!faulted) return { decision: 'ok', latencyMs: 0 };
    const { hangRate, serverErrorRate, executionLimitExceededRate } = this.options;
    if (hangRate && this.random() < hangRate) return { decision: 'hung', latencyMs: 0 };
    if (serverErrorRate && this.random() < serverErrorRate) {
      return { decision: 'server-error', latencyMs: latency };
    }
    if (
      operation === 'RedriveExecution' &&
      executionLimitExceededRate &&
      this.random() < executionLimitExceededRate
    ) {
      return { decision: 'execution-limit', latencyMs: latency };
    }
    return { decision: 'ok', latencyMs: latency };
  }
}
