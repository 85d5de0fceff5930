import { Image } from '@mantine/core';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';

/** A QR code of `text`, drawn in the browser (the text never leaves the page for a QR service). */
export function QrCode({ text, label, size = 200 }: { text: string; label: string; size?: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let cancelled = false;
    QRCode.toDataURL(text, { margin: 2, width: size }).then(
      (url) => !cancelled && setSrc(url),
      () => !cancelled && setSrc(null),
    );
    return () => {
      cancelled = true;
    };
  }, [text, size]);
  return src ? <Image src={src} alt={label} w={size} h={size} data-qr-text-length={text.length} /> : null;
}
