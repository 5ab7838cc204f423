// docs/m1n1-link.md "In code" runs as written, with the device spec pointed at a simulated Mac
// instead of /dev/ttyACM0 (same calls, same package entry points).
import { afterAll, expect, it } from 'vitest';
import { ProxyClient, SmcClient } from '../../src/index.js';
import { openLink } from '../../src/node.js';
import { ProxyServer, SimulatedMac } from '../../src/sim/index.js';
import { listenTcp } from '../../src/transports/tcp.js';
import { openProxyCoprocessor, proxySram } from '../../src/wiring/index.js';

const mac = new SimulatedMac({ profiles: ['smc'] });
const server = new ProxyServer(mac);
const listening = listenTcp('127.0.0.1', 0, (link) => {
  server.attach(link);
});
afterAll(async () => (await listening).close());

it('reads #KEY over the m1n1 link as the guide shows', async () => {
  const device = `tcp:127.0.0.1:${(await listening).address.port}`;

  const client = await ProxyClient.connect(await openLink(device));
  const smc = await openProxyCoprocessor(client, { path: '/arm-io/smc', coproc: 'smc' });
  await smc.start();
  const keys = await SmcClient.open(await smc.session.openEndpoint(0x20), {
    sram: proxySram(client, smc.info.sram!),
  });
  const count = await keys.read('#KEY');
  await keys.close();
  await smc.session.shutdown();
  await smc.close();
  await client.close();

  expect(count).toBeGreaterThan(10);
});
