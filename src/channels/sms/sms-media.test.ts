import { isTwilioMediaRedirect, isTwilioMediaUrl } from './sms-media';

const media = 'https://api.twilio.com/2010-04-01/Accounts/AC123/Messages/MM123/Media/ME123';

describe('isTwilioMediaUrl', () => {
  it.each([media, 'https://API.TWILIO.COM/2010-04-01/x', 'https://media.twiliocdn.twilio.com/x', 'https://twilio.com/x'])(
    'when the URL is on a Twilio host over https (%s), then it is trusted',
    (url) => expect(isTwilioMediaUrl(url)).toBe(true),
  );

  it.each([
    'https://api.twilio.com.evil.com/2010-04-01/x',
    'https://eviltwilio.com/x',
    'https://evil.com/api.twilio.com/x',
    'https://evil.com/?host=api.twilio.com',
    'https://api.twilio.com@evil.com/x',
    'https://user:pass@api.twilio.com/x',
    'https://evil.com\\@api.twilio.com/x',
    'https://evil.com#@api.twilio.com',
    'https://api.twilio.com%2eevil.com/x',
    'http://api.twilio.com/x',
    'https://api.twilio.com:8443/x',
    'http://169.254.169.254/latest/meta-data/',
    'https://169.254.169.254/',
    'https://[::1]/x',
    'http://127.0.0.1:9/x',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'ftp://api.twilio.com/x',
    'not a url',
    '',
  ])('when the URL is %j, then it is refused', (url) => expect(isTwilioMediaUrl(url)).toBe(false));

  it('when an API base URL is configured, then exactly its origin is trusted too, not its neighbours', () => {
    const base = 'http://127.0.0.1:4010';
    expect(isTwilioMediaUrl('http://127.0.0.1:4010/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1', base)).toBe(true);
    expect(isTwilioMediaUrl('http://127.0.0.1:4011/x', base)).toBe(false);
    expect(isTwilioMediaUrl('http://localhost:4010/x', base)).toBe(false);
    expect(isTwilioMediaUrl('http://u:p@127.0.0.1:4010/x', base)).toBe(false);
    expect(isTwilioMediaUrl(media, base)).toBe(true);
  });
});

describe('isTwilioMediaRedirect', () => {
  it.each([media, 'https://mms.twiliocdn.com/AC1/abc?Expires=1', 'https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/abc'])(
    'when a media download is redirected to Twilio or its CDN (%s), then the redirect is followed',
    (url) => expect(isTwilioMediaRedirect(url)).toBe(true),
  );

  it.each([
    'https://mms.twiliocdn.com.evil.com/x',
    'http://mms.twiliocdn.com/x',
    'https://mms.twiliocdn.com:444/x',
    'https://u:p@mms.twiliocdn.com/x',
    'https://s3-external-1.amazonaws.com/attacker-bucket/x',
    'https://s3-external-1.amazonaws.com/media.twiliocdn.com.evil/x',
    'http://169.254.169.254/latest/meta-data/',
    'https://evil.com/x',
  ])('when a media download is redirected to %j, then the redirect is refused', (url) => expect(isTwilioMediaRedirect(url)).toBe(false));
});
