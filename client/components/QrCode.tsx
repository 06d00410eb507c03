import { createResource, Show } from 'solid-js';

/** A QR code drawn locally (no image service: the jam may have no internet). */
export function QrCode(props: { text: string; label: string }) {
  const [svg] = createResource(
    () => props.text,
    async (text) => {
      const QRCode = await import('qrcode'); // only the DAW page needs it
      return QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    },
  );
  // The SVG comes from the qrcode library, from our own URL: no user HTML reaches innerHTML.
  return (
    <Show when={svg()}>{(markup) => <div class="qr" role="img" aria-label={props.label} innerHTML={markup()} />}</Show>
  );
}
