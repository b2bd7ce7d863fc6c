/** A file the phone produced (a call export, the contacts as vCard) offered to the user as a download / save dialog. */
export interface SavableFile {
  fileName: string;
  mimeType: string;
  encoding?: 'utf8' | 'base64';
  data: string;
}

export function saveFile(file: SavableFile): void {
  const bytes = file.encoding === 'base64' ? Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0)) : new TextEncoder().encode(file.data);
  const url = URL.createObjectURL(new Blob([bytes], { type: file.mimeType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
