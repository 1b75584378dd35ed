/**
 * Starts the express app: `node examples/express-sdk-app/server.ts` with the emulator's env (PORT, default 8080).
 */
import { createApp } from './app.ts';

const server = createApp().listen(Number(process.env.PORT ?? 8080), () => {
  const address = server.address();
  console.log(`express-sdk-app listening on http://localhost:${typeof address === 'object' && address ? address.port : process.env.PORT}`);
});
process.once('SIGTERM', () => server.close());
