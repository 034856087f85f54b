"""Counselor review: the seeker's consent to share (`consent`), who may read a shared
session (`access`), the dashboard of shared sessions (`dashboard`), the transcript
as a counselor reads it (`transcript`, `export`), notes (`notes`), the support
strategies of the coach's replies (`strategies`) and the audit log (`audit`).

Sits beside `plans`: it reads coaching sessions, safety flags and plans, and only
the web area imports it. Nothing here is ever put into a prompt.
"""
