import { usePhone } from '../store/phone-store.js';
import { useT } from './use-t.js';

/**
 * The status bar's DHCP port-range lease (SPEC C): its state (bound, renewing, rebinding, lost), range, the ports in
 * use, the NAT address and when it runs out; or the static configuration when the phone runs without a lease.
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
  const label = { bound: t('leaseBound'), renewing: t('leaseRenewing'), rebinding: t('leaseRebinding'), lost: t('leaseLost') }[lease.state];
  const until = lease.expiresAt !== undefined && lease.state !== 'lost' ? ` · ${t('leaseUntil')} ${new Date(lease.expiresAt).toLocaleTimeString()}` : '';
  return (
    <p className={`lease lease-${lease.state}`} data-lease={lease.state} aria-label={t('lease')} role="status">
      {label} {lease.address} · {t('leasePorts')} {lease.ports.min}-{lease.ports.max} ({lease.inUse}/{lease.capacity})
      {lease.nat !== undefined ? ` · NAT ${lease.nat}` : ''}
      {until}
    </p>
  );
}
