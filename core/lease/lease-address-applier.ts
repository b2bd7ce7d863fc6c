import type { Lease } from './lease.js';

/**
 * Puts a leased address on an interface and takes it off again (Fig. 5B 572 "enable the lease values"). The lab
 * uses none: there the leased address is a model address, used in SIP and SDP only. The phone's is
 * core/phone/interface-lease-applier.ts (core/address's `ip` applier).
 */
export interface LeaseAddressApplier {
  apply(lease: Lease): Promise<void>;
  remove(lease: Lease): Promise<void>;
}
