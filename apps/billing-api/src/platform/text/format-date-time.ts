/** A date and time in the recipient's time zone and locale ("22 November 2026, 04:21 UTC"). */
export function formatDateTime(iso: string, locale: string, timeZone: string): string {
  const key = `${locale}|${timeZone}`;
  let formatter = DATE_FORMATTERS.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone,
      timeZoneName: 'short',
    });
    // Building a formatter costs far more than using one; the bound keeps odd inputs from growing this.
    if (DATE_FORMATTERS.size >= 256) DATE_FORMATTERS.clear();
    DATE_FORMATTERS.set(key, formatter);
  }
  return formatter.format(new Date(iso));
}

const DATE_FORMATTERS = new Map<string, Intl.DateTimeFormat>();
