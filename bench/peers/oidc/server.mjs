// The node oidc-provider peer of `make bench` (bench/run.py). Configured as its docs show for
// the grants the bench compares: refresh_token with rotation (rotateRefreshToken: true) and an
// ID token (openid scope), client_credentials, both with JWT access tokens through the
// resourceIndicators feature. In-memory adapter (the library's default), one node process.
//
//   node server.mjs <port> <issuer> <tokens-out> <count>
//
// Before listening it mints <count> refresh tokens (one grant each, as a completed
// authorization_code flow would leave them) and writes them to <tokens-out>, one a line.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, issuer, tokensOut, count] = process.argv.slice(2);
const RESOURCE = 'urn:bench:api';
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };

export const configuration = {
  clients: [
    {
      client_id: 'bench-app',
      client_secret: 'bench-app-secret-0123456789abcdef0123456789',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['https://rp.example/callback'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      client_id: 'bench-service',
      client_secret: 'bench-service-secret-0123456789abcdef01234',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [jwk] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true }),
  }),
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'offline_access', 'email', 'api:read'],
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => RESOURCE,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        if (resource !== RESOURCE) throw new Error('unknown resource');
        return {
          scope: 'api:read',
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
};

const provider = new Provider(issuer, configuration);
provider.proxy = true;

async function mint(n) {
  const client = await provider.Client.find('bench-app');
  const lines = [];
  for (let i = 0; i < n; i += 1) {
    const accountId = `user${i}`;
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    grant.addOIDCScope('openid offline_access email');
    grant.addResourceScope(RESOURCE, 'api:read');
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      accountId,
      client,
      grantId,
      gty: 'authorization_code',
      authTime: Math.floor(Date.now() / 1000),
      scope: 'openid offline_access email api:read',
      resource: RESOURCE,
    });
    lines.push(await token.save());
  }
  writeFileSync(tokensOut, `${lines.join('\n')}\n`);
}

await mint(Number(count || 0));
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${port}`);
});
