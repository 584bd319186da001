/**
 * What the server's HTML pages (the front page and the playground) share: their head, the
 * Content-Security-Policy they are sent with, and safe ways to put data into them.
 */

/**
 * The pages only ever talk to this server: everything they load or send stays on this origin
 * (images drawn or uploaded are read as data: and blob: URLs).
 */
export const PAGE_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * The front page and the live page run no inline script (their code is in public/front/) and no
 * inline style attribute, so they get a stricter policy than the playground, whose GraphiQL
 * bundle needs inline styles and whose start-up script is inline.
 */
export const FRONT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; media-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** JSON inside an HTML <script>: `<` escaped so no string in it can close the element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/** The start of a page, up to and including `<body>`; `head` adds stylesheets and styles. */
export function pageStart(title: string, head: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <title>${escapeHtml(title)}</title>
  ${head}
</head>
<body>`;
}
