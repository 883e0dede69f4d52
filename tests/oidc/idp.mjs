// A real OpenID Provider for the SSO browser test (RECIPES §9): panva/oidc-provider on
// 127.0.0.1 only. Any login name is accepted by its dev form; the ID token carries email,
// name and the groups this file assigns (IDP_GROUPS: "login=group1|group2,...").
import Provider from 'oidc-provider';

const PORT = Number(process.env.IDP_PORT || 9411);
const UI = process.env.UI || 'http://127.0.0.1:8501';
const GROUPS = Object.fromEntries((process.env.IDP_GROUPS || '').split(',').filter(Boolean)
  .map((pair) => { const [who, groups] = pair.split('='); return [who, groups.split('|')]; }));

const oidc = new Provider(`http://127.0.0.1:${PORT}`, {
  clients: [{
    client_id: 'alertdesk', client_secret: process.env.IDP_CLIENT_SECRET || 'alertdesk-test-secret',
    redirect_uris: [`${UI}/oauth2callback`], post_logout_redirect_uris: [`${UI}/oauth2callback`],
    grant_types: ['authorization_code'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  async findAccount(ctx, sub) {
    return { accountId: sub, claims: async () => ({
      sub, email: `${sub}@example.test`, name: `User ${sub}`, groups: GROUPS[sub] || [] }) };
  },
  claims: { openid: ['sub'], email: ['email'], profile: ['name'], groups: ['groups'] },
  conformIdTokenClaims: false,
  async loadExistingGrant(ctx) {
    const { client, session, params, provider } = ctx.oidc;
    const id = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (id) return provider.Grant.find(id);
    const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope(params.scope);
    await grant.save();
    return grant;
  },
});
oidc.listen(PORT, '127.0.0.1', () => console.log(`listening ${PORT}`));
