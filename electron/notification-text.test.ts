import { describe, expect, it } from 'vitest';
import { notificationBody } from './notification-text.js';

describe('notificationBody', () => {
  it('escapes what a Linux notification server would read as markup, and nothing else', () => {
    const name = '<b>URGENT</b> <a href="https://bank.example">Your Bank</a> & <img src="x">';
    expect(notificationBody(name, 'linux')).toBe('&lt;b&gt;URGENT&lt;/b&gt; &lt;a href="https://bank.example"&gt;Your Bank&lt;/a&gt; &amp; &lt;img src="x"&gt;');
    expect(notificationBody('AT&T', 'linux')).toBe('AT&amp;T');
    expect(notificationBody('Alice Liddell', 'linux')).toBe('Alice Liddell');
  });

  it('leaves the body alone where it is shown as plain text', () => {
    expect(notificationBody('AT&T <b>', 'darwin')).toBe('AT&T <b>');
    expect(notificationBody('AT&T <b>', 'win32')).toBe('AT&T <b>');
  });
});
