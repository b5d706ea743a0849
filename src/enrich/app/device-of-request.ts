// The device behind a request, from its User-Agent: model and OS (Dalvik, okhttp, CFNetwork…). Pure.

import type { HeaderList } from '../../model/flow.js';

export interface DeviceFacts {
  /** `HM NOTE 1W`, `iPhone`… */
  readonly model?: string;
  /** `Android 4.4.2`, `iOS 17.1`… */
  readonly os?: string;
  /** The HTTP stack or framework the request came from: `okhttp`, `CFNetwork`, `grpc-java`, `Unity`, `React Native`… */
  readonly framework?: string;
  /** The header that said so. */
  readonly evidence: string;
}

export function deviceOfRequest(_headers: HeaderList): DeviceFacts | undefined {
  return undefined;
}
