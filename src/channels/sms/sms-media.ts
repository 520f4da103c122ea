/**
 * Whether a media URL from an inbound webhook may be fetched with our Twilio credentials: only
 * https on Twilio's own hosts (twilio.com or a subdomain, default port), or exactly the origin of
 * the configured API base URL (the local stand-in in tests). Anything else — look-alike hosts
 * (`api.twilio.com.evil.com`), IP literals such as the cloud metadata address, userinfo tricks
 * (`https://api.twilio.com@evil.com`), other schemes — is refused, so a forged or tampered URL can
 * never make us send the auth token elsewhere or probe the internal network.
 */
export function isTwilioMediaUrl(raw: string, apiBaseUrl?: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (apiBaseUrl && sameOrigin(url, apiBaseUrl)) return true;
  if (url.protocol !== 'https:' || url.port !== '') return false;
  const host = url.hostname;
  return host === 'twilio.com' || (host.endsWith('.twilio.com') && /^[a-z0-9.-]+$/.test(host) && !host.includes('..'));
}

function sameOrigin(url: URL, base: string): boolean {
  try {
    const expected = new URL(base);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === expected.origin;
  } catch {
    return false;
  }
}

/**
 * Whether a redirect met while downloading media may be followed: a Twilio media URL as above, or
 * the CDN Twilio hands media out from (https, default port): `*.twiliocdn.com` (media behind HTTP
 * auth), or the `media.twiliocdn.com` bucket on `s3-external-1.amazonaws.com` (older public media).
 * Credentials are never sent along a redirect to another origin, whatever its host.
 */
export function isTwilioMediaRedirect(raw: string, apiBaseUrl?: string): boolean {
  if (isTwilioMediaUrl(raw, apiBaseUrl)) return true;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password || url.protocol !== 'https:' || url.port !== '') return false;
  const host = url.hostname;
  if (host === 's3-external-1.amazonaws.com') return url.pathname.startsWith('/media.twiliocdn.com/');
  return host === 'twiliocdn.com' || (host.endsWith('.twiliocdn.com') && /^[a-z0-9.-]+$/.test(host) && !host.includes('..'));
}
