import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import {
  type CustomMetricGroup,
  DefaultDashboardFactory,
  GraphWidgetType,
  MonitoringFacade,
  SingleWidgetDashboardSegment,
  SnsAlarmActionStrategy,
} from 'cdk-monitoring-constructs';
import { Construct } from 'constructs';
import {
  BRAKE_KEEPER_SERVICE_NAME,
  FLOW_HEALER_SERVICE_NAME,
  FLOW_STARTER_SERVICE_NAME,
  METRICS_NAMESPACE,
  REDRIVE_SERVICE_NAME,
  SWEEPER_SERVICE_NAME,
} from '../../lambda/shared/contract';
import type { AutohealFunction } from './autoheal-function';

/**
 * The metric names the dashboard graphs, as the handlers emit them (Powertools
 * EMF, namespace {@link METRICS_NAMESPACE}, dimension `service`; counts with a
 * reason also carry `reason`). The runtime's own tables are not importable
 * here (the breaker's pull the breaker policy into the library), so
 * test/unit/dashboard-metrics.test.ts checks each name against the handlers' sources.
 */
export const DASHBOARD_METRICS = {
  redrive: ['Redriven', 'Deferred', 'GaveUp', 'ObservedRedrive'],
  redriveSkipped: 'Skipped',
  breaker: ['HeldByBreaker', 'ProbeRedrive', 'BreakerOpened', 'BreakerClosed'],
  breakerState: 'BreakerState',
  sweeper: ['SweepListed', 'SweepEnqueued', 'SweepTruncated'],
  flowStarter: ['FlowStarted', 'FlowStartFailed'],
  flowStarterSkipped: 'FlowSkipped',
  flowHealer: ['FlowRerun', 'FlowReactivated'],
  flowHealerByReason: ['GaveUp', 'Skipped'],
} as const;

/**
 * A CloudWatch dynamic label: the value of a search result's dimension, so
 * each line of a search is named by its reason or state machine.
 */
function dynamicLabel(dimension: string): string {
  return `\${PROP('Dim.${dimension}')}`;
}

/** Machines the breaker state widget shows: the most open ones (a dashboard of 1,000 lines reads as none). */
export const BREAKER_STATE_TOP_MACHINES = 20;

/** One dead-letter queue to watch, with the work queue it serves when there is one. */
export interface WatchedDeadLetterQueue {
  /** Names the queue on the dashboard and in its alarm, e.g. `redrive`. */
  readonly purpose: string;
  readonly deadLetterQueue: sqs.IQueue;
  /** The work queue the dead-letter queue serves; none for a Lambda destination. */
  readonly workQueue?: sqs.IQueue;
  /** What the alarm tells the person it pages. */
  readonly alarmDescription: string;
}

export interface AutohealMonitoringProps {
  /** Every Autoheal function: each gets an error alarm and its errors, throttles, duration and concurrency on the dashboard. */
  readonly functions: readonly AutohealFunction[];
  /** Every dead-letter queue: each gets an alarm at its first message and its depth and oldest age on the dashboard. */
  readonly deadLetterQueues: readonly WatchedDeadLetterQueue[];
  /** Where every alarm goes. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Start of every alarm name (CloudWatch alarm names are unique per account
   * and region): unique per installation, a literal (the library uses alarm
   * names as construct ids).
   */
  readonly alarmNamePrefix: string;
  /**
   * The dashboard's name (may be a token).
   * @default - no dashboard; the alarms and the saved queries are still created
   */
  readonly dashboardName?: string;
  /** What is installed, so the dashboard shows only sections that can have data. */
  readonly sections: {
    readonly redrive: boolean;
    readonly breaker: boolean;
    readonly sweeper: boolean;
    readonly flowStarter: boolean;
    readonly flowHealer: boolean;
  };
  /** Folder of the saved Logs Insights queries in the console (`FOLDER/query name`). */
  readonly queryFolder: string;
}

