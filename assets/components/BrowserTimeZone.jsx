// Reports the browser's IANA time zone (e.g. "Europe/London") once, on mount, through `onDetect`,
// so the e-mail preference page can offer it for reminders. The Intl API is read directly: no
// strings are evaluated (the Content-Security-Policy has no 'unsafe-eval', so `rx.call_script`
// cannot be used). The server validates the name against zoneinfo before storing anything.
import { useEffect } from "react";

export function BrowserTimeZone({ onDetect }) {
  useEffect(() => {
    let zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      zone = "";
    }
    if (onDetect && typeof zone === "string" && zone.length <= 64) onDetect(zone);
  }, []);
  return null;
}
