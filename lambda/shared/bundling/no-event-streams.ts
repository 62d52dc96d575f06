/**
 * Bundled in place of `@smithy/core/event-streams` (an esbuild alias in
 * `HANDLER_BUNDLING`, scripts/handler-bundling.ts). The SDK's protocols import it with dynamic `import()`
 * for event-stream operations only; Step Functions, SNS, SQS, DynamoDB and
 * AppFlow have none of those among the operations Autoheal calls. The real
 * module would add code and, through the dynamic import, lazy-initialiser
 * wrapping to every cold start.
 */
const notBundled = (): never => {
  throw new Error(
    'Event streams are not bundled in Autoheal functions: remove the @smithy/core/event-streams alias from HANDLER_BUNDLING to call an event-stream operation',
  );
};

export const EventStreamSerde = notBundled;
export const eventStreamSerdeProvider = notBundled;
