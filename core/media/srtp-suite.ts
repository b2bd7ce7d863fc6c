/** The SRTP crypto suites this phone speaks (RFC 4568 §6.2), in our order of preference. */
export const srtpSuiteNames = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'] as const;

export type SrtpSuiteName = (typeof srtpSuiteNames)[number];

export interface SrtpSuite {
  name: SrtpSuiteName;
  /** Master key and session encryption key, bytes (AES-128). */
  keyLength: number;
  /** Master salt and session salt, bytes (112 bits). */
  saltLength: number;
  /** HMAC-SHA1 session authentication key, bytes (160 bits). */
  authKeyLength: number;
  /** SRTP authentication tag, bytes. */
  rtpTagLength: number;
  /** SRTCP authentication tag, bytes: 80 bits for both suites (RFC 4568 §6.2.2, RFC 3711 §5.2). */
  rtcpTagLength: number;
}

// RFC 4568 §6.2.1 and §6.2.2: AES-CM 128, HMAC-SHA1 with an 80- or 32-bit SRTP tag, SRTCP always 80 bits.
const suites: Record<SrtpSuiteName, SrtpSuite> = {
  AES_CM_128_HMAC_SHA1_80: { name: 'AES_CM_128_HMAC_SHA1_80', keyLength: 16, saltLength: 14, authKeyLength: 20, rtpTagLength: 10, rtcpTagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { name: 'AES_CM_128_HMAC_SHA1_32', keyLength: 16, saltLength: 14, authKeyLength: 20, rtpTagLength: 4, rtcpTagLength: 10 },
};

export function isSrtpSuiteName(name: string): name is SrtpSuiteName {
  return Object.hasOwn(suites, name);
}

export function srtpSuite(name: SrtpSuiteName): SrtpSuite {
  return suites[name];
}

/** One direction's master key (RFC 3711 §8.1): the SDES `inline:` key, salt, optional lifetime and MKI. */
export interface SrtpMasterKey {
  key: Buffer;
  salt: Buffer;
  /** Packets (SRTP plus SRTCP) this key may protect (RFC 4568 §6.1); the suite's maximum when absent. */
  lifetime?: number;
  /** The Master Key Identifier sent with every packet (RFC 3711 §3.1), when the key has one. */
  mki?: { value: number; length: number };
}
