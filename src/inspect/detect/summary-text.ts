// Small helpers for finding summaries, shared by the detectors.

/** A short quotation of message text on one line: 'Rendez-vous demain à…'. */
export function quote(text: string, max = 40): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `'${flat.length > max ? `${flat.slice(0, max)}…` : flat}'`;
}

/** A phone number with its last six digits left out of summaries: +33612… */
export function maskNumber(address: string): string {
  const digits = address.replace(/\D/g, '');
  if (digits.length < 6) return address;
  return `${address.slice(0, address.length - 6)}…`;
}
