// A result region that takes keyboard focus (and scrolls into view) each time a new result arrives,
// so on a phone the verdicts below the fold are brought to the learner and screen readers land on
// them. `focusKey` changes once per result (the attempt id); an empty key does nothing.
import { useEffect, useRef } from "react";

export function ResultFocus({ focusKey, children, ...rest }) {
  const ref = useRef(null);
  useEffect(() => {
    const node = ref.current;
    if (!focusKey || !node) return;
    const reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    node.focus({ preventScroll: true });
    node.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
  }, [focusKey]);
  return (
    <section ref={ref} tabIndex={-1} {...rest}>
      {children}
    </section>
  );
}
