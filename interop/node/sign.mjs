// panva/jose as an interop peer for jwkverify's tests (tests/test_interop.py).
//
// Reads one JSON job from stdin and writes one JSON answer to stdout, so the whole
// test session costs a single Node process. Every entry has an "id"; its answer is
// results[id]: what jose produced, or {"error": message} when jose refused (an
// algorithm or curve it does not support, for instance).
//
//   sign:       [{id, alg, jwk (private), header, claims}]  -> {token}
//   generate:   [{id, alg, crv?, header, claims}]            -> {token, jwk, thumbprints}
//   export:     [{id, jwk (public), alg}]                    -> {jwk, sha256, sha384, sha512}
//   verify:     [{id, jwks, token, issuer, audience, algorithms, now}]  -> {payload} | {error, code}
//   unsecured:  [{id, claims}]                               -> {token}
import { readFileSync } from "node:fs";
import * as jose from "jose";

const DIGESTS = ["sha256", "sha384", "sha512"];

async function thumbprints(jwk) {
  const out = {};
  for (const digest of DIGESTS) out[digest] = await jose.calculateJwkThumbprint(jwk, digest);
  return out;
}

async function sign({ alg, jwk, header, claims }) {
  const key = await jose.importJWK(jwk, alg);
  const token = await new jose.SignJWT(claims).setProtectedHeader({ ...header, alg }).sign(key);
  return { token };
}

async function generate({ alg, crv, header, claims }) {
  let privateKey, publicKey;
  if (alg.startsWith("HS")) {
    privateKey = publicKey = await jose.generateSecret(alg, { extractable: true });
  } else {
    ({ privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true, ...(crv ? { crv } : {}) }));
  }
  const jwk = await jose.exportJWK(publicKey);
  const token = await new jose.SignJWT(claims).setProtectedHeader({ ...header, alg }).sign(privateKey);
  return { token, jwk, thumbprints: await thumbprints(jwk) };
}

async function verify({ jwks, token, issuer, audience, algorithms, now }) {
  // createLocalJWKSet takes public keys only; a secret is imported on its own.
  const secret = jwks.keys.length === 1 && jwks.keys[0].kty === "oct";
  const keys = secret ? await jose.importJWK(jwks.keys[0], algorithms[0]) : jose.createLocalJWKSet(jwks);
  const options = { issuer, audience, algorithms, currentDate: new Date(now * 1000) };
  const { payload } = await jose.jwtVerify(token, keys, options);
  return { payload };
}

const HANDLERS = {
  sign,
  generate,
  export: async ({ jwk, alg }) => {
    const exported = await jose.exportJWK(await jose.importJWK(jwk, alg, { extractable: true }));
    return { jwk: exported, ...(await thumbprints(jwk)) };
  },
  verify,
  unsecured: async ({ claims }) => ({ token: new jose.UnsecuredJWT(claims).encode() }),
};

const job = JSON.parse(readFileSync(0, "utf8"));
const version = JSON.parse(readFileSync(new URL("./node_modules/jose/package.json", import.meta.url))).version;
const results = {};
for (const [kind, handler] of Object.entries(HANDLERS)) {
  for (const entry of job[kind] ?? []) {
    try {
      results[entry.id] = await handler(entry);
    } catch (error) {
      results[entry.id] = { error: String(error?.message ?? error), code: error?.code ?? null };
    }
  }
}
process.stdout.write(JSON.stringify({ jose: version, node: process.version, results }));
