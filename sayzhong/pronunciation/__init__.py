"""Pronunciation engine: expected syllables from text, audio intake, tone analysis and scoring."""
