import type { CallLogDetail, CallLogExportFormat, CallLogFile, CallLogFilter, CallLogPage } from '../api/call-log-types.js';
import { PhoneError } from '../api/phone-error.js';
import { callLogFile } from '../calllog/call-log-file.js';
import { CallLogError, type CallLogStore } from '../calllog/call-log-store.js';
import { VerificationKeys, type VerificationKeyFile } from '../signing/key-ring.js';
import { readSigningProxy, type SigningProxySource } from './signing-proxy-counters.js';
import { callTraceSignatures } from './trace-signatures.js';

/** The call history as the hosts see it: searched, one call with its checked trace, exported (JSON, pcap). */
export class CallHistory {
  constructor(
    private readonly callLog: CallLogStore,
    /** Keys that verify the network's signed routing headers (seed 002), read each time a trace is shown. */
    private readonly signatureKeys?: () => readonly VerificationKeyFile[] | undefined,
    /** Where the signing proxy's failure counters are read each time a call is shown (SPEC E). */
    private readonly signingProxy?: SigningProxySource,
  ) {}

  async history(filter?: CallLogFilter): Promise<CallLogPage> {
    return this.callLog.listCalls(filter);
  }

  /** A call with its trace; each message with its signatures decoded and checked now (the stored trace stays raw). */
  async callDetail(id: string): Promise<CallLogDetail | undefined> {
    const detail = this.callLog.getCall(id);
    if (!detail) return undefined;
    const files = this.signatureKeys?.();
    const keys = files && files.length > 0 ? new VerificationKeys(files) : undefined;
    const signingProxy = this.signingProxy ? await readSigningProxy(this.signingProxy) : undefined;
    return { ...detail, messages: callTraceSignatures(detail.messages, keys), ...(signingProxy ? { signingProxy } : {}) };
  }

  async exportCalls(ids: string[], format: CallLogExportFormat): Promise<CallLogFile> {
    try {
      return callLogFile(this.callLog.getCalls(ids), format);
    } catch (error) {
      if (error instanceof CallLogError && error.code === 'UNKNOWN_CALL') throw new PhoneError('UNKNOWN_CALL', error.message);
      throw new PhoneError('EXPORT_FAILED', (error as Error).message);
    }
  }
}
