import { useAudio, type AudioDevice } from '../store/audio-store.js';

/** List the microphones and speakers (their names appear once the microphone was allowed), into the audio store. */
export async function refreshAudioDevices(): Promise<void> {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices().catch(() => [] as MediaDeviceInfo[]);
  const list = (kind: MediaDeviceKind): AudioDevice[] =>
    devices.filter((d) => d.kind === kind).map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${kind === 'audioinput' ? 'Microphone' : 'Speaker'} ${i + 1}` }));
  useAudio.setState({ inputs: list('audioinput'), outputs: list('audiooutput'), canPickOutput: typeof AudioContext !== 'undefined' && 'setSinkId' in AudioContext.prototype });
}
