"""Practice: scored attempts, tone statistics, FSRS review, XP/streak, onboarding and placement."""
