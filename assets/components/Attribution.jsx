// First-visit attribution (issue 14): once per page load, reports the landing URL's UTM parameters,
// `document.referrer` (the server keeps only its host) and the path to the attribution route, which
// sets the necessary, HttpOnly `sz_src` cookie read at sign-up. No identifier is involved.
import { useEffect } from "react";

const UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
let reported = false; // module scope: client-side navigations do not report again

export function Attribution({ url }) {
  useEffect(() => {
    if (reported || !url || typeof window === "undefined") return;
    reported = true;
    const params = new URLSearchParams(window.location.search);
    const query = {};
    for (const key of UTM) {
      const value = params.get(key);
      if (value) query[key] = value.slice(0, 100);
    }
    fetch(url, {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        path: window.location.pathname,
        referrer: (document.referrer || "").slice(0, 500),
        query,
      }),
      keepalive: true,
    }).catch(() => {});
  }, [url]);
  return null;
}
