/**
 * Which MIDI channel a player's hits go out on. Channels here are 0–15 (MIDI's 1–16 on screen).
 * Pure. Players are numbered in the order the DAW first heard of them (numbers never reused), so
 * a friend keeps their channel, and their DAW track, for the whole jam.
 */

export type ChannelMode = 'drums-on-10' | 'per-player' | 'one';

export interface ChannelPlan {
  /**
   * `drums-on-10`: drum players on channel 10 (GM's drum channel), each melodic player their own;
   * `per-player`: every phone its own channel, drums too (each friend a track), the laptop on 10;
   * `one`: everyone on `channel`.
   */
  mode: ChannelMode;
  /** For `one`: the channel, 0–15. */
  channel: number;
}

/** GM's percussion channel (10 on screen). */
export const DRUM_CHANNEL = 9;
export const DEFAULT_PLAN: ChannelPlan = { mode: 'drums-on-10', channel: DRUM_CHANNEL };
export const CHANNEL_MODES: readonly ChannelMode[] = ['drums-on-10', 'per-player', 'one'];

/** Players' channels in the order they are given out: all but the drum channel (15; the 16th player shares the first's). */
export const PLAYER_CHANNELS: readonly number[] = Array.from({ length: 16 }, (_, i) => i).filter(
  (channel) => channel !== DRUM_CHANNEL,
);

/**
 * The channel of player number `player` (≥ 0; −1 for the laptop, which plays the drum kit),
 * playing drums or a melodic part.
 */
export function channelFor(plan: ChannelPlan, player: number, drums: boolean): number {
  if (plan.mode === 'one') return plan.channel & 0x0f;
  if (player < 0) return DRUM_CHANNEL;
  if (plan.mode === 'drums-on-10' && drums) return DRUM_CHANNEL;
  return PLAYER_CHANNELS[player % PLAYER_CHANNELS.length] as number;
}

/** A channel as people read it: 1–16. */
export const channelName = (channel: number): string => String(channel + 1);
