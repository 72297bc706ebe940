// Marketing tags (issue 14): inserts each configured tag's <script src> into the document — only
// when rendered, and the consent banner renders this component only after the server confirmed the
// visitor accepted the *marketing* category. No inline script and nothing evaluated: the
// Content-Security-Policy allows exactly the operator's allow-listed tag hosts.
import { useEffect } from "react";

export function MarketingTags({ scripts }) {
  useEffect(() => {
    const list = Array.isArray(scripts) ? scripts : [];
    for (const src of list) {
      if (typeof src !== "string" || !/^https?:\/\//.test(src)) continue;
      const already = Array.from(document.querySelectorAll("script[data-sz-tag]")).some(
        (node) => node.getAttribute("data-sz-tag") === src,
      );
      if (already) continue;
      const script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.setAttribute("data-sz-tag", src);
      document.head.appendChild(script);
    }
  }, [JSON.stringify(scripts || [])]);
  return null;
}
