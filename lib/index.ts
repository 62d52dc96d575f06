/**
 * cdk-autoheal: self-healing for serverless workflows, as a CDK construct.
 *
 * @example
 * import { Autoheal } from 'cdk-autoheal';
 * new Autoheal(stack, 'Heal', { redrive: { stateMachines: [orders] } });
 */
export * from './autoheal';
