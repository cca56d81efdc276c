export * from './platform.js';
export { TapinDevice, type TapinDeviceOptions, CLIENT_VERSION } from './device.js';
export { DeviceHttp } from './device-http.js';
export { checkServerParams, enrolAccount, PIN_RE } from './enrol.js';
export { answerSession, fetchSession } from './login.js';
