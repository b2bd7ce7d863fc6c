import { useEffect, useRef } from 'react';
import { useAudio } from '../store/audio-store.js';
import { usePhone } from '../store/phone-store.js';
import { playbackCall } from './audio-call.js';
import { AudioBridge, type AudioProbe } from './audio-bridge.js';
import { refreshAudioDevices } from './devices.js';

declare global {
  interface Window {
    /** The audio bridge's levels and tone check, for diagnostics and the end-to-end tests. */
    veilphoneAudio?: AudioProbe;
  }
}

/**
 * Runs the audio bridge while a call is established or plays early media (what the microphone takes then is dropped
 * by the core, never sent) and points it at the call in focus; applies device choices from the settings as they change.
 */
export function useAudioBridge(): void {
  const api = usePhone((s) => s.api);
  const callId = usePhone((s) => playbackCall(s.calls)?.id);
  const inCall = callId !== undefined;
  const inputId = useAudio((s) => s.inputId);
  const outputId = useAudio((s) => s.outputId);
  const bridge = useRef<AudioBridge | undefined>(undefined);
  const current = useRef<string | undefined>(undefined);
  current.current = callId;

  useEffect(() => {
    const port = api?.audio;
    if (!port || !inCall) return;
    const created = new AudioBridge(port, {
      status: (status, problem) => useAudio.setState({ status, problem }),
      levels: (input, output) => useAudio.setState({ inputLevel: input, outputLevel: output }),
    });
    bridge.current = created;
    window.veilphoneAudio = created.probe;
    created.setCall(current.current);
    const { inputId: input, outputId: output } = useAudio.getState();
    void created.start({ ...(input ? { inputId: input } : {}), ...(output ? { outputId: output } : {}) }).then(() => refreshAudioDevices());
    return () => {
      created.stop();
      bridge.current = undefined;
      useAudio.setState({ status: 'idle', inputLevel: 0, outputLevel: 0 });
    };
  }, [api, inCall]);

  useEffect(() => bridge.current?.setCall(callId), [callId]);
  useEffect(() => void bridge.current?.setInput(inputId), [inputId]);
  useEffect(() => void bridge.current?.setOutput(outputId), [outputId]);
}
