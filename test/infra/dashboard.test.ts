/**
 * The operator's dashboard, alarms and saved queries (issue 11, section 2):
 * what an on-call engineer opens after an outage, and what pages them at
 * 3 a.m. The dashboard body is read as the console reads it, with each
 * reference to a resource replaced by `@Ref:LogicalId@` / `@GetAtt:LogicalId.Attr@`.
 */
import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { IConstruct } from 'constructs';
import { parseAutohealConfig } from '../../lambda/shared/autoheal-config';
import { Autoheal, type AutohealProps } from '../../lib/autoheal';
import { buildStack, templateOnlyApp } from '../support/stack';

/** Redrive (sweeper and breaker on, the defaults) and AppFlow with a schedule: every function and queue. */
const FULL: AutohealProps = {
  redrive: { stateMachineNamePrefixes: ['orders-'] },
  appflow: {
    schedules: [
      {
        name: 'nightly',
        schedule: scheduler.ScheduleExpression.expression('cron(0 4 * * ? *)'),
        flows: ['crm-export'],
      },
    ],
  },
};

function install(props: AutohealProps = FULL) {
  const stack = new Stack(templateOnlyApp(), 'Host', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const heal = new Autoheal(stack, 'Heal', props);
  const template = Template.fromStack(stack);
  const logicalId = (construct: IConstruct) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return { stack, heal, template, logicalId };
}

/** A CloudFormation string value with its intrinsics as readable placeholders. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const intrinsic = value as Record<string, unknown>;
  if ('Fn::Join' in intrinsic) {
    const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
    return parts.map(flatten).join(separator);
  }
  if ('Ref' in intrinsic) return `@Ref:${intrinsic.Ref}@`;
  if ('Fn::GetAtt' in intrinsic) {
    const [id, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
    return `@GetAtt:${id}.${attribute}@`;
  }
  throw new Error(`Unexpected intrinsic ${JSON.stringify(value)}`);
}

/** What an alarm watches, whether CloudFormation holds it as one metric or as a labelled `Metrics` entry. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON
function watchedMetric(properties: Record<string, any>) {
  const stat = properties.Metrics?.[0]?.MetricStat;
  return stat
    ? {
        namespace: stat.Metric.Namespace,
        metricName: stat.Metric.MetricName,
        dimensions: stat.Metric.Dimensions,
        statistic: stat.Stat,
        period: stat.Period,
      }
    : {
        namespace: properties.Namespace,
        metricName: properties.MetricName,
        dimensions: properties.Dimensions,
        statistic: properties.Statistic,
        period: properties.Period,
      };
}

interface Widget {
  type: string;
  properties: { title?: string; metrics?: unknown[][]; query?: string };
}

function dashboardWidgets(template: Template): Widget[] {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  return JSON.parse(flatten(dashboards[0].Properties.DashboardBody)).widgets;
}

/** Every metric line of every graph, as `Namespace MetricName Dim=Value ...` or the expression. */
function metricLines(widgets: Widget[]): string[] {
  return widgets.flatMap((widget) =>
    (widget.properties.metrics ?? []).map((line) => {
      const options = line[line.length - 1];
      if (typeof options === 'object' && options !== null && 'expression' in options) {
        return String((options as { expression: string }).expression);
      }
      const parts = line.filter((part) => typeof part === 'string') as string[];
      const [namespace, metricName, ...dimensions] = parts;
      const pairs = [];
      for (let i = 0; i < dimensions.length; i += 2)
        pairs.push(`${dimensions[i]}=${dimensions[i + 1]}`);
      return [namespace, metricName, ...pairs].join(' ');
    }),
  );
}

describe('the dashboard', () => {
  const { heal, template, logicalId } = install();
  const widgets = dashboardWidgets(template);
  const lines = metricLines(widgets);

  it.each(['Errors', 'Throttles', 'Duration', 'ConcurrentExecutions'])(
    'graphs %s of each of the six functions',
    (metricName) => {
      // Prepare
      const functionRefs = heal.functions.map((fn) => `@Ref:${logicalId(fn)}@`);

      // Act
      const graphed = functionRefs.filter((ref) =>
        lines.includes(`AWS/Lambda ${metricName} FunctionName=${ref}`),
      );

      // Assess
      expect(functionRefs).toHaveLength(6);
      expect(graphed).toEqual(functionRefs);
    },
  );

  it.each(['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage'])(
    'graphs %s of each of the three dead-letter queues',
    (metricName) => {
      // Prepare
      const queues = [
        heal.redriveDeadLetterQueue,
        heal.flowHealerDeadLetterQueue,
        heal.flowStarterDeadLetterQueue,
      ].map((queue) => `@GetAtt:${logicalId(queue as IConstruct)}.QueueName@`);

      // Act
      const graphed = queues.filter((queue) =>
        lines.includes(`AWS/SQS ${metricName} QueueName=${queue}`),
      );

      // Assess
      expect(graphed).toEqual(queues);
    },
  );

  it.each([
    ['Redriven', 'redrive'],
    ['Deferred', 'redrive'],
    ['GaveUp', 'redrive'],
    ['HeldByBreaker', 'redrive'],
    ['ProbeRedrive', 'redrive'],
    ['BreakerOpened', 'redrive'],
    ['SweepListed', 'redrive-sweeper'],
    ['SweepEnqueued', 'redrive-sweeper'],
    ['SweepTruncated', 'redrive-sweeper'],
    ['FlowStarted', 'flow-starter'],
    ['FlowRerun', 'flow-healer'],
    ['FlowReactivated', 'flow-healer'],
  ])('graphs %s of the %s handler', (metricName, service) => {
    // Act & Assess
    expect(lines).toContain(`Autoheal ${metricName} service=${service}`);
  });

  it.each([
    ['redrive', 'Skipped'],
    ['flow-starter', 'FlowSkipped'],
    ['flow-healer', 'GaveUp'],
    ['flow-healer', 'Skipped'],
  ])('graphs the %s handler’s %s by reason, one line per reason found', (service, metricName) => {
    // Act & Assess
    expect(lines).toContain(
      `SEARCH('{Autoheal,reason,service} service="${service}" MetricName="${metricName}"', 'Sum', 300)`,
    );
  });

  it('graphs the breaker state of the most open machines, found by search', () => {
    // Act & Assess
    expect(lines).toContain(
      `SORT(SEARCH('{Autoheal,service,stateMachine} service="brake-keeper" MetricName="BreakerState"', 'Maximum', 300), MAX, DESC, 20)`,
    );
  });

  it('tables per state machine what the redrive handler decided, from its logs', () => {
    // Prepare
    const redriveLogs = `@Ref:${logicalId(heal._redrive?.handler.logGroup as IConstruct)}@`;

    // Act
    const perMachine = widgets.filter((widget) => widget.type === 'log');

    // Assess
    expect(perMachine).toHaveLength(1);
    expect(perMachine[0].properties.query).toContain(`SOURCE '${redriveLogs}'`);
    expect(perMachine[0].properties.query).toContain(
      'stats count(*) as failures by stateMachine, decision, outcome, reason',
    );
  });

  it('leaves out the breaker state when no machine has a breaker', () => {
    // Prepare
    const props = {
      redrive: { stateMachineNamePrefixes: ['orders-'], breaker: { enabled: false } },
    };

    // Act
    const unbraked = metricLines(dashboardWidgets(install(props).template));

    // Assess
    expect(unbraked.some((line) => line.includes('BreakerState'))).toBe(false);
    expect(unbraked).toContain('Autoheal Redriven service=redrive');
  });

  it('is output as DashboardUrl', () => {
    // Prepare
    const dashboardId = logicalId(heal.dashboard as IConstruct);

    // Act
    const outputs = Object.entries(template.findOutputs('*')).filter(([id]) =>
      id.includes('DashboardUrl'),
    );

    // Assess
    expect(outputs).toHaveLength(1);
    expect(flatten(outputs[0][1].Value)).toBe(
      `https://@Ref:AWS::Region@.console.aws.amazon.com/cloudwatch/home?region=@Ref:AWS::Region@#dashboards/dashboard/@Ref:${dashboardId}@`,
    );
  });

  it('is named after the stack, the region and the installation, unless named', () => {
    // Prepare & Act
    const named = install({ ...FULL, dashboard: { name: 'orders-autoheal' } });

    // Assess
    expect(
      flatten(
        Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties
          .DashboardName,
      ),
    ).toMatch(/^@Ref:AWS::StackName@-@Ref:AWS::Region@-autoheal-[0-9a-f]{8}$/);
    named.template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
      DashboardName: 'orders-autoheal',
    });
  });
});

