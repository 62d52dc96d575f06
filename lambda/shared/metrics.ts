import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Counts one occurrence. With a reason, the count is published at once as its
 * own EMF document with a `reason` dimension; without, it is buffered until
 * the invocation ends.
 */
export function countMetric(metrics: Metrics, name: string, reason?: string): void {
  if (reason === undefined) {
    metrics.addMetric(name, MetricUnit.Count, 1);
    return;
  }
  const single = metrics.singleMetric();
  single.addDimension('reason', reason);
  single.addMetric(name, MetricUnit.Count, 1);
}

/** Publishes buffered metrics, if any: counts with a reason were published already. */
export function flushMetrics(metrics: Metrics): void {
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
}
