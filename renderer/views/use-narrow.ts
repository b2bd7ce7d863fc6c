import { useEffect, useState } from 'react';

/** Below this width the phone shows one view at a time with tabs (the desktop window opens at 420 px). */
export const narrowQuery = '(max-width: 719px)';

/** Whether the window is narrow now; follows resizes. */
export function useNarrowWindow(): boolean {
  const [narrow, setNarrow] = useState(() => typeof matchMedia === 'function' && matchMedia(narrowQuery).matches);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const query = matchMedia(narrowQuery);
    const update = (): void => setNarrow(query.matches);
    update();
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, []);
  return narrow;
}
