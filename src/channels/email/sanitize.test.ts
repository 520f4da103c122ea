import { sanitizeEmailHtml } from './sanitize';

describe('sanitizing email HTML', () => {
  it('when HTML carries scripts, event handlers and javascript: URLs, then none survive', () => {
    const { html } = sanitizeEmailHtml(
      '<p onclick="x()">Hi<script>alert(1)</script></p><img src=x onerror=alert(1)><a href="javascript:alert(2)">a</a>' +
        '<a href="&#106;avascript:alert(3)">b</a><a href="  JAVASCRIPT:alert(4)">c</a><svg onload=alert(5)></svg><iframe src="https://x.cn"></iframe>' +
        '<img data-blocked-src="javascript:alert(6)">',
    );
    expect(html).not.toMatch(/<script|onerror|onclick|onload|javascript:|<svg|<iframe/i);
    expect(html).toContain('<p>Hi</p>');
  });

  it('when HTML loads remote images and CSS, then nothing would load and the images are counted', () => {
    const { html, remoteImagesBlocked } = sanitizeEmailHtml(
      '<img src="https://t.example/p.gif" alt="pixel"><img src="//t.example/q.gif"><div style="background:url(https://t.example/bg.gif);color:red">x</div>' +
        '<style>@import url(https://t.example/s.css)</style><link rel=stylesheet href="https://t.example/s.css"><table background="https://t.example/t.gif"><tr><td>c</td></tr></table>',
    );
    expect(remoteImagesBlocked).toBe(2);
    expect(html).not.toMatch(/\ssrc=|url\(|<link|<style|@import|background=/i);
    expect(html).toContain('data-blocked-src="https://t.example/p.gif"');
    expect(html).toContain('alt="pixel"');
    expect(html).toContain('color:red');
  });

  it('when HTML shows inline cid: images and links, then they are kept, links opening safely', () => {
    const { html, remoteImagesBlocked } = sanitizeEmailHtml('<img src="cid:logo@x.cn" alt="logo"><a href="https://dealer.example.cn/">dealer</a><a href="mailto:a@b.cn">mail</a>');
    expect(remoteImagesBlocked).toBe(0);
    expect(html).toContain('<img alt="logo" src="cid:logo@x.cn" />');
    expect(html).toContain('<a href="https://dealer.example.cn/" target="_blank" rel="noopener noreferrer nofollow">dealer</a>');
    expect(html).toContain('href="mailto:a@b.cn"');
  });

  it('when CSS tries expression() or escapes, then the declaration is dropped', () => {
    const { html } = sanitizeEmailHtml('<div style="width: expression(alert(1)); color: blue; font-family: \\65 xpression">x</div>');
    expect(html).not.toMatch(/expression|\\65/);
    expect(html).toContain('color:blue');
  });
});

describe('sanitized email HTML stays inside its box', () => {
  const styleOf = (input: string) => /style="([^"]*)"/.exec(sanitizeEmailHtml(input).html)?.[1] ?? '';

  it('when CSS positions, layers or transforms an element, then those declarations are dropped', () => {
    const style = styleOf(
      '<div style="position:fixed; top:0; left:0; right:0; bottom:0; inset:0; z-index:99999; transform:translate(-500px,-300px); translate:10px; ' +
        'clip-path:inset(0); will-change:transform; color:red">fake login</div>',
    );
    expect(style).not.toMatch(/position|top|left|right|bottom|inset|z-index|transform|translate|clip|will-change/);
    expect(style).toBe('color:red');
  });

  it('when margins or text-indent are negative, then they are dropped while positive spacing stays', () => {
    expect(styleOf('<div style="margin-top:-800px; margin:-10px 0 0 0; text-indent:-9999px; padding:4px">x</div>')).toBe('padding:4px');
    expect(styleOf('<div style="margin:0 auto; margin-left:12px; text-indent:2em">x</div>')).toBe('margin:0 auto;margin-left:12px;text-indent:2em');
  });

  it('when display or float take unusual values, then only the ordinary ones stay', () => {
    expect(styleOf('<div style="display:contents; float:inline-start; color:red">x</div>')).toBe('color:red');
    expect(styleOf('<div style="display:inline-block; float:left">x</div>')).toBe('display:inline-block;float:left');
  });

  it('when sizes are absurd, then they are dropped (a 100000px box covers the desk)', () => {
    expect(styleOf('<div style="width:100000px; min-width:5000vw; height:99999px; font-size:4000px; width:600px">x</div>')).toBe('width:600px');
  });
});
