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

// Visual CSS only; any value mentioning url(), expression() or escapes is dropped (see safeCssValue).
const allowedCssProperties = [
  'color', 'background-color', 'font', 'font-family', 'font-size', 'font-style', 'font-weight', 'text-align', 'text-decoration',
  'text-indent', 'text-transform', 'line-height', 'letter-spacing', 'white-space', 'vertical-align', 'direction',
  'margin', 'margin-top', 'margin-right', 'margin-bottom', 'margin-left', 'padding', 'padding-top', 'padding-right',
  'padding-bottom', 'padding-left', 'border', 'border-top', 'border-right', 'border-bottom', 'border-left', 'border-color',
  'border-style', 'border-width', 'border-collapse', 'border-spacing', 'border-radius', 'width', 'height', 'max-width',
  'min-width', 'display', 'float', 'clear', 'list-style-type',
];
const safeCssValue = /^(?!.*(url\s*\(|expression|javascript|vbscript|\\|@import|behavior|-moz-binding))[^<>"]*$/i;

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
    allowedStyles: { '*': Object.fromEntries(allowedCssProperties.map((property) => [property, [safeCssValue]])) },
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
