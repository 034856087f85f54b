"""`fake_server.py`'s model, writing its reply as sentences a reader would see.

`FakeServer.reply_text` repeats "Thank you for telling me that." with no space
after the full stop ("that.Thank"), which the coach's output guard reads as one
sentence that never ends: it holds the whole reply back and sends it as one delta
at the end. That measures the guard's wait for a sentence, not the relay. This
fake writes the same words with a space after each full stop, so that the guard
releases a sentence every six tokens, as it would a real model's reply.

    python benchmarks/sentence_fake.py --port 8990 --first-token-ms 300
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_server import FakeServer, Pace

SENTENCE = ("Thank", " you", " for", " telling", " me", " that.")


class SentenceFake(FakeServer):
    def reply_text(self) -> list[str]:
        """One piece a token, a sentence every six; the space after a full stop starts
        the next sentence's first token, as tokenizers cut it."""
        pieces = []
        for position in range(self.pace.reply_tokens):
            word = SENTENCE[position % len(SENTENCE)]
            pieces.append(" Thank" if word == "Thank" and position else word)
        return pieces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8990)
    parser.add_argument("--first-token-ms", type=float, default=300.0)
    parser.add_argument("--tokens-per-second", type=float, default=100.0)
    parser.add_argument("--reply-tokens", type=int, default=100)
    args = parser.parse_args()
    pace = Pace(args.first_token_ms, args.tokens_per_second, args.reply_tokens)
    server = SentenceFake(pace, port=args.port).start()
    print(f"fake model at {server.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
