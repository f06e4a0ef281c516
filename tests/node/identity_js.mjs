// amazon-cognito-identity-js (the npm registry's package) against Cognate, one step per stdin
// line. Settings (argv[2]): {"endpoint", "userPoolId", "clientId"}.
import { jwt, MapStorage, recordWire, serve, settings } from './driver.mjs';

recordWire();
const { default: identity } = await import('amazon-cognito-identity-js');
const { AuthenticationDetails, CognitoUser, CognitoUserPool } = identity;

const config = settings();
const storage = new MapStorage();
// The library's storage interface is synchronous.
const syncStorage = {
  setItem: (key, value) => storage.map.set(key, value),
  getItem: (key) => (storage.map.has(key) ? storage.map.get(key) : null),
  removeItem: (key) => storage.map.delete(key),
  clear: () => storage.map.clear(),
};
const pool = new CognitoUserPool({
  UserPoolId: config.userPoolId,
  ClientId: config.clientId,
  endpoint: config.endpoint,
  Storage: syncStorage,
});

function tokens(session) {
  return {
    idToken: jwt(session.getIdToken().getJwtToken()),
    accessToken: jwt(session.getAccessToken().getJwtToken()),
    refreshToken: session.getRefreshToken().getToken(),
    valid: session.isValid(),
  };
}

function currentUser() {
  const user = pool.getCurrentUser();
  if (!user) throw Object.assign(new Error('no signed-in user'), { name: 'NoCurrentUser' });
  return user;
}

function currentSession(user) {
  return new Promise((resolve, reject) =>
    user.getSession((error, session) => (error ? reject(error) : resolve(session))),
  );
}

// The user whose sign-in waits for a second factor (between signIn and sendMFACode).
let pending = null;

function signInCallbacks(user, resolve, reject) {
  const challenged = (name) => {
    pending = user;
    resolve({ challenge: name });
  };
  return {
    onSuccess: (session) => resolve({ username: user.getUsername(), ...tokens(session) }),
    onFailure: reject,
    newPasswordRequired: () => challenged('NEW_PASSWORD_REQUIRED'),
    mfaRequired: challenged,
    totpRequired: challenged,
  };
}

const ops = {
  // USER_SRP_AUTH (the library's default): PASSWORD_VERIFIER computed by the library.
  signIn: ({ username, password }) =>
    new Promise((resolve, reject) => {
      const user = new CognitoUser({ Username: username, Pool: pool, Storage: syncStorage });
      const details = new AuthenticationDetails({ Username: username, Password: password });
      user.authenticateUser(details, signInCallbacks(user, resolve, reject));
    }),

  // The second factor's code for the sign-in signIn left waiting.
  sendMFACode: ({ code, challenge }) =>
    new Promise((resolve, reject) => {
      if (!pending) throw new Error('no sign-in waits for a code');
      pending.sendMFACode(code, signInCallbacks(pending, resolve, reject), challenge);
    }),

  session: async () => tokens(await currentSession(currentUser())),

  // REFRESH_TOKEN_AUTH with the stored refresh token.
  refresh: async () => {
    const user = currentUser();
    const session = await currentSession(user);
    const refreshed = await new Promise((resolve, reject) =>
      user.refreshSession(session.getRefreshToken(), (error, fresh) =>
        error ? reject(error) : resolve(fresh),
      ),
    );
    return tokens(refreshed);
  },

  getUserAttributes: async () => {
    const user = currentUser();
    await currentSession(user);
    const attributes = await new Promise((resolve, reject) =>
      user.getUserAttributes((error, list) => (error ? reject(error) : resolve(list))),
    );
    return Object.fromEntries(attributes.map((a) => [a.getName(), a.getValue()]));
  },

  // Local sign-out: RevokeToken on the refresh token, then the stored tokens are dropped.
  signOut: async () => {
    const user = currentUser();
    await currentSession(user);
    await new Promise((resolve, reject) =>
      user.signOut((error) => (error ? reject(error) : resolve())),
    );
    return { signedIn: pool.getCurrentUser() !== null };
  },

  globalSignOut: async () => {
    const user = currentUser();
    await currentSession(user);
    await new Promise((resolve, reject) =>
      user.globalSignOut({ onSuccess: resolve, onFailure: reject }),
    );
    return { signedIn: pool.getCurrentUser() !== null };
  },

  storage: async () => storage.dump(),
};

await serve(ops);
