"""Safety: the crisis screen (`crisis`), the safety step of a turn and careful mode
(`screening`, `careful`), the fixed crisis replies and the resources of each
region (`replies`, `resources`), the output guard that checks every model reply
before it is stored and shown (`output_guard`), and the daily referral counts
(`referrals`). `rules` loads them all once per app.

It may import providers, guide and storage; never coaching or the web.
"""
