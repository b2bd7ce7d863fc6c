import { PhoneError } from '../api/phone-error.js';
import type { LeaseSource } from './provision-phone.js';

const usage = 'lease source must be {"gateway":{"dhcp":{"address","port"},"tftp":{"address","port"}}} or {"network":{"interface":NAME}}';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const hasOnly = (value: Record<string, unknown>, keys: string[]): boolean => Object.keys(value).length === keys.length && keys.every((k) => k in value);

function isEndpoint(value: unknown): boolean {
  if (!isRecord(value) || !hasOnly(value, ['address', 'port'])) return false;
  const { address, port } = value;
  return typeof address === 'string' && address.length > 0 && address.length <= 255 && Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535;
}

/**
 * Where a host's phone leases from, as a launcher hands it over (JSON in VEILPHONE_LEASE_SOURCE for the desktop app):
 * `{"gateway":{"dhcp":{…},"tftp":{…}}}` (the embedded lab) or `{"network":{"interface":"eth1"}}`.
 */
export function parseLeaseSource(text: string): LeaseSource {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PhoneError('INVALID_ARGUMENT', `lease source is not JSON: ${(error as Error).message}`);
  }
  if (isRecord(value) && hasOnly(value, ['gateway'])) {
    const gateway = value.gateway;
    if (isRecord(gateway) && hasOnly(gateway, ['dhcp', 'tftp']) && isEndpoint(gateway.dhcp) && isEndpoint(gateway.tftp)) return value as LeaseSource;
  }
  if (isRecord(value) && hasOnly(value, ['network'])) {
    const network = value.network;
    if (isRecord(network) && hasOnly(network, ['interface']) && typeof network.interface === 'string' && network.interface.length > 0 && network.interface.length <= 15) return value as LeaseSource;
  }
  throw new PhoneError('INVALID_ARGUMENT', usage);
}
