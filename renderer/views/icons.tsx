/** Small line icons for the tab bar and the encryption lock (drawn here: no icon font, no emoji font needed). */
export function Icon({ name }: { name: 'phone' | 'history' | 'settings' | 'lock' | 'lock-open' }) {
  const common = { width: 22, height: 22, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 1.8, strokeLinecap: 'round' as const, strokeLinejoin: 'round' as const, 'aria-hidden': true };
  if (name === 'phone') {
    return (
      <svg {...common}>
        <path d="M6.6 3.5c.8-.5 1.8-.2 2.3.6l1.6 2.7c.4.8.2 1.7-.4 2.2l-1.2.9c.8 1.8 2.2 3.2 4 4l.9-1.2c.5-.7 1.4-.9 2.2-.4l2.7 1.6c.8.5 1.1 1.5.6 2.3l-.9 1.5c-.7 1.2-2.1 1.8-3.5 1.4-5.3-1.5-8.6-4.8-10.1-10.1-.4-1.4.2-2.8 1.4-3.5z" />
      </svg>
    );
  }
  if (name === 'history') {
    return (
      <svg {...common}>
        <circle cx="12" cy="12" r="8.5" />
        <path d="M12 7.5V12l3 2" />
      </svg>
    );
  }
  if (name === 'lock' || name === 'lock-open') {
    return (
      <svg {...common} className={`icon-${name}`}>
        <rect x="5" y="11" width="14" height="9.5" rx="1.5" />
        <path d={name === 'lock' ? 'M8 11V7.5a4 4 0 0 1 8 0V11' : 'M8 11V7.5a4 4 0 0 1 7.7-1.5'} />
      </svg>
    );
  }
  return (
    <svg {...common}>
      <path d="M4 7h10M18 7h2M4 17h4M12 17h8" />
      <circle cx="16" cy="7" r="2" />
      <circle cx="10" cy="17" r="2" />
    </svg>
  );
}
