import { create } from 'zustand';

export type AudioStatus = 'idle' | 'starting' | 'running' | 'no-microphone' | 'unsupported' | 'failed';

export interface AudioDevice {
  deviceId: string;
  label: string;
}

export interface AudioState {
  status: AudioStatus;
  /** Why the bridge is not running, for the user. */
  problem?: string;
  /** RMS levels, 0-1 of full scale: what the microphone sends and what the speaker plays. */
  inputLevel: number;
  outputLevel: number;
  inputs: AudioDevice[];
  outputs: AudioDevice[];
  /** The browser can route output to a chosen device (AudioContext.setSinkId). */
  canPickOutput: boolean;
  inputId: string;
  outputId: string;
  /** Where the ringtone plays ('' = on the speaker, `outputId`), and how loud (0-1). */
  ringerId: string;
  ringVolume: number;
  /** The browser has not let the page play sound yet (no click on it): the ringtone cannot sound. */
  ringerBlocked: boolean;
  setInput(id: string): void;
  setOutput(id: string): void;
  setRinger(id: string): void;
  setRingVolume(volume: number): void;
}

const stored = (key: string): string => {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
};
const store = (key: string, value: string): void => {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage unavailable (private mode): the choice lasts for this session
  }
};

/** The audio bridge's state for the views (levels, devices); the bridge itself lives in renderer/audio. */
export const useAudio = create<AudioState>((set) => ({
  status: 'idle',
  inputLevel: 0,
  outputLevel: 0,
  inputs: [],
  outputs: [],
  canPickOutput: false,
  inputId: stored('veilphone.audio.input'),
  outputId: stored('veilphone.audio.output'),
  ringerId: stored('veilphone.audio.ringer'),
  ringVolume: storedVolume(stored('veilphone.audio.ring-volume')),
  ringerBlocked: false,
  setInput: (id) => {
    store('veilphone.audio.input', id);
    set({ inputId: id });
  },
  setOutput: (id) => {
    store('veilphone.audio.output', id);
    set({ outputId: id });
  },
  setRinger: (id) => {
    store('veilphone.audio.ringer', id);
    set({ ringerId: id });
  },
  setRingVolume: (volume) => {
    const clamped = storedVolume(String(volume));
    store('veilphone.audio.ring-volume', String(clamped));
    set({ ringVolume: clamped });
  },
}));

/** A stored volume (0-1), or the default 0.8 for one never set or unreadable. */
export function storedVolume(text: string): number {
  const value = Number(text);
  return text.trim() === '' || !Number.isFinite(value) ? 0.8 : Math.max(0, Math.min(1, value));
}
