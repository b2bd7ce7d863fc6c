/**
 * A notification's body as the desktop reads it. On Linux, Electron hands the body to libnotify as it is, and a
 * notification server that announces `body-markup` (Desktop Notifications Specification 1.2, "Markup") renders
 * `<b>`, `<i>`, `<u>`, `<a href>` and `<img>` in it, while a strict one drops a body it cannot parse (a bare `&`, as
 * in "AT&T"). The caller's name goes into the body, so its `&`, `<` and `>` are escaped there. A server without body
 * markup shows the escape itself ("AT&amp;T"): Electron cannot ask a server what it supports, and a visible entity is
 * the safer way to be wrong. The summary (title) is plain text in the specification, and other systems show the body
 * as plain text: both stay as they are.
 */
export function notificationBody(text: string, platform: NodeJS.Platform): string {
  if (platform !== 'linux') return text;
  return text.replace(/[&<>]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : '&gt;'));
}
