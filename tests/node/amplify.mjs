// aws-amplify v6 (the npm registry's package) against Cognate, one step per stdin line.
// Settings (argv[2]): {"endpoint", "userPoolId", "userPoolClientId"}.
import { jwt, MapStorage, recordWire, serve, settings } from './driver.mjs';

recordWire();
// Node 20 has no navigator; Amplify names a new device (ConfirmDevice's DeviceName) from it, as
// a browser would. Without one it skips ConfirmDevice silently.
if (typeof globalThis.navigator === 'undefined') {
  globalThis.navigator = { userAgent: `Node.js/${process.versions.node}` };
}
const { Amplify } = await import('aws-amplify');
const auth = await import('aws-amplify/auth');
const { cognitoUserPoolsTokenProvider } = await import('aws-amplify/auth/cognito');

const config = settings();
Amplify.configure({
  Auth: {
    Cognito: {
      userPoolId: config.userPoolId,
      userPoolClientId: config.userPoolClientId,
      userPoolEndpoint: config.endpoint,
    },
  },
});
// Node has no localStorage: keep the tokens in a Map the test can look into.
const storage = new MapStorage();
if (typeof globalThis.localStorage === 'undefined') {
  cognitoUserPoolsTokenProvider.setKeyValueStorage(storage);
}

const passThrough = [
  'signUp',
  'confirmSignUp',
  'signIn',
  'confirmSignIn',
  'verifyTOTPSetup',
  'updateMFAPreference',
  'fetchMFAPreference',
  'getCurrentUser',
  'fetchUserAttributes',
  'updateUserAttributes',
  'updatePassword',
  'resetPassword',
  'confirmResetPassword',
  'signOut',
  'confirmUserAttribute',
  'sendUserAttributeVerificationCode',
  'deleteUser',
  'resendSignUpCode',
  'autoSignIn',
  'rememberDevice',
  'forgetDevice',
  'fetchDevices',
];
const ops = Object.fromEntries(passThrough.map((name) => [name, (input) => auth[name](input)]));

ops.setUpTOTP = async () => {
  const details = await auth.setUpTOTP();
  return { sharedSecret: details.sharedSecret, setupUri: String(details.getSetupUri('Cognate')) };
};

ops.fetchAuthSession = async (input) => {
  const session = await auth.fetchAuthSession(input);
  return {
    accessToken: jwt(session.tokens?.accessToken),
    idToken: jwt(session.tokens?.idToken),
    userSub: session.userSub,
  };
};

// What the token provider keeps (tokens, refresh token, username), as the test's evidence of a
// local sign-out.
ops.storage = async () => storage.dump();

await serve(ops);
