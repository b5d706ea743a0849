// HTTP's token characters (RFC 9110 §5.6.2, tchar): what a method and a header field's name are
// made of. One definition for every reader of HTTP/1 heads (the live proxy's view of a server's
// head, and the capture-file head reader).

/** One token character, as a regular-expression class. */
export const TOKEN_CHARACTER = "[!#$%&'*+.^_`|~0-9A-Za-z-]";

/** A whole token: one or more token characters and nothing else. */
export const TOKEN = new RegExp(`^${TOKEN_CHARACTER}+$`);
