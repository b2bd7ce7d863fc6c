import type { Page } from 'playwright-core';

/** What the page asked the Notification API to show, and whether it closed each one again. */
export interface SpiedNotification {
  title: string;
  body: string;
  closed: boolean;
}

/**
 * An init script that wraps the page's Notification constructor: every notification is still shown by Chromium, and
 * recorded in `window.__notifications` (title, body, closed) for the test to read.
 */
export const notificationSpy = `(() => {
  const Real = window.Notification;
  if (!Real) return;
  const seen = [];
  window.__notifications = seen;
  class Spied extends Real {
    constructor(title, options) {
      super(title, options);
      const entry = { title, body: (options && options.body) || '', closed: false };
      seen.push(entry);
      const close = this.close.bind(this);
      this.close = () => { entry.closed = true; close(); };
    }
  }
  Object.defineProperty(Spied, 'permission', { get: () => Real.permission });
  Spied.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Spied;
})();`;

export function notifications(page: Page): Promise<SpiedNotification[]> {
  return page.evaluate<SpiedNotification[]>('window.__notifications ? window.__notifications.map((n) => ({ ...n })) : []');
}
