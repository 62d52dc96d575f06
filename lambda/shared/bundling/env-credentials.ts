/**
 * Bundled in place of `@aws-sdk/credential-provider-node` (an esbuild alias in
 * `HANDLER_BUNDLING`, scripts/handler-bundling.ts): the credentials of every SDK client in a deployed
 * Autoheal function.
 *
 * Lambda passes the execution role's credentials in the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), which is
 * the default chain's first link, so the other links (SSO, shared ini files,
 * credential processes, web identity, container and instance metadata) never
 * run in Lambda. Bundling them costs about 10 ms of every cold start: they are
 * loaded with dynamic `import()`, which makes esbuild wrap hundreds of SDK
 * modules in lazy initialisers. Without those variables the first AWS call
 * fails with the SDK's `CredentialsProviderError`, which the handlers treat as
 * a failure to retry, then park: nothing is lost.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (
  init: Parameters<typeof fromEnv>[0] = {},
): ReturnType<typeof fromEnv> => fromEnv(init);
