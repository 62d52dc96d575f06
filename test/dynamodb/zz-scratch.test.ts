import { createIdempotencyTable } from '../support/idempotency-table';
it('works', async () => {
  const t0 = Date.now();
  const table = await createIdempotencyTable();
  console.log(process.env.AWS_ENDPOINT_URL_DYNAMODB, 'create ms', Date.now() - t0);
  expect(await table.items()).toEqual([]);
  await table.dispose();
});
