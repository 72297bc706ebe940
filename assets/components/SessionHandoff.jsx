// Hands the session to the browser: posts a small form as a top-level navigation, so the
// server route's HttpOnly Set-Cookie applies (sign-in) or is cleared (sign-out).
//
// The server triggers it with `rx.set_value("session-handoff", json)`: Reflex assigns `json` to
// this component's ref, and the setter below builds the form and submits it. Nothing is
// evaluated from a string, so the Content-Security-Policy needs no 'unsafe-eval'.
import { useImperativeHandle } from "react";

function postForm(request) {
  let parsed;
  try {
    parsed = JSON.parse(request);
  } catch (e) {
    console.error("session hand-off: not JSON", e);
    return;
  }
  const action = typeof parsed.action === "string" ? parsed.action : "";
  if (!action) return;
  const form = document.createElement("form");
  form.method = "POST";
  form.action = action;
  form.hidden = true;
  for (const [name, value] of Object.entries(parsed.fields || {})) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = String(value);
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}

export function SessionHandoff({ ref }) {
  useImperativeHandle(ref, () => ({
    set value(request) {
      postForm(request);
    },
    get value() {
      return "";
    },
  }));
  return null;
}
