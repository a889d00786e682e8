// A certified OpenID provider (panva/node-oidc-provider) on 127.0.0.1 for
// tests/test_oidc_provider.py. It issues JWT access tokens (RFC 9068) with the
// client-credentials grant and a resource indicator (RFC 8707).
//
// Usage: node server.mjs PORT   (0: a free port). The first stdout line is JSON:
// {"issuer": ..., "kids": [...]}. Test-only endpoints, for key rotation:
//   POST /_rotate  a new signing key goes first (it signs from now on); the old ones stay published
//   POST /_retire  only the newest key stays published
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

export const CLIENT = { id: 'agent', secret: 'a-client-secret-of-enough-length-1234' };

function newKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

function provider(issuer, keys) {
  return new Provider(issuer, {
    clients: [{
      client_id: CLIENT.id,
      client_secret: CLIENT.secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (ctx, resourceIndicator) => ({
          scope: 'notes:read notes:write',
          audience: resourceIndicator,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
}

const port = Number(process.argv[2] ?? 0);
let keys = [newKey()];
let current = null;
const server = createServer((req, res) => {
  if (req.method === 'POST' && (req.url === '/_rotate' || req.url === '/_retire')) {
    keys = req.url === '/_rotate' ? [newKey(), ...keys] : keys.slice(0, 1);
    current = provider(current.issuer, keys);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kids: keys.map((key) => key.kid) }));
    return;
  }
  current.callback()(req, res);
});
server.listen(port, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  current = provider(issuer, keys);
  process.stdout.write(JSON.stringify({ issuer, kids: keys.map((key) => key.kid) }) + '\n');
});
