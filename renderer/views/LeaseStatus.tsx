import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/**
 * The status bar's DHCP port-range lease (SPEC C): bound with its range, the ports in use and the NAT address; or the
 * static configuration when the phone runs without a lease.
 */
export function LeaseStatus() {
  const t = useT();
  const lease = usePhone((s) => s.lease);
  if (!lease) {
    return (
      <p className="lease" data-lease="static" aria-label={t('lease')}>
        {t('leaseStatic')}
      </p>
    );
  }
  return (
    <p className="lease" data-lease="bound" aria-label={t('lease')}>
      {t('leaseBound')} {lease.address} · {t('leasePorts')} {lease.ports.min}-{lease.ports.max} ({lease.inUse}/{lease.capacity})
      {lease.nat !== undefined ? ` · NAT ${lease.nat}` : ''}
    </p>
  );
}
