// One exchange read back from a capture, built by the live ExchangeRecorder itself — the same
// body limits, gRPC message splitting, WebSocket message limits and tags — with the capture's
// clock instead of the wall clock: the flow's times, and each message's, are those of the chunks
// that carried them.

import { headerValue, newFlowId, type Flow, type HeaderList, type HttpFlow, type MessageRecord, type WebSocketFlow } from '../model/flow.js';
import { ExchangeRecorder, type RequestHead, type ResponseHead } from '../proxy/recorder/exchange-recorder.js';
import { GrpcFrameReader } from '../proxy/recorder/grpc-frames.js';
import { tlsRecordFor } from '../proxy/tls-record.js';
import { exchangeTags, times, type OfflineConnection } from './offline-connection.js';

export class RecordedExchange {
  readonly #recorder: ExchangeRecorder;
  readonly #connection: OfflineConnection;
  readonly #startedAt: string;
  #endedAt: string;
  #flow: HttpFlow | WebSocketFlow | undefined;
  /** Times of the messages each direction completed, in order (client, server). */
  readonly #messageTimes: [string[], string[]] = [[], []];
  /** gRPC message boundaries, counted alongside the recorder so each message gets its chunk's time. */
  readonly #grpcCounters: [GrpcFrameReader, GrpcFrameReader] | undefined;

  constructor(connection: OfflineConnection, request: RequestHead, authority: string | undefined, startedAt: string) {
    this.#connection = connection;
    this.#startedAt = startedAt;
    this.#endedAt = startedAt;
    const { context } = connection;
    const tls = connection.session.tls;
    this.#recorder = new ExchangeRecorder(
      {
        flowId: '', client: context.client, connection: context.id, mode: context.mode, target: { host: context.target.host, port: context.target.port },
        ...(tls?.sni ? { sni: tls.sni } : {}), ...(tls?.alpn ? { alpn: tls.alpn } : request.httpVersion === 'HTTP/2.0' ? { alpn: 'h2c' } : {}),
        tls: tls !== undefined, ...tlsRecordFor(context),
        tags: exchangeTags(connection, authority), bodyLimitBytes: connection.options.bodyLimitBytes,
      },
      request,
      (flow) => {
        this.#flow = flow;
      },
    );
    // Only the gRPC and gRPC-Web framings are counted here; grpc-web-text (base64) keeps the flow's times.
    const type = headerValue(request.headers, 'content-type')?.toLowerCase() ?? '';
    if (type.startsWith('application/grpc') && !type.startsWith('application/grpc-web-text')) this.#grpcCounters = [new GrpcFrameReader(0), new GrpcFrameReader(0)];
  }

  /** A byte of the exchange passed at `time`. */
  saw(time: string): void {
    if (time > this.#endedAt) this.#endedAt = time;
  }

  data(fromClient: boolean, chunk: Buffer, time: string): void {
    this.saw(time);
    this.#recorder.data(fromClient, chunk);
    const counter = this.#grpcCounters?.[fromClient ? 0 : 1];
    if (counter) for (const frame of counter.push(chunk)) if (!frame.trailers) this.#messageTimes[fromClient ? 0 : 1].push(time);
  }

  response(head: ResponseHead, time: string): void {
    this.saw(time);
    this.#recorder.response(head, { ip: this.#connection.destination.ip, port: this.#connection.destination.port });
  }

  trailers(fromClient: boolean, headers: HeaderList, time: string): void {
    this.saw(time);
    this.#recorder.trailers(fromClient, headers);
  }

  webSocketOpen(head: ResponseHead, time: string): void {
    this.saw(time);
    this.#recorder.webSocketOpen({ ip: this.#connection.destination.ip, port: this.#connection.destination.port });
    // The live recorder records the 101 without headers (ws answers it); here the server's own are known.
    this.#recorder.response(head, { ip: this.#connection.destination.ip, port: this.#connection.destination.port });
  }

  webSocketMessage(fromClient: boolean, data: Buffer, binary: boolean, time: string): void {
    this.saw(time);
    this.#messageTimes[fromClient ? 0 : 1].push(time);
    this.#recorder.webSocketMessage(fromClient, data, binary);
  }

  tag(tag: string): void {
    this.#recorder.tag(tag);
  }

  /** The exchange's flow, with the capture's times. `endedAt`: when its last byte passed, if later than any seen. */
  finish(error?: string, endedAt?: string): Flow {
    if (endedAt) this.saw(endedAt);
    this.#recorder.done(error);
    const flow = this.#flow!;
    const next: [number, number] = [0, 0];
    const messages = flow.messages?.map((message): MessageRecord => {
      const side = message.fromClient ? 0 : 1;
      const time = this.#messageTimes[side][next[side]++] ?? this.#endedAt;
      return { ...message, time };
    });
    return { ...flow, id: newFlowId(), ...times(this.#startedAt, this.#endedAt), ...(messages ? { messages } : {}) };
  }
}
