import sanitizeHtml from 'sanitize-html';

/**
 * Makes an email's HTML safe for an agent's browser: no scripts, no event handlers, no
 * `javascript:` or other active URLs, and nothing that loads from the network when shown (remote
 * images and CSS urls are tracking beacons as often as content). `cid:` images stay as references
 * to the stored attachments. Only the result of this function is stored on an entry.
 */
export interface SanitizedHtml {
  html: string;
  /** Remote images whose loading was blocked; a UI may offer to load them on request. */
  remoteImagesBlocked: number;
}

const allowedTags = [
  ...sanitizeHtml.defaults.allowedTags,
  'img',
  'font',
  'center',
  'span',
  'div',
  'u',
  's',
  'strike',
  'small',
  'big',
  'sup',
  'sub',
  'hr',
  'br',
].filter((tag) => tag !== 'style');

const tableCell = ['colspan', 'rowspan', 'align', 'valign', 'width', 'height', 'bgcolor'];

// Visual CSS only, each property with the values it may take. Nothing that takes an element out of
// the flow or moves it over its neighbours (position, inset, z-index, transform, negative margins or
// indents, viewport units, absurd sizes): a hostile email must not draw over the agent desk, e.g. a
// fake sign-in box. Any value mentioning url(), expression() or escapes is dropped (safeCssValue).
const safeCssValue = /^(?!.*(url\s*\(|expression|javascript|vbscript|\\|@import|behavior|-moz-binding|calc\s*\(|var\s*\(|env\s*\(|\d\s*(vw|vh|vmin|vmax|dvh|svh|lvh)\b))[^<>"]*$/i;
// Free-form values (colours, borders, families) may not hide a huge size in them either.
const modestValue = new RegExp(`^(?=.{0,200}$)(?!.*\\d{3,}(\\.\\d+)?\\s*(px|pt|pc|em|rem|ex|ch|cm|mm|in|%))${safeCssValue.source.slice(1)}`, 'i');
const spacingToken = '(auto|0|\\d{1,3}(\\.\\d+)?(px|pt|em|rem|%))';
const spacing = new RegExp(`^${spacingToken}(\\s+${spacingToken}){0,3}$`, 'i');
const boxSize = /^(auto|0|(\d{1,3}|1\d{3})(\.\d+)?(px|pt)|\d{1,2}(\.\d+)?(em|rem)|(100|\d{1,2})(\.\d+)?%)$/i;
const fontSize = /^(\d{1,2}(\.\d+)?(px|pt)|[0-4](\.\d+)?(em|rem)|\d{1,3}%|xx-small|x-small|small|medium|large|x-large|xx-large|smaller|larger)$/i;
const lineHeight = /^(normal|\d(\.\d+)?|\d{1,2}(\.\d+)?(px|pt|em|rem)|\d{1,3}%)$/i;
const letterSpacing = /^(normal|0|\d(\.\d+)?(px|pt|em|rem))$/i;
const display = /^(block|inline|inline-block|none|table|table-row|table-cell|table-row-group|table-header-group|table-footer-group|list-item)$/i;

const allowedCss: Record<string, RegExp> = {
  ...Object.fromEntries(
    ['color', 'background-color', 'font-family', 'font-style', 'font-weight', 'text-align', 'text-decoration', 'text-transform', 'white-space', 'vertical-align', 'direction',
      'border', 'border-top', 'border-right', 'border-bottom', 'border-left', 'border-color', 'border-style', 'border-width', 'border-collapse', 'border-spacing', 'border-radius', 'list-style-type',
    ].map((property) => [property, modestValue]),
  ),
  ...Object.fromEntries(['margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left', 'padding', 'padding-top', 'padding-right', 'padding-bottom', 'padding-left', 'text-indent'].map((property) => [property, spacing])),
  ...Object.fromEntries(['width', 'height', 'max-width', 'min-width', 'max-height', 'min-height'].map((property) => [property, boxSize])),
  'font-size': fontSize,
  'line-height': lineHeight,
  'letter-spacing': letterSpacing,
  display,
  float: /^(left|right|none)$/i,
  clear: /^(left|right|both|none)$/i,
};

const remoteUrl = /^https?:\/\//i;

/** Returns the safe HTML and how many remote images were blocked. */
export function sanitizeEmailHtml(dirty: string): SanitizedHtml {
  let remoteImagesBlocked = 0;
  const html = sanitizeHtml(dirty, {
    allowedTags,
    disallowedTagsMode: 'discard',
    allowedAttributes: {
      '*': ['style', 'dir', 'lang', 'title', 'align'],
      a: ['href', 'name', 'target', 'rel'],
      img: ['src', 'alt', 'width', 'height', 'data-blocked-src'],
      font: ['color', 'size', 'face'],
      table: ['border', 'cellpadding', 'cellspacing', 'width', 'bgcolor'],
      td: tableCell,
      th: tableCell,
      tr: ['valign', 'bgcolor'],
      ol: ['start', 'type'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['cid'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    allowedStyles: { '*': Object.fromEntries(Object.entries(allowedCss).map(([property, pattern]) => [property, [pattern]])) },
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' } }),
      img: (tagName, attribs) => {
        // Only this transform may set data-blocked-src; a sender's own value is dropped.
        const { src: rawSrc, 'data-blocked-src': _senderValue, ...rest } = attribs;
        const src = (rawSrc ?? '').trim();
        if (/^cid:/i.test(src)) return { tagName, attribs: { ...rest, src } };
        if (src) remoteImagesBlocked += 1;
        // The address is kept inert (not a URL attribute any browser loads) only when it is plain http(s).
        return { tagName, attribs: remoteUrl.test(src) ? { ...rest, 'data-blocked-src': src } : rest };
      },
    },
  });
  return { html, remoteImagesBlocked };
}
