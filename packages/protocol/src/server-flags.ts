/** Server flags with a meaning (DESIGN §2). Apart from the schemas so that browser bundles can use it cheaply. */
export const SERVER_FLAGS = { ENABLE_OTP: 'ENABLE_OTP', NO_NUMBER_MATCHING: 'NO_NUMBER_MATCHING' } as const;
