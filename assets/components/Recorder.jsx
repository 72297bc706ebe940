// SayZhong microphone recorder: getUserMedia + MediaRecorder with a live level meter, a timer,
// automatic stop after trailing silence (or the time limit), upload to the authenticated scoring
// route, and a kept take so a failed upload can be retried without re-recording.
import { useEffect, useRef, useState } from "react";

// Animation frames arrive every ~16 ms; a longer wait between two is time the level meter did not see.
const STALL_MS = 200;

const MIME_CANDIDATES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus"];

function pickMimeType() {
  if (typeof MediaRecorder === "undefined") return "";
  for (const type of MIME_CANDIDATES) {
    if (MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(type)) return type;
  }
  return "";
}

function newKey() {
  if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
  return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
}

function micErrorCode(err) {
  const name = (err && err.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError") return "mic_denied";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "mic_missing";
  if (name === "NotReadableError") return "mic_busy";
  return "mic_error";
}

const buttonStyle = (primary, disabled) => ({
  display: "inline-flex",
  alignItems: "center",
  gap: "8px",
  padding: "10px 18px",
  borderRadius: "999px",
  border: primary ? "none" : "1px solid var(--gray-7)",
  background: disabled ? "var(--gray-5)" : primary ? "var(--accent-9)" : "var(--color-panel-solid)",
  color: primary ? "white" : "var(--gray-12)",
  fontSize: "15px",
  fontWeight: 600,
  cursor: disabled ? "not-allowed" : "pointer",
});

export function Recorder({
  uploadUrl,
  itemId,
  mode = "practice",
  maxSeconds = 15,
  silenceSeconds = 1.2,
  label = "Record",
  disabled = false,
  onScored,
  onError,
  onStatus,
}) {
  const [status, setStatus] = useState("idle"); // idle | recording | uploading | failed | done
  const [level, setLevel] = useState(0);
  const [elapsed, setElapsed] = useState(0);
  const [takeUrl, setTakeUrl] = useState("");
  const rec = useRef({});

  const report = (next) => {
    setStatus(next);
    if (onStatus) onStatus(next);
  };

  useEffect(() => () => cleanup(true), []);
  // A new prompt forgets the previous take.
  useEffect(() => {
    cleanup(true);
    rec.current.blob = null;
    setTakeUrl("");
    setStatus("idle");
    setLevel(0);
    setElapsed(0);
  }, [itemId]);

  function cleanup(all) {
    const r = rec.current;
    if (r.raf) cancelAnimationFrame(r.raf);
    if (r.timer) clearInterval(r.timer);
    if (r.stream) r.stream.getTracks().forEach((t) => t.stop());
    if (r.audioCtx && r.audioCtx.state !== "closed") r.audioCtx.close().catch(() => {});
    r.raf = r.timer = r.stream = r.audioCtx = null;
    if (all && r.recorder && r.recorder.state === "recording") {
      try { r.recorder.stop(); } catch (e) { /* already stopped */ }
    }
  }

  async function upload() {
    const r = rec.current;
    if (!r.blob) return;
    report("uploading");
    try {
      const response = await fetch(uploadUrl, {
        method: "POST",
        credentials: "include",
        headers: {
          "Content-Type": r.blob.type || "application/octet-stream",
          "X-Item-Id": itemId,
          "X-Mode": mode,
          "Idempotency-Key": r.key,
        },
        body: r.blob,
      });
      let payload = {};
      try { payload = await response.json(); } catch (e) { payload = {}; }
      if (!response.ok) {
        const err = (payload && payload.error) || {};
        report("failed");
        if (onError) onError(err.message || "We could not score that take. Please try again.", err.code || "upload_failed");
        return;
      }
      report("done");
      if (onScored) onScored(String(payload.attempt_id));
    } catch (e) {
      report("failed");
      if (onError) onError("We could not reach SayZhong. Your take is kept — try again when you are back online.", "network");
    }
  }

  async function start() {
    if (status === "recording" || status === "uploading" || disabled) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || typeof MediaRecorder === "undefined") {
      if (onError) onError("This browser cannot record audio. Try a recent Chrome, Edge, Firefox or Safari.", "mic_unsupported");
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, channelCount: 1 },
      });
    } catch (err) {
      if (onError) onError("", micErrorCode(err));
      return;
    }
    const r = rec.current;
    r.stream = stream;
    r.chunks = [];
    r.key = newKey();
    const mimeType = pickMimeType();
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    r.recorder = recorder;
    recorder.ondataavailable = (ev) => { if (ev.data && ev.data.size) r.chunks.push(ev.data); };
    recorder.onstop = () => {
      cleanup(false);
      setLevel(0);
      const blob = new Blob(r.chunks, { type: recorder.mimeType || mimeType || "audio/webm" });
      r.blob = blob;
      if (r.url) URL.revokeObjectURL(r.url);
      r.url = URL.createObjectURL(blob);
      setTakeUrl(r.url);
      if (!r.cancelled) upload();
    };

    const AudioCtx = window.AudioContext || window.webkitAudioContext;
    const audioCtx = new AudioCtx();
    r.audioCtx = audioCtx;
    const analyser = audioCtx.createAnalyser();
    analyser.fftSize = 1024;
    audioCtx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    const started = performance.now();
    let heardSpeech = false;
    let lastLoud = started;
    let lastTick = started;
    const tick = () => {
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
      const rms = Math.sqrt(sum / buf.length);
      const now = performance.now();
      // Time the meter did not see is not silence: a busy page or a hidden tab delays animation
      // frames for seconds while the learner goes on speaking, and the first quiet frame after such
      // a gap used to end the take in the middle of the phrase.
      if (now - lastTick > STALL_MS) lastLoud += now - lastTick;
      lastTick = now;
      setLevel(Math.min(1, rms * 6));
      if (rms > 0.02) { heardSpeech = true; lastLoud = now; }
      const secs = (now - started) / 1000;
      if (secs >= maxSeconds || (heardSpeech && (now - lastLoud) / 1000 >= silenceSeconds && secs > 0.8)) {
        stop();
        return;
      }
      r.raf = requestAnimationFrame(tick);
    };
    r.cancelled = false;
    recorder.start(250);
    r.timer = setInterval(() => setElapsed((performance.now() - started) / 1000), 100);
    report("recording");
    r.raf = requestAnimationFrame(tick);
  }

  function stop() {
    const r = rec.current;
    if (r.recorder && r.recorder.state === "recording") r.recorder.stop();
  }

  const recording = status === "recording";
  const busy = status === "uploading";
  return (
    <div style={{ display: "flex", flexDirection: "column", gap: "10px", width: "100%" }}>
      <div style={{ display: "flex", gap: "10px", alignItems: "center", flexWrap: "wrap" }}>
        {recording ? (
          <button type="button" onClick={stop} style={buttonStyle(true, false)} aria-label="Stop recording">
            <span aria-hidden="true">■</span> Stop
          </button>
        ) : (
          <button
            type="button"
            onClick={start}
            disabled={busy || disabled}
            style={buttonStyle(true, busy || disabled)}
            aria-label={label}
          >
            <span aria-hidden="true">●</span> {busy ? "Scoring…" : label}
          </button>
        )}
        {status === "failed" && rec.current.blob ? (
          <button type="button" onClick={upload} style={buttonStyle(false, false)}>
            Try scoring again
          </button>
        ) : null}
        {takeUrl && !recording ? (
          <button
            type="button"
            style={buttonStyle(false, false)}
            onClick={() => { const a = new Audio(takeUrl); a.play().catch(() => {}); }}
          >
            Play my take
          </button>
        ) : null}
        <span aria-live="polite" style={{ fontVariantNumeric: "tabular-nums", color: "var(--gray-11)" }}>
          {recording ? `Recording… ${elapsed.toFixed(1)} s` : busy ? "Scoring your take…" : ""}
        </span>
      </div>
      <div
        role="meter"
        aria-label="Microphone level"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(level * 100)}
        style={{ height: "8px", width: "100%", maxWidth: "360px", background: "var(--gray-4)", borderRadius: "4px", overflow: "hidden" }}
      >
        <div style={{ height: "100%", width: `${Math.round(level * 100)}%`, background: "var(--accent-9)", transition: "width 60ms linear" }} />
      </div>
    </div>
  );
}
