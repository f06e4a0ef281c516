// An upstream OpenID provider for the federation tests: the npm registry's OpenID-certified
// `oidc-provider`, configured per its documentation, listening on loopback.
//
//   node oidc_upstream.mjs '<settings JSON>'
//
// settings: {"port": 0, "clients": [{client_id, client_secret, redirect_uris,
//            token_endpoint_auth_method}], "accounts": {"<id>": {claims...}}}
// It prints one JSON line {"issuer": "...", "port": N} once it listens, and runs until killed.
// Sign-in uses the library's own development interactions (a login form that takes an
// account id and any password); consent is granted by loadExistingGrant, as for a first-party
// client. An account id that is not in `accounts` fails upstream (findAccount finds nothing).
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const settings = JSON.parse(process.argv[2] || '{}');
const accounts = settings.accounts || {};

const server = createServer();
await new Promise((resolve) => server.listen(settings.port || 0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: settings.clients || [],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'locale', 'picture'],
  },
  // Claims of the granted scopes in the ID token too, not only at userinfo.
  conformIdTokenClaims: false,
  cookies: { keys: ['federation-test-upstream-cookie-key'] },
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    if (!Object.hasOwn(accounts, id)) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...accounts[id] };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope || 'openid');
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (ctx, err) => process.stderr.write(`server_error ${err.stack}\n`));

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
