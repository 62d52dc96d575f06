import type { Metrics } from '@aws-lambda-powertools/metrics';

/** One count a handler made: the metric and its `reason` dimension, if any. */
export interface CountedMetric {
  readonly name: string;
  readonly reason?: string;
}

/** Records every metric the handler counts, with its `reason` dimension when it has one. */
export function watchMetrics(metrics: Metrics): CountedMetric[] {
  const counted: CountedMetric[] = [];
  const addMetric = metrics.addMetric.bind(metrics);
  jest.spyOn(metrics, 'addMetric').mockImplementation((name, unit, value) => {
    counted.push({ name });
    return addMetric(name, unit, value);
  });
  const singleMetric = metrics.singleMetric.bind(metrics);
  jest.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const single = singleMetric();
    const dimensions: Record<string, string> = {};
    const addDimension = single.addDimension.bind(single);
    jest.spyOn(single, 'addDimension').mockImplementation((name, value) => {
      dimensions[name] = value;
      return addDimension(name, value);
    });
    const addSingle = single.addMetric.bind(single);
    jest.spyOn(single, 'addMetric').mockImplementation((name, unit, value) => {
      counted.push({ name, ...dimensions });
      return addSingle(name, unit, value);
    });
    return single;
  });
  return counted;
}
