"""The `openai` provider reads a reply's SSE stream itself (`coach.providers.openai_stream`):
the parser on its own, then the provider against the scripted fake model over real HTTP,
with events split across writes, comments, an error inside the stream, a reply without a
finish reason, and the connection reused after a whole reply."""

from __future__ import annotations

import json
import threading
import time

import pytest

from coach.errors import ModelUnavailable
from coach.providers import ChatPrompt, Completion, ReplyInterrupted
from coach.providers.openai_chat import OpenAIProvider
from coach.providers.openai_stream import StreamedReply, StreamFailed, event_data, reply_texts

PROMPT = ChatPrompt(system="Be kind.", history=(), user_message="I did not get the job.")


def chunk(text: str | None = None, finish: str | None = None, **extra: object) -> str:
    delta = {"content": text} if text is not None else {}
    return json.dumps(
        {"model": "m-1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]} | extra
    )


@pytest.mark.parametrize(
    ("lines", "events"),
    [
        (["data: a", "", "data: b", ""], ["a", "b"]),
        # The space after the colon is optional; a data line split in two joins with \n.
        (["data:a", "data: b", ""], ["a\nb"]),
        # Comments (keep-alives) and other fields are skipped; blank runs are harmless.
        ([": keep-alive", "", "event: message", "id: 7", "data: x", "", "", ""], ["x"]),
        # [DONE] ends the stream: what follows is not read.
        (["data: a", "", "data: [DONE]", "", "data: b", ""], ["a"]),
        # A last event without its blank line still counts.
        (["data: a", "", "data: b"], ["a", "b"]),
    ],
)
def test_event_data_follows_the_sse_format(lines, events):
    assert list(event_data(lines)) == events


def test_reply_texts_notes_model_usage_and_finish():
    lines = [
        f"data: {chunk('Hello')}",
        "",
        f"data: {chunk(' there')}",
        "",
        f"data: {chunk(finish='stop')}",
        "",
        "data: "
        + json.dumps(
            {"model": "m-2", "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 2}}
        ),
        "",
        "data: [DONE]",
        "",
    ]
    seen = StreamedReply()
    assert list(reply_texts(lines, seen)) == ["Hello", " there"]
    assert (seen.model, seen.prompt_tokens, seen.completion_tokens, seen.finished) == (
        "m-2",
        9,
        2,
        True,
    )


def test_reply_texts_without_a_finish_reason_is_not_finished():
    seen = StreamedReply()
    assert list(reply_texts([f"data: {chunk('Hi')}", ""], seen)) == ["Hi"]
    assert not seen.finished


def test_an_error_inside_the_stream_raises():
    lines = [f"data: {chunk('Hi')}", "", 'data: {"error": {"message": "overloaded"}}', ""]
    texts = reply_texts(lines, StreamedReply())
    assert next(texts) == "Hi"
    with pytest.raises(StreamFailed, match="overloaded"):
        next(texts)


def test_a_payload_that_is_not_json_raises_value_error():
    with pytest.raises(ValueError):
        list(reply_texts(["data: {not json", ""], StreamedReply()))


# Through the provider, over real HTTP ---------------------------------------------


@pytest.fixture
def openai_provider(fake_model):
    return OpenAIProvider(
        api_key="sk-test",
        base_url=fake_model.url,
        model="fake-model",
        timeout=10,
        attempts=1,
        max_reply_tokens=200,
    )


def raw_stream(fake_model, pieces: list[bytes], *, end: bool = True) -> None:
    """A streamed reply whose body is written in these pieces, each its own chunk of
    the chunked encoding, with a pause between them (so that they arrive apart)."""

    def behave(handler) -> None:
        handler.start_stream()
        for piece in pieces:
            handler.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            handler.wfile.flush()
            time.sleep(0.02)
        if end:
            handler.end_stream()

    fake_model._enqueue(behave)


def test_an_event_split_across_writes_is_read_whole(fake_model, openai_provider):
    first, second = chunk("Hello"), chunk(" again", finish="stop")
    raw_stream(
        fake_model,
        [
            b": keep-alive\n\n",
            f"data: {first[:10]}".encode(),
            f"{first[10:]}\n".encode(),
            b"\n",
            f"data: {second}\n\ndata: [DONE]\n\n".encode(),
        ],
    )
    completion = Completion()
    assert list(openai_provider.stream_reply(PROMPT, completion)) == ["Hello", " again"]
    assert completion.model == "m-1"


def test_an_error_mid_stream_breaks_the_reply_off(fake_model, openai_provider):
    raw_stream(
        fake_model,
        [
            f"data: {chunk('Part')}\n\n".encode(),
            b'data: {"error": {"message": "server overloaded"}}\n\n',
        ],
    )
    texts = openai_provider.stream_reply(PROMPT, Completion())
    assert next(texts) == "Part"
    with pytest.raises(ReplyInterrupted):
        next(texts)


def test_an_error_before_any_text_is_a_model_failure(fake_model, openai_provider):
    raw_stream(fake_model, [b'data: {"error": {"message": "no capacity"}}\n\n'])
    with pytest.raises(ModelUnavailable) as failure:
        list(openai_provider.stream_reply(PROMPT, Completion()))
    assert not isinstance(failure.value, ReplyInterrupted)


def test_a_reply_without_a_finish_reason_is_kept_as_partial(fake_model, openai_provider):
    fake_model.enqueue_cut_stream(["Half a", " sentence"])
    texts = []
    with pytest.raises(ReplyInterrupted):
        for text in openai_provider.stream_reply(PROMPT, Completion()):
            texts.append(text)
    assert texts == ["Half a", " sentence"]


def test_a_whole_reply_records_usage_and_the_model(fake_model, openai_provider):
    fake_model.enqueue_stream(["Hi", " there."], usage=(12, 3), model="served-model")
    completion = Completion()
    assert "".join(openai_provider.stream_reply(PROMPT, completion)) == "Hi there."
    assert (completion.model, completion.prompt_tokens, completion.completion_tokens) == (
        "served-model",
        12,
        3,
    )
    sent = fake_model.reply_requests[-1].body
    assert sent["stream"] is True and sent["messages"][-1]["content"] == PROMPT.user_message


def test_a_cut_from_another_thread_ends_the_stream_before_the_next_chunk(
    fake_model, openai_provider
):
    fake_model.enqueue_stream(["First words. ", "Never ", "read."], delay=1.0)
    completion = Completion()
    texts = openai_provider.stream_reply(PROMPT, completion)
    assert next(texts) == "First words. "

    # As the client watch does when the seeker goes: from another thread, while
    # the reader waits for a chunk that is a second away.
    cutter = threading.Timer(0.1, completion.request.cut)
    cutter.start()
    waited = time.monotonic()
    with pytest.raises(ReplyInterrupted):
        next(texts)
    assert time.monotonic() - waited < 0.6
    cutter.join()
    # The model sees its stream abandoned at its next write.
    deadline = time.monotonic() + 3
    while fake_model.abandoned_streams == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert fake_model.abandoned_streams == 1


def test_a_cut_asked_for_before_the_request_opens_cuts_it_as_it_opens(fake_model, openai_provider):
    fake_model.enqueue_stream(["Never ", "read."], delay=1.0)
    completion = Completion()
    completion.request.cut()
    waited = time.monotonic()
    with pytest.raises(ModelUnavailable):
        next(openai_provider.stream_reply(PROMPT, completion))
    assert time.monotonic() - waited < 0.6
