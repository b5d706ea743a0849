// The bytes of JSON's structure, for the scanners that find whole objects in a byte stream without
// parsing it (the flow log's lines, a HAR's entries). UTF-8 is safe to scan byte by byte: no byte
// of a multi-byte character is one of these.

export const OPEN_BRACE = 0x7b;
export const CLOSE_BRACE = 0x7d;
export const OPEN_BRACKET = 0x5b;
export const CLOSE_BRACKET = 0x5d;
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COLON = 0x3a;
export const COMMA = 0x2c;