describe('the alarms', () => {
  const { heal, template, logicalId } = install();
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
  const topicId = logicalId(heal.notificationTopic);

  it('page the notice topic, at the first error or dead letter, never on missing data', () => {
    // Prepare
    const pagesAtOnce = {
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
      ActionsEnabled: true,
      AlarmActions: [{ Ref: topicId }],
    };

    // Act
    const semantics = alarms.map((alarm) => {
      const { Threshold, ComparisonOperator, EvaluationPeriods, DatapointsToAlarm } =
        alarm.Properties;
      const { TreatMissingData, ActionsEnabled, AlarmActions } = alarm.Properties;
      return {
        Threshold,
        ComparisonOperator,
        EvaluationPeriods,
        DatapointsToAlarm,
        TreatMissingData,
        ActionsEnabled,
        AlarmActions,
      };
    });

    // Assess
    expect(semantics).toEqual(alarms.map(() => pagesAtOnce));
  });

  it.each([
    ['every function', 'AWS/Lambda', 'Errors', 'Sum', 300, 6],
    ['every dead-letter queue', 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 60, 3],
  ])('watch %s (%s %s, %s over %i s)', (_what, namespace, metricName, statistic, period, count) => {
    // Act
    const watching = alarms
      .map((alarm) => watchedMetric(alarm.Properties))
      .filter((metric) => metric.namespace === namespace && metric.metricName === metricName);

    // Assess
    expect(watching).toHaveLength(count);
    for (const metric of watching) expect(metric).toMatchObject({ statistic, period });
  });

  it('are the construct’s alarms, each a resource of the template', () => {
    // Act & Assess
    expect(heal.alarms.map(logicalId).sort()).toEqual(
      Object.keys(template.findResources('AWS::CloudWatch::Alarm')).sort(),
    );
    expect(heal.alarms).toHaveLength(9);
  });

  it('have names unique to the installation, so two installations in one account never clash', () => {
    // Prepare
    const names = alarms.map((alarm) => alarm.Properties.AlarmName as string);
    const stack = new Stack(templateOnlyApp(), 'Host');
    new Autoheal(stack, 'One', FULL);
    new Autoheal(stack, 'Two', FULL);

    // Act
    const both = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));

    // Assess
    expect(new Set(names).size).toBe(9);
    expect(new Set(both.map((alarm) => alarm.Properties.AlarmName)).size).toBe(18);
  });

  it('the topic lets CloudWatch publish, for this account’s alarms only', () => {
    // Act & Assess
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: topicId },
            Condition: {
              StringEquals: { 'aws:SourceAccount': '123456789012' },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:eu-west-1:123456789012:alarm:*',
                    ],
                  ],
                },
              },
            },
          },
        ]),
      },
    });
  });

  it('stay when the dashboard is turned off, with no dashboard and no DashboardUrl', () => {
    // Prepare & Act
    const { heal: off, template: offTemplate } = install({
      ...FULL,
      dashboard: { enabled: false },
    });

    // Assess
    offTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    offTemplate.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    expect(off.dashboard).toBeUndefined();
    expect(
      Object.keys(offTemplate.findOutputs('*')).some((id) => id.includes('DashboardUrl')),
    ).toBe(false);
  });
});

