// grpc-js on both sides of a capture, as the gRPC tests use it: a TLS server under a name the test
// origins' CA vouches for, and a client that reaches it through phonehome's HTTP proxy port by
// grpc_proxy, as an app would. Both are closed, and the environment put back, at teardown.

import grpc from '@grpc/grpc-js';
import { getOriginCa } from './lab.js';

interface Teardown { teardown(fn: () => unknown): void }

/** Starts `service` with `handlers` on 127.0.0.1:0 over TLS, its certificate for `hostname`; resolves with the port. */
export async function startGrpcOrigin(t: Teardown, hostname: string, service: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): Promise<number> {
  const leaf = getOriginCa().issueLeaf(hostname);
  const server = new grpc.Server();
  server.addService(service, handlers);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(leaf.keyPem), cert_chain: Buffer.from(leaf.certPem) }]), (err, p) => (err ? reject(err) : resolve(p))));
  t.teardown(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return port;
}

/** A client for `target` (`host:port`) through the proxy on `proxyPort`, trusting only `trustPem`. */
export function grpcClientThroughProxy(t: Teardown, proxyPort: number, target: string, trustPem: string): grpc.Client {
  const previousProxy = process.env['grpc_proxy'];
  // grpc-js reads its proxy from the environment when a channel is made, as a phone app's would.
  process.env['grpc_proxy'] = `http://127.0.0.1:${proxyPort}`;
  const client = new grpc.Client(target, grpc.credentials.createSsl(Buffer.from(trustPem)));
  t.teardown(() => {
    client.close();
    if (previousProxy === undefined) delete process.env['grpc_proxy'];
    else process.env['grpc_proxy'] = previousProxy;
  });
  return client;
}
