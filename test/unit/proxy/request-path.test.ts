// The request target a relay sends on, from what the device sent (src/proxy/layers/request-path.ts).

import t from 'tap';
import { pathOf, upstreamTarget } from '../../../src/proxy/layers/request-path.js';

t.test('the path and query of origin-form and absolute-form targets', async (t) => {
  const table: Array<[string, string]> = [
    ['/a?b=1', '/a?b=1'],
    ['/', '/'],
    ['http://api.example.test/a?b=1', '/a?b=1'],
    ['http://api.example.test:8080', '/'],
    ['http://api.example.test?q=1', '/?q=1'],
    ['ws://api.example.test/chat#x', '/chat'],
    ['HTTP://API.example.test/X', '/X'],
  ];
  for (const [url, path] of table) t.equal(pathOf(url), path, url);
});

t.test('to phonehome as a proxy: OPTIONS about the server itself goes on as *; nothing else does', async (t) => {
  const table: Array<[string, string, string]> = [
    ['OPTIONS', '*', '*'],
    ['OPTIONS', 'http://api.example.test:8080', '*'],
    // Look-alikes: a path, even the root, is a resource.
    ['OPTIONS', 'http://api.example.test:8080/', '/'],
    ['OPTIONS', '/', '/'],
    ['OPTIONS', 'http://api.example.test?q=1', '/?q=1'],
    ['GET', 'http://api.example.test:8080', '/'],
    ['GET', '/*', '/*'],
  ];
  for (const [method, url, target] of table) t.equal(upstreamTarget(method, url, true), target, `${method} ${url}`);
});

t.test('on a connection with one destination, the target goes on as the device wrote it', async (t) => {
  for (const [method, url] of [['GET', 'http://api.example.test/abs?q=1'], ['GET', '/a'], ['OPTIONS', '*'], ['OPTIONS', 'http://api.example.test:8080']]) {
    t.equal(upstreamTarget(method, url!, false), url, `${method} ${url}`);
  }
});
