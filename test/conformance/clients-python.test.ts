// Python's own HTTP clients (urllib.request and http.client, on Python's ssl), the clients of
// scripts and of IoT daemons written in Python, direct and through the proxy under test as an HTTP
// proxy (urllib has no SOCKS): a GET and a JSON POST with urllib, a GET with a header sent twice
// and a chunked upload with http.client, over TLS to an HTTP/1.1 origin (Python's clients speak no
// HTTP/2) and in clear (urllib then sends absolute-form requests to the proxy). The client is
// test/fixtures/python/conformance_client.py. The origin's record and what Python got must be the
// same in every mode. And Requests (on urllib3, with PySocks for SOCKS5), the client of most
// Python scripts: a GET with parameters, a JSON POST and a photo uploaded as a multipart form,
// as an HTTP proxy and over SOCKS5 (test/fixtures/python/requests_client.py).

import path from 'node:path';
import t from 'tap';
import { clientProxyArgs, debianPython, differentialPerOrigin, jsonEchoHandler, missingCommand, missingPythonModules, runClient, startProxyUnderTest, startRecordingOrigin, type KnownDifferences, type RunContext } from './differential.js';

/** Comparisons that differ today, with why; they run with CONFORMANCE_ALL=1. */
const knownDifferences: KnownDifferences = {};

const client = path.join(import.meta.dirname, '..', 'fixtures', 'python', 'conformance_client.py');
const skip = missingCommand('python3', 'python3');

async function runPython(context: RunContext): Promise<string> {
  const { origin } = context;
  const { mode, port } = clientProxyArgs(context);
  const run = await runClient('python3', [client, mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`]);
  return `exit ${run.status}\n${run.text}`;
}

t.test('Python urllib and http.client', { skip: skip ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  differentialPerOrigin(t, proxy, [
    { title: 'an origin over TLS', start: () => startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'python urllib + http.client (https)', run: runPython, modes: ['http-proxy'] } },
    { title: 'an origin in clear (absolute-form requests to the proxy)', start: () => startRecordingOrigin({ handler: jsonEchoHandler as never }), scenario: { name: 'python urllib + http.client (http)', run: runPython, modes: ['http-proxy'] } },
  ], knownDifferences);
});

const requestsClient = path.join(import.meta.dirname, '..', 'fixtures', 'python', 'requests_client.py');
const noRequests = missingPythonModules('import requests, socks', 'Requests', 'python3-requests python3-socks');

t.test('Python Requests (urllib3), a photo uploaded as a form too', { skip: skip ?? noRequests ?? false }, async (t) => {
  const proxy = await startProxyUnderTest();
  t.teardown(() => proxy.close());
  const run = async (context: RunContext): Promise<string> => {
    const { origin } = context;
    const { mode, port } = clientProxyArgs(context);
    const result = await runClient(debianPython, [requestsClient, mode, String(port), context.caFile, `${origin.tls ? 'https' : 'http'}://${origin.hostname}:${origin.port}`]);
    return `exit ${result.status}\n${result.text}`;
  };
  differentialPerOrigin(t, proxy, [
    { title: 'an origin over TLS', start: () => startRecordingOrigin({ tls: true, alpn: ['http/1.1'], handler: jsonEchoHandler as never }), scenario: { name: 'python requests (https)', run } },
    { title: 'an origin in clear', start: () => startRecordingOrigin({ handler: jsonEchoHandler as never }), scenario: { name: 'python requests (http)', run } },
  ], knownDifferences);
});
