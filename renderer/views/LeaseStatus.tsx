import { useT } from './use-t.js';

/**
 * The status bar's slot for the DHCP port-range lease (SPEC C: searching / bound with its range). The phone has no
 * lease state yet (core/lease is being built): until the snapshot carries one, the phone runs statically configured,
 * and this says so. Replace the body with the lease from the snapshot when it exists.
 */
export function LeaseStatus() {
  const t = useT();
  return (
    <p className="lease" data-lease="static" aria-label={t('lease')}>
      {t('leaseStatic')}
    </p>
  );
}