/**
 * Autoheal's alarms, dashboard and saved Logs Insights queries, built with
 * cdk-monitoring-constructs' {@link MonitoringFacade}.
 *
 * Alarms (each pages {@link AutohealMonitoringProps.alarmTopic} at once, missing data not breaching):
 * - every function: an error in 5 minutes (`Errors` sum ≥ 1);
 * - every dead-letter queue: one visible message (`ApproximateNumberOfMessagesVisible` maximum ≥ 1 in a minute).
 *
 * The dashboard: outcomes, skips by reason, breaker state (top machines),
 * per-machine decisions (Logs Insights, because the counts carry no
 * state machine dimension), sweeper and AppFlow counts, then one section per
 * function and per queue. Its size does not grow with the number of state
 * machines: machines are searched, never listed.
 *
 * @example
 * ```ts
 * const monitoring = new AutohealMonitoring(this, 'Monitoring', {
 *   functions, deadLetterQueues, alarmTopic: notices.topic, alarmNamePrefix: 'autoheal-1a2b3c4d',
 *   dashboardName: 'Autoheal', sections, queryFolder: 'Autoheal',
 * });
 * ```
 */
export class AutohealMonitoring extends Construct {
  public readonly facade: MonitoringFacade;
  /** Every alarm, each with the topic as its action. */
  public readonly alarms: cloudwatch.IAlarm[];
  /** The error alarm of each function, by its service name. */
  public readonly errorAlarms: Readonly<Record<string, cloudwatch.IAlarm>>;
  /** The dead-letter alarm of each queue, by its purpose. */
  public readonly deadLetterAlarms: Readonly<Record<string, cloudwatch.IAlarm>>;
  /** The dashboard; absent when none was asked for. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Saved query: every log line about one execution, in order (replace the placeholder ARN). */
  public readonly executionStoryQuery: logs.QueryDefinition;
  /** Saved query: every give-up (redrive and AppFlow), newest first; run it over the last day. */
  public readonly giveUpsQuery: logs.QueryDefinition;

