/**
 * Recognises SIP scanners by their User-Agent (or the Server/From display name some tools set):
 * `needles` are lower-case substrings such as `friendly-scanner` or `sipvicious`.
 */
export class ScannerDetector {
  private readonly needles: readonly string[];

  constructor(needles: readonly string[]) {
    this.needles = needles.map((needle) => needle.toLowerCase()).filter((needle) => needle.length > 0);
  }

  isScanner(userAgent: string | undefined): boolean {
    if (!userAgent) return false;
    const ua = userAgent.toLowerCase();
    return this.needles.some((needle) => ua.includes(needle));
  }
}
