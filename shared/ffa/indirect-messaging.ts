/** FFA_MSG_SEND2 (docs/ffa-reference.md §2.7): the message itself is in the sender's TX buffer. */
import { EMPTY_SUCCESS_32, type AbiCodec, type NoResult } from './abi-codec.ts';
import { FFA_FIDS } from './function-ids.ts';
import { registers, w } from './registers.ts';
import { assertUint } from './register-fields.ts';

/** w2 flags: Hafnium honours bit 1, delay the schedule receiver interrupt (api.c MSG_SEND2 path). */
export const MSG_SEND2_FLAGS = { delaySri: 1 << 1 } as const;

/** sender: w1[31:16], the VM a hypervisor forwards for (Xen: vm_id << 16); Linux passes w1 = 0. */
export type MsgSend2Args = { sender?: number; flags?: number };

export const msgSend2: AbiCodec<MsgSend2Args, NoResult> = {
  abi: 'FFA_MSG_SEND2',
  fid: FFA_FIDS.FFA_MSG_SEND2,
  args: { sender: 'endpoint', flags: 'send2-flags' },
  encodeCall: ({ sender = 0, flags = 0 }) => registers(FFA_FIDS.FFA_MSG_SEND2, (assertUint('sender', sender, 16) << 16) >>> 0, assertUint('flags', flags, 32)),
  decodeCall: (regs) => ({ args: { sender: w(regs, 1) >>> 16, flags: w(regs, 2) }, violations: [] }),
  success: EMPTY_SUCCESS_32,
};
