// A real button that plays a short clip (the landing page's tone demo). The <audio> element is
// created on first press, so nothing is downloaded until the visitor asks for it.
import { useRef, useState } from "react";

export function PlayButton({ src, label, children, className, style }) {
  const audio = useRef(null);
  const [playing, setPlaying] = useState(false);
  const [played, setPlayed] = useState(false);
  const play = () => {
    if (!audio.current) {
      audio.current = new Audio(src);
      audio.current.addEventListener("ended", () => setPlaying(false));
      audio.current.addEventListener("pause", () => setPlaying(false));
      audio.current.addEventListener("playing", () => {
        setPlaying(true);
        setPlayed(true);
      });
    }
    audio.current.currentTime = 0;
    audio.current.play().catch(() => setPlaying(false));
  };
  return (
    <button
      type="button"
      onClick={play}
      aria-label={label}
      data-playing={playing ? "true" : "false"}
      data-played={played ? "true" : "false"}
      className={className}
      style={style}
    >
      {children}
    </button>
  );
}
