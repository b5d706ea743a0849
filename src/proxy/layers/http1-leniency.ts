// What Node's HTTP/1 parser accepts on both sides of the proxy: what devices and servers send and
// their real peers accept, even where RFC 9112 says otherwise. Node's parser (llhttp) is strict by
// default, so phonehome refused requests a server would have answered and failed answers the
// device's own client would have read, each a 400 or a 502 that the direct run never gives:
//   - a request or an answer whose lines end in a bare LF (firmware that prints "\n"; Chromium,
//     OkHttp, curl, nginx and mitmproxy all read them);
//   - a header continued on the next line (obs-fold);
//   - a chunk size followed by spaces;
//   - an HTTP/1.1 request without Host (embedded clients; the server is the one to refuse it).
// Node's `insecureHTTPParser` turns llhttp's leniencies on (these, and a few more of the kind, such
// as an HTTP version other than 1.0 and 1.1); it is "insecure" for a server that trusts
// its own reading of the bytes against a front proxy's. Here no other party reads them: phonehome
// sends a device's header lines as written only where each is strict, all end alike, and they say
// what the parser read (request-head-as-sent.ts), and writes the head again otherwise; it frames
// every body itself (http1-request-relay.ts), or sends a device's own chunks only in their strict
// form, checked against what the parser read (chunked-body-relay.ts); so the server reads the
// request as phonehome read it, and recorded it,
// and each device connection has its own upstream connection (connection-agent.ts), so no device
// can reach another one's exchanges.
// What llhttp refuses even so stays a 400 or a 502 that says why (README, "Limits, honestly"), as
// does a control byte in a header value: llhttp now reads it, but Node's writer will not send it.

/**
 * Header lines read per head: 0 is Node's "all of them". Its default keeps the first thousand or so
 * and drops the rest without a word, from what goes on and from the record alike; a head's size
 * is bounded anyway (limits.http1MaxRequestHeadBytes, http1MaxResponseHeadBytes). Set as
 * `maxHeadersCount` on the server and on each upstream request (neither takes it as an option).
 */
export const EVERY_HEADER_LINE = 0;

/** For the parser that reads the device's requests (http.createServer). */
export const deviceParserOptions = { insecureHTTPParser: true, requireHostHeader: false } as const;

/** For the parser that reads the server's answers (http.request). */
export const upstreamParserOptions = { insecureHTTPParser: true } as const;
