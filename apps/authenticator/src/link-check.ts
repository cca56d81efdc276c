import { TapinError, parseLink } from '@tapin/protocol';

/**
 * Why a scanned or pasted text is not a link this app can open, in words for the user; undefined when it is one.
 * The SDK parses the link again when it opens it: this is only the early, friendly answer.
 */
export function linkProblem(text: string): string | undefined {
  try {
    parseLink(text);
    return undefined;
  } catch (err) {
    if (err instanceof TapinError && err.code === 'qr_unknown_type') return 'This Tapin code is of a kind this app does not know yet.';
    return 'This is not a Tapin login or enrol link. It should look like https://…/q/… or https://…/e/….';
  }
}
