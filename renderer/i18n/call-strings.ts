/**
 * Strings of the several-calls and transfer views (CallList, TransferControl), in English and Japanese. Kept beside
 * strings.ts so that each group of views owns its table; `translate` reads it too.
 */
const en = {
  otherCalls: 'Other calls',
  waitingCall: 'Call waiting',
  answerHold: 'Hold and answer',
  answerEnd: 'End and answer',
  swapTo: 'Swap',
  held: 'On hold',
  transfer: 'Transfer',
  transferTo: 'Transfer to',
  transferTarget: 'Transfer to number or user',
  transferBlind: 'Transfer now',
  consult: 'Call first',
  connectTo: 'Connect {party} here',
  transfer_requested: 'Transfer requested…',
  transfer_trying: 'Transferring…',
  transfer_succeeded: 'Transferred',
  transfer_failed: 'Transfer failed',
  transferredFrom: 'Transferred call',
  replacedCall: 'Transferred to you',
  error_TRANSFER_FAILED: 'The transfer was refused',
  contacts: 'Contacts',
  contactMatches: 'Matching contacts',
  addContact: 'Add to contacts',
  deleteContact: 'Delete contact',
  contactName: 'Name',
  contactNumber: 'Contact number or SIP address',
  alwaysAnonymous: 'Always anonymous',
  favourite: 'Favourite',
  error_UNKNOWN_CONTACT: 'That contact is no longer in the address book',
} as const;

export type CallStringKey = keyof typeof en;

const ja: Record<CallStringKey, string> = {
  otherCalls: 'ほかの通話',
  waitingCall: '割込着信',
  answerHold: '保留して応答',
  answerEnd: '終了して応答',
  swapTo: '切替',
  held: '保留中',
  transfer: '転送',
  transferTo: '転送先',
  transferTarget: '転送先の番号またはユーザー名',
  transferBlind: 'すぐに転送',
  consult: '先に発信',
  connectTo: '{party}をこちらにつなぐ',
  transfer_requested: '転送を依頼中…',
  transfer_trying: '転送中…',
  transfer_succeeded: '転送しました',
  transfer_failed: '転送できませんでした',
  transferredFrom: '転送された通話',
  replacedCall: '転送されてきた通話',
  error_TRANSFER_FAILED: '転送が拒否されました',
  contacts: '連絡先',
  contactMatches: '一致する連絡先',
  addContact: '連絡先に追加',
  deleteContact: '連絡先を削除',
  contactName: '名前',
  contactNumber: '連絡先の番号・SIPアドレス',
  alwaysAnonymous: '常に非通知',
  favourite: 'お気に入り',
  error_UNKNOWN_CONTACT: 'その連絡先はもうありません',
};

export const callStrings: Record<'en' | 'ja', Record<CallStringKey, string>> = { en, ja };
