// The browser's side of cookie consent, without evaluating strings (the Content-Security-Policy has
// no 'unsafe-eval', so `rx.call_script` cannot be used):
//
// - On mount it reads the Global Privacy Control signal (`navigator.globalPrivacyControl === true`)
//   and hands the boolean to `onGpc`, which asks the server for the consent status.
// - The page-view beacon: only after the server has checked the stored consent does it send
//   `rx.set_value("consent-signals", json)`; Reflex assigns `json` ({"url", "path"}) to this
//   component's ref and the setter below POSTs the event. The capture route checks consent again.
//   A one-shot value (not a state var), so reloading a page never replays an earlier beacon.
import { useEffect, useImperativeHandle } from "react";

function sendPageView(request) {
  let parsed;
  try {
    parsed = JSON.parse(request);
  } catch (e) {
    console.error("consent signals: not JSON", e);
    return;
  }
  const url = typeof parsed.url === "string" ? parsed.url : "";
  const path = typeof parsed.path === "string" ? parsed.path : "";
  if (!url) return;
  fetch(url, {
    method: "POST",
    credentials: "include",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ event: "page_viewed", path }),
    keepalive: true,
  }).catch(() => {});
}

export function ConsentSignals({ ref, onGpc }) {
  useImperativeHandle(ref, () => ({
    set value(request) {
      sendPageView(request);
    },
    get value() {
      return "";
    },
  }));
  useEffect(() => {
    const gpc = typeof navigator !== "undefined" && navigator.globalPrivacyControl === true;
    if (onGpc) onGpc(gpc);
  }, []);
  return null;
}
