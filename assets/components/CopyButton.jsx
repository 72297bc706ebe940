// Copies `text` to the clipboard and says so (a new API token, an invite or share link).
// `source`: id of the element to select when the clipboard is refused (default: [data-copy-source]);
// `announce`: what the live region says once copied.
import { useState } from "react";

export function CopyButton({ text, label, announce, source, className, style }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch (e) {
      // Clipboard refused (permissions, insecure origin): select the text so Ctrl+C works.
      const node = source ? document.getElementById(source) : document.querySelector("[data-copy-source]");
      if (node && window.getSelection) {
        const range = document.createRange();
        range.selectNodeContents(node);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
      }
      setCopied(false);
    }
  };
  return (
    <>
      <button type="button" onClick={copy} className={className} style={style}>
        {copied ? "Copied" : label}
      </button>
      <span role="status" aria-live="polite" className="visually-hidden">
        {copied ? announce || "Token copied to the clipboard" : ""}
      </span>
    </>
  );
}