  public constructor(scope: Construct, id: string, props: AutohealMonitoringProps) {
    super(scope, id);
    const dashboardFactory = new DefaultDashboardFactory(this, 'Dashboards', {
      dashboardNamePrefix: props.dashboardName ?? '',
      createDashboard: props.dashboardName !== undefined,
      createSummaryDashboard: false,
      createAlarmDashboard: false,
    });
    this.facade = new MonitoringFacade(this, 'Facade', {
      metricFactoryDefaults: { namespace: METRICS_NAMESPACE, period: Duration.minutes(5) },
      alarmFactoryDefaults: {
        alarmNamePrefix: props.alarmNamePrefix,
        actionsEnabled: true,
        action: new SnsAlarmActionStrategy({ onAlarmTopic: props.alarmTopic }),
        // One bad datapoint pages: a failure of Autoheal is one failure too many.
        datapointsToAlarm: 1,
        evaluationPeriods: 1,
      },
      dashboardFactory,
    });
    this.dashboard = dashboardFactory.createdDashboard();

    const logGroups = props.functions.map((fn) => fn.logGroup);
    const redriveFunction = props.functions.find((fn) => fn.serviceName === REDRIVE_SERVICE_NAME);
    this.addHealingSections(props, redriveFunction);

    const errorAlarms: Record<string, cloudwatch.IAlarm> = {};
    for (const fn of props.functions) {
      const alarmFriendlyName = fn.serviceName;
      this.facade.monitorLambdaFunction({
        lambdaFunction: fn.function,
        humanReadableName: `Function ${fn.serviceName}`,
        alarmFriendlyName,
        addFaultCountAlarm: {
          Critical: {
            maxErrorCount: 1,
            comparisonOperatorOverride:
              cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
            period: Duration.minutes(5),
            alarmDescriptionOverride: `The Autoheal ${fn.serviceName} function failed. Read its log group for the error.`,
          },
        },
      });
      errorAlarms[fn.serviceName] = this.lastAlarm();
    }
    const deadLetterAlarms: Record<string, cloudwatch.IAlarm> = {};
    for (const watched of props.deadLetterQueues) {
      const visibleMessage = {
        Critical: {
          maxMessageCount: 1,
          comparisonOperatorOverride:
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingDataOverride: cloudwatch.TreatMissingData.NOT_BREACHING,
          period: Duration.minutes(1),
          alarmDescriptionOverride: watched.alarmDescription,
        },
      };
      const names = {
        humanReadableName: `Queues ${watched.purpose}`,
        alarmFriendlyName: `${watched.purpose.replace(/\s+/g, '-')}-dead-letters`,
      };
      if (watched.workQueue) {
        this.facade.monitorSqsQueueWithDlq({
          queue: watched.workQueue,
          deadLetterQueue: watched.deadLetterQueue,
          ...names,
          addDeadLetterQueueMaxSizeAlarm: visibleMessage,
        });
      } else {
        this.facade.monitorSqsQueue({
          queue: watched.deadLetterQueue,
          ...names,
          addQueueMaxSizeAlarm: visibleMessage,
        });
      }
      deadLetterAlarms[watched.purpose] = this.lastAlarm();
    }
    this.errorAlarms = errorAlarms;
    this.deadLetterAlarms = deadLetterAlarms;
    this.alarms = this.facade.createdAlarms().map((created) => created.alarm);

    this.executionStoryQuery = new logs.QueryDefinition(this, 'ExecutionStoryQuery', {
      queryDefinitionName: `${props.queryFolder}/One execution's story`,
      logGroups,
      queryString: new logs.QueryString({
        fields: [
          '@timestamp',
          '@log',
          'message',
          'decision',
          'outcome',
          'reason',
          'detail',
          'breaker',
          'correlation_id',
        ],
        // Every line about an event carries executionArn (the SQS handlers' log keys).
        filterStatements: [
          'executionArn = "arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:EXECUTION"',
        ],
        sort: '@timestamp asc',
        limit: 1000,
      }),
    });
    this.giveUpsQuery = new logs.QueryDefinition(this, 'GiveUpsQuery', {
      queryDefinitionName: `${props.queryFolder}/Give-ups (run over the last day)`,
      logGroups,
      queryString: new logs.QueryString({
        fields: [
          '@timestamp',
          'stateMachine',
          'executionArn',
          'flowName',
          'reason',
          'detail',
          'redriveCount',
        ],
        // The redrive handler logs outcome gave-up (decision give-up); the flow healer outcome gave-up.
        filterStatements: ['outcome = "gave-up"'],
        sort: '@timestamp desc',
        limit: 1000,
      }),
    });
  }

  /** The alarm the facade created last: the one of the monitoring just added. */
  private lastAlarm(): cloudwatch.IAlarm {
    const created = this.facade.createdAlarms();
    return created[created.length - 1].alarm;
  }

