"""Legal documents (versioned Markdown under `legal/`) and the append-only record of acceptances."""
