// Copies `text` to the clipboard and says so (for a new API token, shown only once).
import { useState } from "react";

export function CopyButton({ text, label, className, style }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch (e) {
      // Clipboard refused (permissions, insecure origin): select the text so Ctrl+C works.
      const node = document.querySelector("[data-copy-source]");
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
        {copied ? "Token copied to the clipboard" : ""}
      </span>
    </>
  );
}