  /** The sections about what Autoheal did, before the per-function and per-queue sections. */
  private addHealingSections(
    props: AutohealMonitoringProps,
    redriveFunction: AutohealFunction | undefined,
  ): void {
    const { sections } = props;
    const count = (service: string, metricName: string, label = metricName) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic: cloudwatch.Stats.SUM,
        label,
        period: Duration.minutes(5),
      });
    // Counts with a reason carry a `reason` dimension: a search draws one line per reason that
    // occurred, labelled with it, however many reasons there are.
    const byReason = (service: string, metricName: string, prefix: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},reason,service} service="${service}" MetricName="${metricName}"', 'Sum', 300)`,
        usingMetrics: {},
        label: `${prefix} ${dynamicLabel('reason')}`,
        period: Duration.minutes(5),
      });
    const groups: CustomMetricGroup[] = [];
    if (sections.redrive) {
      groups.push(
        {
          title: 'Redrive outcomes',
          graphWidgetType: GraphWidgetType.STACKED_AREA,
          metrics: DASHBOARD_METRICS.redrive.map((name) => count(REDRIVE_SERVICE_NAME, name)),
        },
        {
          title: 'Redrive skips by reason',
          graphWidgetType: GraphWidgetType.STACKED_AREA,
          metrics: [byReason(REDRIVE_SERVICE_NAME, DASHBOARD_METRICS.redriveSkipped, 'Skipped')],
        },
      );
    }
    if (sections.breaker) {
      groups.push(
        {
          title: 'Storm brake: held, probes, transitions',
          metrics: DASHBOARD_METRICS.breaker.map((name) => count(REDRIVE_SERVICE_NAME, name)),
        },
        {
          title: `Breaker state, ${BREAKER_STATE_TOP_MACHINES} most open machines (0 closed, 1 half-open, 2 open)`,
          graphWidgetAxis: { min: 0, max: 2 },
          metrics: [
            // BreakerState is the one metric with a stateMachine dimension (the brake keeper's gauge).
            new cloudwatch.MathExpression({
              expression: `SORT(SEARCH('{${METRICS_NAMESPACE},service,stateMachine} service="${BRAKE_KEEPER_SERVICE_NAME}" MetricName="${DASHBOARD_METRICS.breakerState}"', 'Maximum', 300), MAX, DESC, ${BREAKER_STATE_TOP_MACHINES})`,
              usingMetrics: {},
              label: dynamicLabel('stateMachine'),
              period: Duration.minutes(5),
            }),
          ],
        },
      );
    }
    if (sections.sweeper) {
      groups.push({
        title: 'Sweeper: listed, enqueued, truncated',
        metrics: DASHBOARD_METRICS.sweeper.map((name) => count(SWEEPER_SERVICE_NAME, name)),
      });
    }
    if (sections.flowStarter) {
      groups.push({
        title: 'AppFlow starts and skips',
        metrics: [
          ...DASHBOARD_METRICS.flowStarter.map((name) => count(FLOW_STARTER_SERVICE_NAME, name)),
          byReason(FLOW_STARTER_SERVICE_NAME, DASHBOARD_METRICS.flowStarterSkipped, 'FlowSkipped'),
        ],
      });
    }
    if (sections.flowHealer) {
      groups.push({
        title: 'AppFlow re-runs, re-activations, give-ups and skips',
        metrics: [
          ...DASHBOARD_METRICS.flowHealer.map((name) => count(FLOW_HEALER_SERVICE_NAME, name)),
          ...DASHBOARD_METRICS.flowHealerByReason.map((name) =>
            byReason(FLOW_HEALER_SERVICE_NAME, name, name),
          ),
        ],
      });
    }
    if (groups.length > 0) {
      this.facade.monitorCustom({
        humanReadableName: 'What Autoheal did',
        alarmFriendlyName: 'healing',
        metricGroups: groups,
      });
    }
    if (sections.redrive && redriveFunction) {
      // The counts carry no state machine (a dimension per machine would be a metric per
      // machine, billed monthly); the handler's log lines do, so the per-machine view is a query.
      this.facade.addSegment(
        new SingleWidgetDashboardSegment(
          new cloudwatch.LogQueryWidget({
            title:
              'Per state machine: redrives, deferrals, skips, give-ups and held failures (top 50)',
            logGroupNames: [redriveFunction.logGroup.logGroupName],
            view: cloudwatch.LogQueryVisualizationType.TABLE,
            width: 24,
            height: 8,
            queryLines: [
              'filter ispresent(stateMachine) and decision in ["redrive", "defer", "skip", "give-up", "hold"]',
              'filter message not like /Duplicate delivery/',
              'stats count(*) as failures by stateMachine, decision, outcome, reason',
              'sort failures desc',
              'limit 50',
            ],
          }),
        ),
      );
    }
  }
}
