"""The guide as data: its frameworks, the stages and causes, the cause-to-strategy
map (`frameworks`), and the shape of the reflection record (`record`).

Every other area reads these facts from here, and nowhere else. It imports
nothing of the coach but `coach.errors`.
"""
