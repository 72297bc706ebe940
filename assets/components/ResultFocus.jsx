// A result region that takes keyboard focus (and scrolls into view) each time a new result arrives,
// so on a phone the verdicts below the fold are brought to the learner and screen readers land on
// them. `focusKey` changes once per result (the attempt id); an empty key does nothing.
import { useEffect, useRef } from "react";

export function ResultFocus({ focusKey, children, ref: outerRef, ...rest }) {
  // Reflex hands components with an id its own `ref`; keep ours so the effect can reach the node.
  const ref = useRef(null);
  const setRef = (node) => {
    ref.current = node;
    if (typeof outerRef === "function") outerRef(node);
    else if (outerRef) outerRef.current = node;
  };
  useEffect(() => {
    const node = ref.current;
    if (!focusKey || !node) return;
    const reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    node.focus({ preventScroll: true });
    node.scrollIntoView({ behavior: reduce ? "auto" : "smooth", block: "start" });
  }, [focusKey]);
  return (
    <section {...rest} ref={setRef} tabIndex={-1}>
      {children}
    </section>
  );
}
