// core/lease: seed 003's terminal side — DHCP lease with a port range, TFTP provisioning, port pool, MGC failover.
// docs/provisioning.md documents the wire numbering and the config file format.
export { decodeDhcpMessage, dhcpMessage, encodeDhcpMessage, formatHardwareAddress, parseHardwareAddress, type DhcpMessage } from './dhcp-message.js';
export { dhcpOptionTable, portRangeProblem, type DhcpMessageType, type DhcpOptions, type MgcAddress, type PortRange } from './dhcp-options.js';
export { leaseSummary, missingLeaseOptions, type Lease, type LeaseSource, type RequiredLeaseField } from './lease.js';
export { LeaseError, type LeaseErrorCode, type RejectCounters } from './lease-error.js';
export type { LeaseAddressApplier } from './lease-address-applier.js';
export { DEFAULT_LEASE_TIMING, LeaseClient, type LeaseClientOptions, type LeaseEvent, type LeaseState, type LeaseTiming, type StaticLeaseConfig } from './lease-client.js';
export { FileLeaseStore, MemoryLeaseStore, type LeaseStore, type StoredLease } from './lease-store.js';
export { UdpLeaseTransport, type LeaseEndpoint, type LeaseTransport, type UdpLeaseTransportOptions } from './lease-transport.js';
export { mgcFailureOf, MgcSelector, type MgcAttempt, type MgcFailure, type MgcSelectorEvent, type MgcSelectorOptions } from './mgc-selector.js';
export { natAddresses, natContactParams, parseNatContactParams, PRIVATE_PARAM, PUBLIC_PARAM, type NatAddresses } from './nat-contact.js';
export { PortPool, type CallPortRequest, type CallPorts, type PortReservation, type PortUse, type RtpPortPair, type SipTransportName } from './port-pool.js';
export { provision, type ProvisionOptions, type Provisioned } from './provisioner.js';
export { applyProvisioning, parseProvisioningConfig, type ProvisioningConfig, type ProvisioningResult } from './provisioning-config.js';
export { TftpClient, type TftpClientOptions, type TftpEvent, type TftpResult } from './tftp-client.js';