describe('the saved Logs Insights queries', () => {
  const { heal, template, logicalId } = install();
  const queries = Object.values(template.findResources('AWS::Logs::QueryDefinition'));
  const byName = (suffix: string) =>
    queries.find((query) => flatten(query.Properties.Name).endsWith(suffix));
  const everyLogGroup = heal.functions
    .map((fn) => heal.node.findAll().find((c) => (c as { function?: unknown }).function === fn))
    .map((owner) => ({ Ref: logicalId((owner as unknown as { logGroup: IConstruct }).logGroup) }));

  it.each([
    ["One execution's story", 'filter executionArn = "arn:aws:states:'],
    ['Give-ups (run over the last day)', 'filter outcome = "gave-up"'],
  ])('saves "%s" over every Autoheal log group', (name, filter) => {
    // Act
    const query = byName(`/Heal/${name}`);

    // Assess
    expect(query?.Properties.QueryString).toContain(filter);
    expect(query?.Properties.LogGroupNames).toEqual(everyLogGroup);
    expect(flatten(query?.Properties.Name)).toBe(`@Ref:AWS::StackName@/Heal/${name}`);
  });
});

describe('the dashboard at scale', () => {
  /** CloudWatch: a dashboard body holds at most 500 widgets (Dashboard Body Structure and Syntax). */
  const MAX_WIDGETS = 500;
  const byArn = (machines: number) =>
    install({
      redrive: {
        stateMachineArns: Array.from(
          { length: machines },
          (_, i) => `arn:aws:states:eu-west-1:123456789012:stateMachine:team-orders-${i}`,
        ),
      },
    }).template;
  const bodyOf = (template: Template) =>
    flatten(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties
        .DashboardBody,
    );

  it('does not grow with the state machines: 1,000 machines by ARN get the dashboard of one', () => {
    // Prepare
    const one = bodyOf(byArn(1));

    // Act
    const thousand = bodyOf(byArn(1000));

    // Assess
    expect(thousand).toBe(one);
    expect(JSON.parse(thousand).widgets.length).toBeLessThanOrEqual(MAX_WIDGETS);
  });
});

