import v8 from 'node:v8';
import vm from 'node:vm';

/** A full garbage collection now: V8's gc(), reached through a fresh context once the flag is set (no --expose-gc needed). */
export function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}
