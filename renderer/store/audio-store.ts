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
  setInput(id: string): void;
  setOutput(id: string): void;
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
  setInput: (id) => {
    store('veilphone.audio.input', id);
    set({ inputId: id });
  },
  setOutput: (id) => {
    store('veilphone.audio.output', id);
    set({ outputId: id });
  },
}));