describe('the dashboard option', () => {
  it.each([
    ['a space', 'orders autoheal', 'must be letters, digits, "-" and "_", got "orders autoheal"'],
    ['an empty name', '', 'must have at least 1 character(s)'],
    ['256 characters', 'a'.repeat(256), 'must have at most 255 characters, got 256'],
  ])('refuses a dashboard name with %s, in one line naming the field', (_case, name, problem) => {
    // Prepare
    const stack = new Stack(templateOnlyApp(), 'Host');

    // Act
    const build = () => new Autoheal(stack, 'Heal', { ...FULL, dashboard: { name } });

    // Assess
    expect(build).toThrow(new Error(`Invalid Autoheal config at dashboard.name: ${problem}`));
  });

  it.each([
    ['turns the dashboard off', { enabled: false }, 0, undefined],
    ['names the dashboard', { name: 'orders-autoheal' }, 1, 'orders-autoheal'],
  ])('in the app’s JSON config, %s', (_case, dashboard, dashboards, name) => {
    // Prepare
    const raw = { redrive: { stateMachineNamePrefixes: ['orders-'] }, dashboard };

    // Act
    const { template } = buildStack(raw);

    // Assess
    template.resourceCountIs('AWS::CloudWatch::Dashboard', dashboards);
    if (name) template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: name });
  });

  it('in the app’s JSON config, refuses an unknown dashboard option, naming it', () => {
    // Prepare
    const raw = { redrive: { stateMachineNamePrefixes: ['orders-'] }, dashboard: { title: 'x' } };

    // Act & Assess
    expect(() => parseAutohealConfig(raw)).toThrow(
      /^Invalid Autoheal config at dashboard(\.title)?: is not a known option; known options: enabled, name$/,
    );
  });
});
