"""Gunicorn's settings for the coach, the same that `coach serve` uses:

    gunicorn -c gunicorn.conf.py 'coach:create_app()'

The numbers and the reasons for them live in `coach/serving.py` (so that an
installed coach serves alike without this file): gthread workers with 128
threads each, one worker without COACH_REDIS_URL and two with it, a graceful
timeout longer than the longest reply, the coach's logging (COACH_LOG_FORMAT,
COACH_LOG_LEVEL) and its access log. Options on the command line win
(`--workers 4`, `--bind 0.0.0.0:8000`).
"""

from coach.metrics import prepare_metrics_folder
from coach.serving import gunicorn_settings

bind = "127.0.0.1:8000"
# Now, in the master, before any worker builds an app: the metrics of all the
# workers go to files in one folder (see coach/metrics.py).
prepare_metrics_folder()
# Gunicorn reads the names this module defines as its settings.
globals().update(gunicorn_settings())
