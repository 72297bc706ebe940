// Card entry with Stripe.js Elements for the billing page, and the browser half of confirming a
// SetupIntent (new card) or a PaymentIntent (the bank's SCA step).
//
// Stripe.js is loaded from `jsUrl` by adding a <script src> element (allowed by the
// Content-Security-Policy when payments are configured), once per window. The card Element is
// mounted into this component's own div, afresh each time `cardNonce` changes. The server asks
// for a confirmation by changing `confirmNonce` (with `confirmSecret` and `confirmKind`:
// "setup" | "payment"); the outcome goes back through `onSetupResult` / `onPaymentResult` as
// `{ok: true}` or `{error: "plain words"}`. Nothing is evaluated from a string, so the policy
// needs no 'unsafe-eval'.
import { useCallback, useEffect, useRef } from "react";

const loads = {};

function loadStripeJs(src) {
  if (typeof window.Stripe !== "undefined") return Promise.resolve(window.Stripe);
  if (!loads[src]) {
    loads[src] = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = () => resolve(window.Stripe);
      script.onerror = () => {
        delete loads[src];
        script.remove();
        reject(new Error("Stripe.js did not load"));
      };
      document.head.appendChild(script);
    });
  }
  return loads[src];
}

function message(e) {
  return e && e.message ? e.message : String(e);
}

export function StripeCard({
  publishableKey = "",
  jsUrl = "",
  cardNonce = 0,
  confirmSecret = "",
  confirmKind = "",
  confirmNonce = 0,
  onSetupResult,
  onPaymentResult,
  ref,
  ...rest
}) {
  // Reflex gives an element with an id a ref of its own; it points at the same div as ours.
  const host = useRef(null);
  const setHost = useCallback(
    (node) => {
      host.current = node;
      if (typeof ref === "function") ref(node);
      else if (ref) ref.current = node;
    },
    [ref],
  );
  // {stripe, key} once Stripe.js is ready for `publishableKey`; `ready` resolves to it (or null).
  const stripeRef = useRef({ stripe: null, key: "", ready: Promise.resolve(null) });
  const cardRef = useRef(null);
  const handlers = useRef({});
  handlers.current = { onSetupResult, onPaymentResult };

  if (publishableKey && jsUrl && stripeRef.current.key !== publishableKey) {
    const slot = { stripe: null, key: publishableKey, ready: null };
    slot.ready = loadStripeJs(jsUrl)
      .then((Stripe) => {
        slot.stripe = Stripe(publishableKey);
        return slot.stripe;
      })
      .catch((e) => {
        console.error("stripe card:", message(e));
        return null;
      });
    stripeRef.current = slot;
  }

  // Mount a fresh card Element for each new card entry.
  useEffect(() => {
    if (!cardNonce) return undefined;
    let stale = false;
    const slot = stripeRef.current;
    slot.ready.then((stripe) => {
      if (stale || !stripe || !host.current) return;
      if (cardRef.current) {
        try {
          cardRef.current.destroy();
        } catch (e) {}
      }
      const card = stripe.elements().create("card");
      card.mount(host.current);
      cardRef.current = card;
    });
    return () => {
      stale = true;
    };
  }, [cardNonce, publishableKey]);

  useEffect(
    () => () => {
      if (cardRef.current) {
        try {
          cardRef.current.destroy();
        } catch (e) {}
        cardRef.current = null;
      }
    },
    [],
  );

  useEffect(() => {
    if (!confirmNonce || !confirmSecret) return;
    const slot = stripeRef.current;
    const card = () => cardRef.current;
    if (confirmKind === "setup") {
      const report = (result) => handlers.current.onSetupResult && handlers.current.onSetupResult(result);
      slot.ready
        .then(async (stripe) => {
          if (!stripe || !card()) {
            return { error: "The card form did not load. Reload the page and try again." };
          }
          const r = await stripe.confirmCardSetup(confirmSecret, { payment_method: { card: card() } });
          if (r.error) return { error: r.error.message || "The card was not accepted." };
          return { ok: true };
        })
        .catch((e) => ({ error: "The card could not be checked: " + message(e) }))
        .then(report);
    } else if (confirmKind === "payment") {
      const report = (result) =>
        handlers.current.onPaymentResult && handlers.current.onPaymentResult(result);
      slot.ready
        .then(async (stripe) => {
          if (!stripe) return { error: "Reload the page and press Confirm payment again." };
          const r = await stripe.confirmCardPayment(confirmSecret);
          if (r.error) return { error: r.error.message || "The payment was not confirmed." };
          return { ok: true };
        })
        .catch((e) => ({ error: "The payment could not be confirmed: " + message(e) }))
        .then(report);
    }
  }, [confirmNonce]);

  return <div {...rest} ref={setHost} />;
}
