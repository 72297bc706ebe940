"""Curriculum: beginner units, role-play dialogues and tone drills, shipped as validated data.

Content lives in `content/` as JSON; `loader` parses and validates it, `service` answers queries,
`reference_audio` renders the reference voice for every speakable line. Import the query functions
from `sayzhong.curriculum.service`.
"""
