// A DPoP client built on panva's oauth4webapi, for tests/test_dpop_end_to_end.py.
//
// Usage: node client.mjs '<json>' with {issuer, clientId, clientSecret, resource, api, algs}.
// For each DPoP algorithm in `algs` it gets a DPoP-bound access token from the
// authorization server (client credentials, RFC 8707 resource) and calls the API:
//   accepted   GET {api}/notes with a real proof
//   replayed   that request again, byte for byte (captured through customFetch)
//   bearer     the same token sent with the Bearer scheme
//   otherKey   the same token with a proof from another key
//   nonce      GET {api}/nonce/notes: the server wants a nonce; oauth4webapi's documented
//              single retry after use_dpop_nonce
// and prints one JSON line: {alg: {step: {status, challenges, ...}}}.
import * as oauth from 'oauth4webapi';

const config = JSON.parse(process.argv[2]);
const insecure = { [oauth.allowInsecureRequests]: true }; // loopback http, tests only

async function answer(response) {
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, nonce: response.headers.get('dpop-nonce') };
}

function refusal(error) {
  if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
  return {
    status: error.status,
    challenges: error.cause.map(({ scheme, parameters }) => ({ scheme, ...parameters })),
    nonce: error.response.headers.get('dpop-nonce'),
    nonceError: oauth.isDPoPNonceError(error),
  };
}

async function call(accessToken, path, dpop, captured) {
  const capture = async (url, init) => {
    captured?.push({ url, init });
    return fetch(url, init);
  };
  try {
    const response = await oauth.protectedResourceRequest(
      accessToken, 'GET', new URL(config.api + path), undefined, null,
      { DPoP: dpop, [oauth.customFetch]: capture, ...insecure });
    return await answer(response);
  } catch (error) {
    return refusal(error);
  }
}

async function resend({ url, init }) {
  const response = await fetch(url, init);
  return { ...(await answer(response)), challenge: response.headers.get('www-authenticate') };
}

async function flow(as, alg) {
  const client = { client_id: config.clientId };
  const keyPair = await oauth.generateKeyPair(alg);
  const dpop = oauth.DPoP(client, keyPair);
  const tokenResponse = await oauth.clientCredentialsGrantRequest(
    as, client, oauth.ClientSecretBasic(config.clientSecret),
    { resource: config.resource, scope: 'notes:read' }, { DPoP: dpop, ...insecure });
  const token = await oauth.processClientCredentialsResponse(as, client, tokenResponse);
  const steps = { tokenType: token.token_type, jkt: await dpop.calculateThumbprint() };

  const captured = [];
  steps.accepted = await call(token.access_token, '/notes', dpop, captured);
  steps.replayed = await resend(captured[0]);
  const bearer = { ...captured[0].init, headers: { ...captured[0].init.headers } };
  delete bearer.headers.dpop;
  bearer.headers.authorization = `Bearer ${token.access_token}`;
  steps.bearer = await resend({ url: captured[0].url, init: bearer });
  const thief = oauth.DPoP(client, await oauth.generateKeyPair(alg));
  steps.otherKey = await call(token.access_token, '/notes', thief);

  // RFC 9449 §9: the first try has no nonce; oauth4webapi keeps the one the 401 carries.
  // (A handle of its own for the same key: the first one holds no nonce, but be sure.)
  const fresh = oauth.DPoP(client, keyPair);
  steps.nonceFirst = await call(token.access_token, '/nonce/notes', fresh);
  steps.nonceRetry = steps.nonceFirst.nonceError
    ? await call(token.access_token, '/nonce/notes', fresh)
    : null;
  return steps;
}

const issuer = new URL(config.issuer);
const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
const results = {};
for (const alg of config.algs) {
  results[alg] = await flow(as, alg);
}
process.stdout.write(JSON.stringify(results) + '\n');
